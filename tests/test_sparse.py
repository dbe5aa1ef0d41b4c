"""caches/sparse.py: the players that use sparsity (contract), and Corollary 16 against them."""

from __future__ import annotations

import numpy as np
import pytest

from barriers.experiments import EXPERIMENTS
from caches.params import ParameterError
from caches.sparse import SparseValueCache, TopKHashedCache
from protocols.game import InProcessPlayers, play_trial
from protocols.runner import run_sweep
from reductions.cor16 import SPARSE_FAMILIES, cor16_headline
from reductions.thm6 import ExactOutputReduction

CACHES = [
    lambda: TopKHashedCache(hash_bits=12, parity=4, group_size=8, k=3),
    lambda: TopKHashedCache(hash_bits=10, k=1, group_size=4),
    lambda: SparseValueCache(hash_bits=12, keep=3, margin=1.0),
    lambda: SparseValueCache(hash_bits=9, keep=40, margin=1e6),
]


def _stream(n=21, d=16, seed=0):
    rng = np.random.default_rng([seed, 77])
    return rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((n, d))


@pytest.mark.parametrize("make", CACHES)
def test_step_equals_extend_and_round_trip(make):
    Q, K, V = _stream()
    stepped, extended = make(), make()
    for q, k, v in zip(Q[:-1], K[:-1], V[:-1]):
        stepped.step(q, k, v)
    extended.extend(Q[:-1], K[:-1], V[:-1])
    assert stepped.to_bytes() == extended.to_bytes()
    message = extended.to_bytes()
    rebuilt = type(extended).from_bytes(message, **extended.params())
    assert rebuilt.to_bytes() == message
    np.testing.assert_allclose(rebuilt.probe(Q[-3:], K[-3:], V[-3:]), extended.probe(Q[-3:], K[-3:], V[-3:]))
    np.testing.assert_allclose(stepped.step(Q[-1], K[-1], V[-1]), extended.probe(Q[-1:], K[-1:], V[-1:])[0])
    assert extended.memory_bits <= extended.budget_bits(len(Q) - 1, Q.shape[1])


def test_sparse_values_keep_the_largest_entries_and_empty_probe_is_own_value():
    cache = SparseValueCache(hash_bits=8, keep=2, margin=1e6)
    V = np.array([[0.1, -3.0, 2.0, 0.5], [1.0, 0.0, 0.0, -1.0]])
    q = np.zeros((1, 4))
    np.testing.assert_allclose(cache.probe(q, q, V[:1]), V[:1])  # nothing stored: own value
    cache.extend(np.zeros((2, 4)), np.ones((2, 4)), V)
    np.testing.assert_allclose(cache._values(), [[0.0, -2.5, 2.5, 0.0], [1.0, 0.0, 0.0, -1.0]], rtol=1e-3)
    with pytest.raises(ParameterError):
        SparseValueCache(keep=0)
    with pytest.raises(ParameterError):
        TopKHashedCache(k=0)


def test_the_players_read_only_a_few_values_per_query():
    """They use the sparsity: top-k reads exactly k stored values per query, the thresholded cache
    far fewer than n (counted by the caches on the game's own probes)."""
    n, d = 256, 128
    reduction = ExactOutputReduction(n, d, C=None)
    players = InProcessPlayers()
    for cache, most in ((TopKHashedCache(hash_bits=14, parity=12, k=4), 4), (SparseValueCache(hash_bits=14), 8)):
        seen = {}
        original = type(cache)._count_reads

        def spy(self, keep, original=original):
            original(self, keep)
            seen["read"], seen["queries"] = self.values_read, self.queries_answered

        type(cache)._count_reads = spy
        try:
            play_trial(reduction, cache, 0, 0, players)
        finally:
            type(cache)._count_reads = original
        assert seen["queries"] == n
        if isinstance(cache, TopKHashedCache):
            assert seen["read"] == most * n
        else:
            assert seen["read"] <= most * n < n * n  # thresholded: a handful of tokens per query


def test_sparse_players_stay_under_the_frontier_below_nd_bits(isolated_bob):
    """Corollary 16 against players that use the sparsity: on 0.99-sparse instances every sparse
    player below ratio 1 is within Fano's bound and its 99% Wilson interval lies below 99%."""
    config = {"log2_n_values": [8], "d_values": [128], "tau": 1e-3, "codebook": "normalized", "trials": 1}
    summary = run_sweep(EXPERIMENTS["cor16"], config, 0, isolated_bob)["summary"]
    assert all(cell["promise_holds"] for cell in summary["cells"])
    sparse = [p for p in summary["points"] if p["family"] in SPARSE_FAMILIES]
    assert {p["family"] for p in sparse} == set(SPARSE_FAMILIES)
    below = [p for p in sparse if p["memory_ratio"] < 1.0]
    assert len(below) == len(sparse) == 4
    assert min(p["memory_ratio"] for p in below) < 0.4
    for point in below:
        assert point["accuracy_low"] <= point["fano_max_accuracy"] + 1e-12, point["cache"]
        assert point["accuracy_high"] < 0.99, point["cache"]
    assert "players that use the sparsity" in cor16_headline(summary)
