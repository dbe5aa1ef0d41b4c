"""The information-theoretic frontier of the INDEX game (HO Theorem 5, docs/theory.md §1).

Alice holds ``x in {0,1}^N`` and sends Bob one message of ``M`` bits; Bob holds ``i`` and
guesses ``x_i``. With ``x`` uniform, Fano's inequality and the chain rule give (HO Theorem 5,
proof in HO Appendix D)::

    M >= I(M; X) >= sum_i [1 - H(X_i | M)] >= N (1 - H_2(delta))

where ``delta`` is Bob's error averaged over uniform ``x`` and uniform ``i``. Hence
``H_2(delta) >= 1 - M/N`` and the best possible average accuracy at budget ratio
``rho = M/N`` is::

    a*(rho) = 1 - H_2^{-1}(1 - rho)   for rho < 1,     a*(rho) = 1   for rho >= 1,

with ``H_2^{-1}`` the inverse of ``H_2`` on ``[0, 1/2]``. The bound holds with public
randomness too. A measured point above this curve means the harness leaked information.

All functions are vectorized: scalars in give Python floats out, arrays in give arrays out.
"""

from __future__ import annotations

import math

import numpy as np

from caches.params import ParameterError, check_real

__all__ = [
    "binary_entropy",
    "inverse_binary_entropy",
    "max_accuracy",
    "min_memory_ratio",
    "frontier_curve",
    "frontier_for",
    "nonuniform_max_accuracy",
]

_LN2 = math.log(2.0)
# 80 bisection steps shrink [0, 1/2] (arithmetic) or [h/1e6, h] (geometric) below the
# spacing of doubles, so the result is the correctly bracketed double (error << 1e-12).
_BISECTION_STEPS = 80


def binary_entropy(p):
    """Binary entropy ``H_2(p) = -p log2 p - (1-p) log2(1-p)`` in bits (HO Theorem 5).

    ``H_2(0) = H_2(1) = 0``. Vectorized over ``p``; ``p`` must lie in ``[0, 1]``.
    """
    arr = _as_checked_array("p", p, 0.0, 1.0)
    out = _h2(arr)
    return _like_input(out, p)


def inverse_binary_entropy(h):
    """The inverse of ``H_2`` restricted to ``[0, 1/2]`` (used in HO Theorem 5's frontier).

    Returns ``p in [0, 1/2]`` with ``H_2(p) = h`` for ``h in [0, 1]``, by vectorized bisection
    to double precision (error far below 1e-12 in ``p``; relative error ~1e-15 for tiny ``h``).

    * ``h <= 1/2``: the root lies in ``[h / 10^6, h]`` (``H_2(p) >= p`` on ``[0, 1/2]``), and the
      bisection is geometric, so tiny ``h`` keep their relative precision.
    * ``h > 1/2``: ``H_2`` is flat at 1/2, so the bisection compares the deficit
      ``1 - H_2(1/2 - t)`` (a cancellation-free series) with ``1 - h`` (exact here) instead
      of ``H_2(p)`` with ``h``, which would lose half the digits of ``p``.
    """
    arr = _as_checked_array("h", h, 0.0, 1.0)
    small = arr <= 0.5
    lo = np.where(small, arr * 1e-6, 0.0)
    hi = np.where(small, arr, 0.5)
    target_high = 1.0 - arr  # exact for h >= 1/2 (Sterbenz)
    for _ in range(_BISECTION_STEPS):
        mid = np.where(small, np.sqrt(lo) * np.sqrt(hi), 0.5 * (lo + hi))
        below = np.where(small, _h2(mid) < arr, _deficit(0.5 - mid) > target_high)
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    out = np.where(small, np.sqrt(lo) * np.sqrt(hi), 0.5 * (lo + hi))
    out = np.where(arr == 0.0, 0.0, np.where(arr == 1.0, 0.5, out))
    return _like_input(out, h)


def max_accuracy(memory_bits, bits_encoded):
    """Best possible average accuracy of Bob with ``memory_bits`` message bits (HO Theorem 5).

    ``1 - H_2^{-1}(1 - M/N)`` for ``M/N < 1`` and ``1`` for ``M/N >= 1``, where
    ``M = memory_bits >= 0`` and ``N = bits_encoded >= 1``. Broadcasts over arrays.
    """
    m = _as_checked_array("memory_bits", memory_bits, 0.0, None)
    n = _as_checked_array("bits_encoded", bits_encoded, 1.0, None)
    ratio = np.minimum(m / n, 1.0)
    acc = 1.0 - inverse_binary_entropy(1.0 - ratio)
    acc = np.where(ratio >= 1.0, 1.0, acc)
    return _like_input(acc, memory_bits, bits_encoded)


def min_memory_ratio(accuracy):
    """The converse view of HO Theorem 5: ``M/N >= 1 - H_2(1 - a)`` for accuracy ``a >= 1/2``.

    Accuracies below 1/2 need no memory (ratio 0). ``accuracy`` must lie in ``[0, 1]``.
    """
    a = _as_checked_array("accuracy", accuracy, 0.0, 1.0)
    out = np.where(a <= 0.5, 0.0, 1.0 - _h2(1.0 - a))
    return _like_input(out, accuracy)


def frontier_curve(ratios):
    """Accuracies of the HO Theorem 5 frontier at budget ratios ``rho = M/N >= 0``.

    Always returns a float ndarray of the same shape as ``ratios``.
    """
    r = _as_checked_array("ratios", ratios, 0.0, None)
    return np.asarray(max_accuracy(r, 1.0), dtype=float)


#: Halvings of the bracket on ``log2 ν`` in :func:`nonuniform_max_accuracy`: the bracket is at most
#: ~1200 wide, so 90 halvings leave far less than a double's spacing in the allocation.
_WATER_STEPS = 90


def nonuniform_max_accuracy(memory_bits, p, d):
    """Best p-weighted accuracy of Bob with ``memory_bits`` message bits when the row he is asked
    follows a public distribution ``p`` over the ``len(p)`` rows of ``d`` uniform bits each.

    The rows are independent, so ``Σ_i I(X_i; M) <= I(X; M) <= M``, and Fano per row (with Jensen over
    the row's bits) gives ``I(X_i; M) >= d (1 - H_2(a_i))`` for the row's average accuracy ``a_i``.
    The frontier is ``max Σ_i p_i a_i`` subject to ``Σ_i d (1 - H_2(a_i)) <= M``, ``a_i in [1/2, 1]``,
    a concave program solved by water-filling: ``a_i = 1/(1 + 2^{-ν p_i / max p})`` with ``ν >= 0``
    (the KKT point, ``ν`` proportional to ``1/λ``) chosen by bisection on ``log2 ν`` so that the
    memory constraint binds; ``1`` once ``M >= d · |support of p|`` (docs/theory.md §1).

    ``p`` is a 1-D array of nonnegative weights (normalized here, not all 0); ``d >= 1``. Vectorized
    over ``memory_bits``; uniform ``p`` gives :func:`max_accuracy` ``(M, len(p) · d)``.
    """
    m = _as_checked_array("memory_bits", memory_bits, 0.0, None)
    weights = _as_checked_array("p", np.asarray(p, dtype=float).reshape(-1), 0.0, None) if np.size(p) else None
    if weights is None or not weights.sum() > 0:
        raise ParameterError("p must be a non-empty array of nonnegative weights, not all 0")
    d = float(check_real("d", d, 1.0, None))
    probs = weights / weights.sum()
    values, multiplicity = np.unique(probs[probs > 0], return_counts=True)  # rows of equal p share a_i
    shape = values / values.max()  # in (0, 1]
    full = d * multiplicity.sum()  # memory that decodes every asked row exactly
    flat = np.minimum(m.reshape(-1), full)

    def excess(log_nu):  # t_i = a_i - 1/2 and the memory they cost, per memory value
        x = np.exp2(log_nu)[:, None] * shape[None, :]
        t = 0.5 * np.tanh(0.5 * _LN2 * x)
        return t, d * (_deficit(t) @ multiplicity)

    lo = np.full(flat.shape, -80.0)
    hi = np.full(flat.shape, math.log2(1100.0 / shape.min()))
    for _ in range(_WATER_STEPS):
        mid = 0.5 * (lo + hi)
        below = excess(mid)[1] < flat
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    t, _ = excess(lo)  # the feasible side of the bracket
    acc = 0.5 + t @ (values * multiplicity)
    acc = np.where(flat >= full, 1.0, np.where(flat <= 0.0, 0.5, np.minimum(acc, 1.0)))
    return _like_input(acc.reshape(m.shape), memory_bits)


#: The grid :func:`frontier_for` stores: ratios per decade, the range it always covers, and the
#: factor it extends beyond the smallest and largest ratio of the points.
FRONTIER_PER_DECADE = 64
FRONTIER_RANGE = (1e-4, 2.0)
FRONTIER_MARGIN = 4.0


def frontier_for(points=()) -> dict:
    """The HO Theorem 5 frontier an experiment's summary carries under ``"frontier"``.

    ``points`` are result points (``memory_ratio``, else ``memory_bits / bits_encoded``) or plain
    ratios. Returns ``{"ratio": [...], "accuracy": [...]}``: a log grid of ``FRONTIER_PER_DECADE``
    ratios per decade from ``min(1e-4, smallest ratio / 4)`` to ``max(2, largest ratio * 4)``, with
    ``rho = 1`` (where ``a*`` reaches 1) on the grid, and ``a*(rho)`` at each. JSON-able lists.
    """
    ratios = []
    for p in points:
        if isinstance(p, dict) or hasattr(p, "get"):
            r = p.get("memory_ratio")
            if r is None and p.get("memory_bits") is not None and p.get("bits_encoded"):
                r = p["memory_bits"] / p["bits_encoded"]
        else:
            r = p
        try:
            r = float(r)
        except (TypeError, ValueError):
            continue
        if math.isfinite(r) and r > 0:
            ratios.append(r)
    low = min([FRONTIER_RANGE[0]] + [r / FRONTIER_MARGIN for r in ratios])
    high = max([FRONTIER_RANGE[1]] + [r * FRONTIER_MARGIN for r in ratios])
    count = int(math.ceil(math.log10(high / low) * FRONTIER_PER_DECADE)) + 1
    grid = np.union1d(np.geomspace(low, high, count), [1.0])
    return {"ratio": grid.tolist(), "accuracy": frontier_curve(grid).tolist()}


# ---------------------------------------------------------------------------------------
# helpers


def _h2(p: np.ndarray) -> np.ndarray:
    """Unchecked H_2 in bits; log1p keeps the ``(1-p)`` term accurate for small ``p``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0.0, -p * np.log(np.where(p > 0.0, p, 1.0)), 0.0)
        b = np.where(p < 1.0, -(1.0 - p) * np.log1p(-np.where(p < 1.0, p, 0.0)), 0.0)
    return (a + b) / _LN2


def _deficit(t: np.ndarray) -> np.ndarray:
    """``1 - H_2(1/2 - t)`` for ``t in [0, 1/2]``, without cancellation near ``t = 0``.

    With ``u = 2t``: ``1 - H_2((1-u)/2) = [(1+u) ln(1+u) + (1-u) ln(1-u)] / (2 ln 2)
    = sum_{k>=1} u^{2k} / (k (2k-1)) / (2 ln 2)``; the series is used for ``u < 0.1``.
    """
    u = 2.0 * t
    small = u < 0.1
    us = np.where(small, u, 0.0)
    u2 = us * us
    series = np.zeros_like(us)
    power = np.ones_like(us)
    for k in range(1, 10):  # u^18 / 153 < 1e-20 for u < 0.1
        power = power * u2
        series = series + power / (k * (2 * k - 1))
    ul = np.where(small, 0.5, u)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(ul < 1.0, (1.0 - ul) * np.log1p(-np.where(ul < 1.0, ul, 0.0)), 0.0)
    direct = (1.0 + ul) * np.log1p(ul) + tail
    return np.where(small, series, direct) / (2.0 * _LN2)


def _as_checked_array(name: str, value, low: float | None, high: float | None) -> np.ndarray:
    """``value`` as a float ndarray with every entry finite and in ``[low, high]``."""
    if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return np.asarray(check_real(name, value, low, high), dtype=float)
    raw = np.asarray(value)
    if raw.dtype == bool or raw.dtype.kind not in "iuf":
        raise ParameterError(f"{name} must be an array of finite real numbers, got dtype {raw.dtype}")
    arr = raw.astype(float)
    bad = ~np.isfinite(arr)
    if low is not None:
        bad |= arr < low
    if high is not None:
        bad |= arr > high
    if np.any(bad):
        first = arr[bad].flat[0]
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        right = ")" if high is None else "]"
        left = "(" if low is None else "["
        raise ParameterError(
            f"{name} must have every entry finite and in {left}{lo}, {hi}{right}, got {first:g}"
        )
    return arr


def _like_input(out, *inputs):
    """Return ``out`` as a Python float if every input was a scalar, else as an ndarray."""
    out = np.asarray(out, dtype=float)
    if all(np.ndim(v) == 0 and not isinstance(v, np.ndarray) for v in inputs):
        return float(out)
    return out
