"""Tensor caches below n·d bits (caches/tensor.py §6): contract, memory, and TA's Ω(nd) tested from below."""

from __future__ import annotations

import numpy as np
import pytest

from caches.params import ParameterError
from caches.tensor import HashedBitsFourCache, PooledQuantizedFourCache, pool_rows, unpool_rows
from protocols.game import InProcessPlayers
from protocols.runner import run_sweep
from reductions.spike import SUCCESS_ACCURACY

CACHES = [PooledQuantizedFourCache(bits=2, pool=3, group_size=4), PooledQuantizedFourCache(bits=1, pool=1, group_size=3),
          HashedBitsFourCache(hash_bits=9, parity=0, group_size=4), HashedBitsFourCache(hash_bits=12, parity=6, group_size=3)]


def _stream(rng, n, d):
    return tuple(rng.standard_normal((n, d)) for _ in range(5))


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_contract_step_equals_extend_and_round_trip(cache):
    rng = np.random.default_rng(11)
    tokens = _stream(rng, 10, 40)
    stepped, batched = (type(cache)(**cache.params()) for _ in range(2))
    outputs = np.array([stepped.step(*(a[t] for a in tokens)) for t in range(10)])
    batched.extend(*tokens)
    message = stepped.to_bytes()
    assert batched.to_bytes() == message and stepped.memory_bits == 8 * len(message)
    rebuilt = type(cache).from_bytes(message, **cache.params())
    assert rebuilt.to_bytes() == message
    probes = _stream(rng, 5, 40)
    before = stepped.probe(*probes)
    assert stepped.to_bytes() == message
    np.testing.assert_allclose(rebuilt.probe(*probes), before, atol=1e-12)
    assert np.all(np.isfinite(outputs))
    np.testing.assert_allclose(type(cache).from_bytes(message, **cache.params()).step(*(a[0] for a in probes)),
                               before[0], atol=1e-12)
    empty = type(cache)(**cache.params())
    assert type(cache).from_bytes(empty.to_bytes(), **cache.params()).to_bytes() == empty.to_bytes()


def test_pooling_and_constant_groups():
    rows = np.arange(10.0).reshape(2, 5)
    np.testing.assert_allclose(pool_rows(rows, 2), [[0.5, 2.5, 4.0], [5.5, 7.5, 9.0]])
    np.testing.assert_allclose(unpool_rows(pool_rows(rows, 2), 2, 5), [[0.5, 0.5, 2.5, 2.5, 4], [5.5, 5.5, 7.5, 7.5, 9]])
    # Constant K2 and V2 cost only their levels: the message grows by the V1 bits alone.
    n, d = 64, 64
    rng = np.random.default_rng(2)
    ones = np.ones((n, d))
    bits = rng.integers(0, 2, (n, d)).astype(float)
    cache = HashedBitsFourCache(hash_bits=10, group_size=32)
    cache.extend(np.zeros((n, d)), rng.standard_normal((n, d)), ones, bits, ones)
    levels = 3 * 2 * 2 * 2  # three binarized arrays, two groups, two float16 levels
    assert len(cache.to_bytes()) == 9 + 4 + n * 10 // 8 + n * d // 8 + levels
    np.testing.assert_array_equal(cache._stored()[1], bits)
    for make in (lambda: PooledQuantizedFourCache(pool=0), lambda: HashedBitsFourCache(parity=13)):
        with pytest.raises(ParameterError):
            make()


@pytest.fixture(scope="module")
def game():
    from barriers.experiments import EXPERIMENTS

    return run_sweep(EXPERIMENTS["tensor_game"], {"n": 128, "d": 128, "trials": 1, "subgen": [[2.0, 1, 1]]},
                     0, InProcessPlayers())["summary"]


def test_no_tensor_cache_below_nd_bits_beats_the_frontier(game):
    """TA's Ω(nd) from below: caches from ratio ≈ 0.2 to 1 all sit under Fano's bound (99% Wilson)."""
    below = [p for p in game["points"] if p["memory_ratio"] < 1.0]
    assert min(p["memory_ratio"] for p in below) < 0.3
    assert {p["family"] for p in below} >= {"PooledQuantizedFourCache", "HashedBitsFourCache"}
    for point in below:
        assert point["accuracy_low"] <= point["fano_max_accuracy"], point["cache"]
        assert point["accuracy_high"] < SUCCESS_ACCURACY, point["cache"]


def test_designed_tensor_cache_is_near_the_frontier_and_decodes_at_ratio_below_two(game):
    designed = [p for p in game["points"] if p["family"] == "HashedBitsFourCache"]
    decoded = [p for p in designed if p["accuracy_low"] >= SUCCESS_ACCURACY and p["memory_ratio"] <= 2.0]
    assert decoded, [(p["memory_ratio"], p["accuracy_low"]) for p in designed]
    below = [p for p in designed if p["memory_ratio"] < 1.0]
    assert below and all(p["accuracy_low"] >= 0.85 and p["fano_max_accuracy"] - p["accuracy"] < 0.07 for p in below)
    pooled = [p for p in game["points"] if p["family"] == "PooledQuantizedFourCache"]
    assert max(p["memory_ratio"] for p in pooled) > 2.0  # the quantized players span 0.2 to above 2
