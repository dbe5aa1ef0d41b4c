"""HO Appendix E: the d = 1 algorithm keeps O(sqrt(n)) memory and estimates attention without bias."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches import ExactCache
from caches.attention import softmax
from caches.params import ParameterError
from caches.scalar import ScalarGumbelCache
from caches.spec import build, object_spec
from protocols.game import play
from protocols.stats import fit_slope
from reductions.appE import chi_square_test, exact_scalar_attention, scalar_stream
from reductions.thm6 import ExactOutputReduction


def filled(n: int, seed: int = 0, **params) -> tuple[ScalarGumbelCache, np.ndarray, np.ndarray]:
    keys, values = scalar_stream(n, np.random.default_rng([99, n]))
    cache = ScalarGumbelCache(seed=seed, **params)
    cache.extend(keys * 0, keys, values)
    return cache, keys, values


def test_round_trip_probe_and_step_agree():
    cache, _, _ = filled(500, samples=8)
    message = cache.to_bytes()
    rebuilt = ScalarGumbelCache.from_bytes(message, **cache.params())
    assert rebuilt.to_bytes() == message
    assert cache.memory_bits == 8 * len(message)
    Q = np.array([[1.3], [-0.7], [0.0]])
    K, V = np.array([[0.2], [-1.0], [0.5]]), np.array([[1.0], [0.3], [2.0]])
    outputs = cache.probe(Q, K, V)
    assert cache.to_bytes() == message  # probing leaves the state alone
    np.testing.assert_array_equal(rebuilt.probe(Q, K, V), outputs)
    for r in range(3):
        copy = ScalarGumbelCache.from_bytes(message, **cache.params())
        np.testing.assert_array_equal(copy.step(Q[r], K[r], V[r]), outputs[r])


def test_stepping_keeps_exact_top_and_bottom_buffers():
    """Token by token, the buffers stay exact top/bottom sets: every other key is beyond their extremes."""
    rng = np.random.default_rng(1)
    cache = ScalarGumbelCache(seed=1)
    keys = rng.standard_normal(400)
    for k in keys:
        cache.step(np.array([0.5]), np.array([k]), np.array([1.0]))
    top, bottom = cache._top.keys, cache._bottom.keys
    assert len(top) >= 10 and len(bottom) >= 10
    others_top = np.setdiff1d(keys, top)
    others_bottom = np.setdiff1d(keys, bottom)
    assert others_top.max() <= top.min() and others_bottom.min() >= bottom.max()


def test_only_scalars():
    with pytest.raises(ParameterError, match="d must be 1"):
        ScalarGumbelCache().extend(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="groups"):
        ScalarGumbelCache(groups=0)


def test_memory_grows_as_sqrt_n():
    """Memory slope in [0.4, 0.6] over n = 256..65536, and far below the exact cache at the end."""
    ns = [256, 1024, 4096, 16384, 65536]
    bits = [filled(n)[0].memory_bits for n in ns]
    assert 0.4 <= fit_slope(ns, bits) <= 0.6
    assert bits[-1] < (8 * 9 + 128 * ns[-1]) / 8


def test_single_samples_are_exact_softmax_draws():
    """One sample per fresh cache (fresh reservoir): chi-square against the softmax; false alarm 1e-3.

    Values identify tokens; the current token (key 0, value 0) is a cell too.
    """
    n = 100
    rng = np.random.default_rng(3)
    keys = rng.standard_normal((n, 1))
    values = np.arange(1.0, n + 1)[:, None]
    q = 1.5
    counts = np.zeros(n + 1)
    for seed in range(3000):
        cache = ScalarGumbelCache(samples=1, groups=1, seed=seed)
        cache.extend(keys * 0, keys, values)
        v = cache.probe(np.array([[q]]), np.zeros((1, 1)), np.zeros((1, 1)))[0, 0]
        counts[int(round(v)) - 1 if v > 0 else n] += 1
    p = softmax(np.r_[q * keys[:, 0], 0.0])
    assert chi_square_test(counts, p)["p_value"] >= 1e-3


def test_means_are_unbiased():
    """groups=1 estimates over 200 independent caches: |mean - exact| < 4 standard errors per query
    (false alarm about 2.5e-4 for the 4 queries)."""
    n = 2048
    keys, values = scalar_stream(n, np.random.default_rng(4))
    queries = np.array([-2.0, -0.5, 0.5, 2.0])
    exact = np.array([exact_scalar_attention(q, keys, values) for q in queries])
    estimates = []
    for seed in range(200):
        cache = ScalarGumbelCache(samples=8, groups=1, seed=seed)
        cache.extend(keys * 0, keys, values)
        estimates.append(cache.probe(queries[:, None], np.zeros((4, 1)), np.zeros((4, 1)))[:, 0])
    estimates = np.array(estimates)
    se = estimates.std(axis=0, ddof=1) / math.sqrt(len(estimates))
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 4 * se)


def test_median_of_means_shrinks_the_failure_rate():
    """P(relative error > 0.1) with 9 groups is below that with 1 group (100 caches each)."""
    n = 2048
    keys, values = scalar_stream(n, np.random.default_rng(5))
    q = np.array([[1.0]])
    exact = exact_scalar_attention(1.0, keys, values)

    def fail_rate(groups):
        errors = []
        for seed in range(100):
            cache = ScalarGumbelCache(samples=16, groups=groups, seed=seed)
            cache.extend(keys * 0, keys, values)
            errors.append(abs(cache.probe(q, np.zeros((1, 1)), np.zeros((1, 1)))[0, 0] - exact) / exact)
        return np.mean(np.array(errors) > 0.1)

    single, boosted = fail_rate(1), fail_rate(9)
    assert single > 0.05 and boosted < single / 3


def test_index_game_at_d1_respects_fano_and_gives_chance(isolated_bob):
    """At d = 1 Theorem 6's reduction has no working C (scalar keys cannot isolate a row): both the
    d = 1 algorithm and the exact cache decode near chance, below the Fano frontier."""
    reduction = ExactOutputReduction(256, 1, C=2 * math.log(256))
    for cache in (ScalarGumbelCache(seed=0), ExactCache("float64")):
        point, _ = play(reduction, build(object_spec(cache)), trials=1, seed=1, bob=isolated_bob)
        assert point["accuracy_low"] <= point["fano_max_accuracy"]
        assert point["accuracy"] < 0.6


def test_scalar_experiment_repeats_the_memory_stream():
    """Experiment ``scalar``: per n, ``draws`` fresh streams of the memory measurement, draw 0 the figure's."""
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import run_sweep
    from reductions.appE import scalar_headline

    config = {"n_values": [256, 4096], "seeds": 4, "mom_groups": [1], "mom_seeds": 4, "game_n_values": [], "draws": 3}
    summary = run_sweep(EXPERIMENTS["scalar"], config, 0, None)["summary"]
    for row in summary["memory"]:
        assert row["draws"] == 3 and len(row["memory_bits_draws"]) == len(row["relative_error_mean_draws"]) == 3
        assert row["memory_bits_draws"][0] == row["memory_bits"]
        assert row["relative_error_mean_draws"][0] == row["relative_error_mean"]
        assert len(set(row["relative_error_mean_draws"])) == 3  # fresh streams and caches
        assert all(0 < e < 0.2 for e in row["relative_error_mean_draws"])
    big, small = summary["memory"][-1]["memory_bits_draws"], summary["memory"][0]["memory_bits_draws"]
    assert min(big) > 2 * max(small)  # O(sqrt n): 16 times the keys, about 4 times the memory
    text = scalar_headline(summary)
    assert text.count("(3 draws)") == 1 and "(6 draws) over the n grid (3 streams at each of 2 n)" in text
    assert "single draw" not in text
