"""The cache contract, for every cache of the foundation: serialization, probe, memory, codecs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caches import ExactCache, QuantizedCache, RandomEvictionCache, WindowCache, attention
from caches.adversary import AdversarialApproximation
from caches.base import StreamingAttention
from caches.codec import MessageError, pack_codes, packed_size, unpack_codes
from caches.params import ParameterError
from caches.quantized import dequantize, quantize
from caches.spec import build, object_spec
from caches.window_designed import WindowHashedBitsCache

CACHES = [
    ExactCache("float64"),
    ExactCache("float32"),
    ExactCache("float16"),
    QuantizedCache(bits=1, group_size=8),
    QuantizedCache(bits=3, group_size=16),
    QuantizedCache(bits=8, group_size=64),
    WindowCache(window=17, dtype="float32"),
    RandomEvictionCache(budget=13, seed=5, dtype="float64"),
    AdversarialApproximation(ExactCache("float64"), eta=0.2, threshold=0.3),
    WindowHashedBitsCache(window=17, hash_bits=16),
    WindowHashedBitsCache(window=1),
    WindowHashedBitsCache(window=40, hash_bits=8, norm_bits=4, outside_bits=3, seed=3),
    WindowHashedBitsCache(window=200),  # never fills: no outside tokens
]


def stream(n=90, d=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)) / 2, rng.normal(size=(n, d))


def fresh(cache):
    return build(object_spec(cache))


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_round_trip_gives_same_outputs(cache):
    player = fresh(cache)
    player.extend(*stream())
    rebuilt = type(player).from_bytes(player.to_bytes(), **player.params())
    probe = stream(n=7, seed=1)
    np.testing.assert_array_equal(player.probe(*probe), rebuilt.probe(*probe))
    assert rebuilt.to_bytes() == player.to_bytes()


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_probe_leaves_state_unchanged_and_matches_step(cache):
    player = fresh(cache)
    player.extend(*stream())
    before = player.to_bytes()
    Q, K, V = stream(n=5, seed=2)
    outputs = player.probe(Q, K, V)
    assert player.to_bytes() == before
    for r in range(5):
        copy = type(player).from_bytes(before, **player.params())
        np.testing.assert_allclose(copy.step(Q[r], K[r], V[r]), outputs[r], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_default_probe_agrees_with_vectorized_probe(cache):
    player = fresh(cache)
    player.extend(*stream())
    Q, K, V = stream(n=4, seed=3)
    np.testing.assert_allclose(StreamingAttention.probe(player, Q, K, V), player.probe(Q, K, V), atol=1e-12)


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_memory_is_the_message_length(cache):
    player = fresh(cache)
    player.extend(*stream())
    assert player.memory_bits == 8 * len(player.to_bytes())


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_extend_equals_stepping(cache):
    Q, K, V = stream()
    batch, stepped = fresh(cache), fresh(cache)
    batch.extend(Q, K, V)
    for q, k, v in zip(Q, K, V):
        stepped.step(q, k, v)
    assert batch.to_bytes() == stepped.to_bytes()


def test_repr_reproduces_the_cache():
    from caches import ExactCache, QuantizedCache  # noqa: F401 - names for eval

    for cache in CACHES:
        assert repr(eval(repr(cache))) == repr(cache)


def test_exact_cache_is_exact_attention():
    Q, K, V = stream(n=40)
    cache = ExactCache()
    for t in range(40):
        out = cache.step(Q[t], K[t], V[t])
        np.testing.assert_allclose(out, attention(Q[t], K[: t + 1], V[: t + 1]), rtol=1e-12)


def test_exact_memory_is_two_n_d_floats_plus_header():
    cache = ExactCache("float32")
    cache.extend(*stream(n=50, d=8))
    assert cache.memory_bits == 2 * 50 * 8 * 32 + 8 * 9


def test_window_keeps_only_last_tokens():
    Q, K, V = stream(n=30, d=4)
    cache = WindowCache(window=5, dtype="float64")
    cache.extend(Q, K, V)
    q = np.ones(4)
    expected = attention(q, np.vstack([K[-5:], np.zeros(4)]), np.vstack([V[-5:], np.zeros(4)]))
    np.testing.assert_allclose(cache.probe(q[None], np.zeros((1, 4)), np.zeros((1, 4)))[0], expected)


def test_reservoir_is_uniform():
    # Each of 40 tokens should be kept with probability budget/n = 1/4 across seeds.
    d, n, budget, seeds = 1, 40, 10, 400
    counts = np.zeros(n)
    for seed in range(seeds):
        cache = RandomEvictionCache(budget=budget, seed=seed, dtype="float64")
        values = np.arange(n, dtype=float)[:, None]
        cache.extend(np.zeros((n, d)), np.zeros((n, d)), values)
        counts[cache._stored()[1][:, 0].astype(int)] += 1
    expected = seeds * budget / n
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 80.0  # chi-square, 39 dof: P(chi2 > 80) < 1e-4 under uniformity


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ExactCache("float8"), "dtype"),
        (lambda: QuantizedCache(bits=0), "bits"),
        (lambda: QuantizedCache(bits=9), "bits"),
        (lambda: QuantizedCache(bits=2.5), "bits"),
        (lambda: WindowCache(window=-3), "window"),
        (lambda: RandomEvictionCache(budget=0), "budget"),
        (lambda: AdversarialApproximation(ExactCache(), eta=1.0, threshold=0.5), "eta"),
    ],
)
def test_bad_parameters_are_named(make, message):
    with pytest.raises(ParameterError, match=message):
        make()


def test_truncated_message_is_rejected():
    cache = ExactCache()
    cache.extend(*stream(n=5, d=3))
    data = cache.to_bytes()
    with pytest.raises(MessageError):
        ExactCache.from_bytes(data[:-1])
    with pytest.raises(MessageError):
        ExactCache.from_bytes(data + b"\0")


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(1, 8), data=st.data())
def test_bit_packing_round_trips(bits, data):
    codes = np.array(data.draw(st.lists(st.integers(0, 2**bits - 1), max_size=200)), dtype=np.uint8)
    packed = pack_codes(codes, bits)
    assert len(packed) == packed_size(bits, codes.size)
    np.testing.assert_array_equal(unpack_codes(packed, bits, codes.size), codes)


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(1, 8), seed=st.integers(0, 2**32 - 1), spread=st.floats(1e-3, 1e3))
def test_quantization_error_is_half_a_step(bits, seed, spread):
    x = np.random.default_rng(seed).normal(scale=spread, size=(16, 9))
    codes, low, scale = quantize(x, bits, axis=1)
    error = np.abs(dequantize(codes, low, scale, axis=1) - x)
    # half a quantization step, plus float16 rounding of the minimum and of the scale (relative
    # 2^-11 for normal numbers, absolute 2^-25 in the subnormal range below 2^-14)
    step = scale.astype(float)[:, None]
    rounding = np.abs(low.astype(float))[:, None] * 2**-10 + 2**-24
    bound = step / 2 + rounding + (2**bits) * (step * 2**-10 + 2**-24) + 1e-12
    assert np.all(error <= bound)
