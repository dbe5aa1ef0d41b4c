"""Tests for protocols.fano: binary entropy, its inverse and the HO Theorem 5 frontier."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caches.params import ParameterError
from protocols.fano import (
    binary_entropy,
    frontier_curve,
    inverse_binary_entropy,
    max_accuracy,
    min_memory_ratio,
)


def _h2_reference(p: float) -> float:
    if p in (0.0, 1.0):
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def test_binary_entropy_known_values():
    assert binary_entropy(0) == 0.0
    assert binary_entropy(1) == 0.0
    assert binary_entropy(0.5) == pytest.approx(1.0, abs=1e-15)
    assert binary_entropy(0.25) == pytest.approx(0.8112781244591328, abs=1e-15)
    assert isinstance(binary_entropy(0.3), float)


def test_binary_entropy_vectorized_and_symmetric():
    p = np.linspace(0.0, 1.0, 101)
    h = binary_entropy(p)
    assert isinstance(h, np.ndarray) and h.shape == p.shape
    np.testing.assert_allclose(h, [_h2_reference(x) for x in p], atol=1e-14)
    np.testing.assert_allclose(h, binary_entropy(1.0 - p), atol=1e-14)


def test_binary_entropy_tiny_p_is_accurate():
    p = 1e-12
    expected = p * (math.log2(1 / p) + 1 / math.log(2))  # first-order expansion
    assert binary_entropy(p) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("bad", [-0.1, 1.1, float("nan"), float("inf")])
def test_binary_entropy_rejects_out_of_range(bad):
    with pytest.raises(ParameterError, match="p"):
        binary_entropy(bad)
    with pytest.raises(ParameterError, match="p"):
        binary_entropy(np.array([0.2, bad]))


def test_inverse_on_grid():
    h = np.linspace(0.0, 1.0, 2001)
    p = inverse_binary_entropy(h)
    assert np.all((p >= 0.0) & (p <= 0.5))
    np.testing.assert_allclose(binary_entropy(p), h, atol=1e-12)
    assert np.all(np.diff(p) > 0.0)
    assert inverse_binary_entropy(0.0) == 0.0
    assert inverse_binary_entropy(1.0) == 0.5


def _mp_inverse(h: float) -> float:
    """The exact inverse of H_2 on [0, 1/2] at h, by 200 mpmath bisection steps at 60 digits."""
    import mpmath

    with mpmath.workdps(60):
        target = mpmath.mpf(h)
        lo, hi = (target / 10**6, target) if h <= 0.5 else (mpmath.mpf(0), mpmath.mpf("0.5"))
        for _ in range(200):
            mid = mpmath.sqrt(lo * hi) if h <= 0.5 else (lo + hi) / 2
            value = -(mid * mpmath.log(mid) + (1 - mid) * mpmath.log(1 - mid)) / mpmath.log(2)
            lo, hi = (mid, hi) if value < target else (lo, mid)
        return float(lo)


@pytest.mark.parametrize("k", [2, 10, 20, 30, 40, 50])
def test_inverse_is_accurate_near_one(k):
    # H_2 is flat at 1/2, so a naive bisection on H_2(p) < h loses half the digits of p.
    # Compare with the exact inverse of the (exactly representable) h = 1 - 2^-k.
    h = 1.0 - 2.0**-k
    assert inverse_binary_entropy(h) == pytest.approx(_mp_inverse(h), abs=1e-15)


def test_inverse_is_accurate_near_zero():
    for h in (1e-300, 1e-30, 1e-8, 0.3):
        assert inverse_binary_entropy(h) == pytest.approx(_mp_inverse(h), rel=1e-12, abs=1e-300)


def test_inverse_rejects_out_of_range():
    with pytest.raises(ParameterError, match="h"):
        inverse_binary_entropy(1.5)
    with pytest.raises(ParameterError, match="h"):
        inverse_binary_entropy([0.1, -0.2])


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0.0, max_value=0.5, allow_nan=False))
def test_inverse_round_trip_property(p):
    h = binary_entropy(p)
    q = inverse_binary_entropy(h)
    assert 0.0 <= q <= 0.5
    assert abs(binary_entropy(q) - h) <= 1e-12
    # H_2 is flat at 1/2, so the rounding of h (~1e-16) moves p by about 1e-16 / H_2'(p).
    slope = math.log2((1 - p) / p) if 0.0 < p < 0.5 else math.inf
    tol = 1e-12 + min(4e-16 / slope if slope > 0 else math.inf, 2e-8)
    assert abs(q - p) <= tol


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
def test_inverse_property_on_h(h):
    q = inverse_binary_entropy(h)
    assert 0.0 <= q <= 0.5
    assert abs(binary_entropy(q) - h) <= 1e-12


def test_max_accuracy_endpoints():
    assert max_accuracy(0, 1000) == 0.5
    assert max_accuracy(1000, 1000) == 1.0
    assert max_accuracy(5000, 1000) == 1.0
    # H_2(0.11) ~ 0.5: half the bits buy about 89% accuracy
    assert max_accuracy(500, 1000) == pytest.approx(1 - 0.11002786443835955, abs=1e-12)


def test_max_accuracy_is_the_frontier_and_monotone():
    n = 4096
    m = np.arange(0, n + 1, 16)
    acc = max_accuracy(m, n)
    assert isinstance(acc, np.ndarray) and acc.shape == m.shape
    assert np.all(np.diff(acc) > 0.0)
    below = m < n
    np.testing.assert_allclose(binary_entropy(1.0 - acc[below]), 1.0 - m[below] / n, atol=1e-12)


def test_max_accuracy_broadcasts():
    acc = max_accuracy(np.array([[0.0], [8.0]]), np.array([8.0, 16.0, 32.0]))
    assert acc.shape == (2, 3)
    np.testing.assert_allclose(acc[0], 0.5)
    assert acc[1, 0] == 1.0 and acc[1, 1] > acc[1, 2] > 0.5


@pytest.mark.parametrize(
    "memory, bits, name",
    [(-1, 10, "memory_bits"), (1, 0.5, "bits_encoded"), (np.array([1.0, -2.0]), 10, "memory_bits"),
     (1, np.array([4.0, 0.0]), "bits_encoded"), (float("nan"), 10, "memory_bits"), (True, 10, "memory_bits")],
)
def test_max_accuracy_validation(memory, bits, name):
    with pytest.raises(ParameterError, match=name):
        max_accuracy(memory, bits)


def test_frontier_curve_and_converse():
    ratios = np.array([0.0, 0.25, 0.5, 1.0, 3.0])
    curve = frontier_curve(ratios)
    np.testing.assert_allclose(curve, max_accuracy(ratios * 100, 100))
    assert curve[-1] == 1.0 and curve[-2] == 1.0
    # min_memory_ratio inverts the frontier on accuracies in [1/2, 1]
    np.testing.assert_allclose(min_memory_ratio(curve[:3]), ratios[:3], atol=1e-12)
    assert min_memory_ratio(0.3) == 0.0
    with pytest.raises(ParameterError, match="ratios"):
        frontier_curve([-0.5])



def test_frontier_for_covers_the_points_with_margin():
    from protocols.fano import frontier_for

    points = [{"memory_ratio": 3e-6}, {"memory_bits": 64, "bits_encoded": 2}, 0.5, {"memory_ratio": None}]
    frontier = frontier_for(points)
    ratios, accuracy = np.asarray(frontier["ratio"]), np.asarray(frontier["accuracy"])
    assert set(frontier) == {"ratio", "accuracy"} and len(ratios) == len(accuracy)
    assert ratios[0] <= 3e-6 / 4 and ratios[-1] >= 32 * 4 and 1.0 in ratios
    assert np.all(np.diff(ratios) > 0)
    np.testing.assert_array_equal(accuracy, frontier_curve(ratios))
    empty = frontier_for([])
    assert empty["ratio"][0] <= 1e-4 and empty["ratio"][-1] >= 2.0
