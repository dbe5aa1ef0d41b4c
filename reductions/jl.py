"""Johnson-Lindenstrauss keys: HO Theorem 20, Lemma 21 and Lemma 3 (= Lemma 22), THEORY §2.

The lower-bound reductions (HO Theorems 6, 8, 17) need ``n`` keys in ``R^d`` that are almost
orthonormal. Alice and Bob build them from public randomness as JL images of the standard
basis of ``R^n``::

    A in R^{d x n} i.i.d. N(0, 1),    f(u) = A u / sqrt(d),    k_l = f(e_l)  (column l of A / sqrt(d))

This module reads top to bottom next to the paper:

1. **Codebooks** (:func:`gaussian_codebook`, :func:`normalized_codebook`): the keys above,
   and the same keys scaled to unit norm (a variant the paper does not use; it removes the
   diagonal distortion).
2. **Measured distortion** (:func:`measure_epsilon`): the ``eps`` the reduction actually
   gets, ``max(max_{l!=m} |<k_l,k_m>|, max_l |<k_l,k_l> - 1|)``.
3. **Lemma 3's promise** (:func:`lemma3_required_dimension`, :func:`lemma3_guaranteed_epsilon`):
   the dimension Lemma 3 asks for, as printed (``12 ln n / (eps^2 - eps^3)``) and with the
   constant 4 of Lemma 21 kept (``4 ln(4 n^3) / (eps^2 - eps^3)``) [sic in HO, see THEORY §2].
4. **Certificates** for Theorem 20, Lemma 21 and Lemma 3, registered with
   :mod:`reductions.certify`.
5. **The experiment** :func:`run_jl`: measured ``eps`` against Lemma 3's guarantee over a
   grid of ``(n, d)``. Real JL keys work at far smaller ``d`` than Lemma 3 asks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from caches.params import ParameterError, check_choice, check_int, check_real
from reductions.certify import Verdict, claim, failed, proved, refuted, verified_on_grid
from protocols.experiment import Experiment

__all__ = [
    "CODEBOOKS",
    "CONSTANTS",
    "JL_PRESETS",
    "JLDistortion",
    "gaussian_codebook",
    "normalized_codebook",
    "make_codebook",
    "measure_epsilon",
    "lemma3_required_dimension",
    "lemma3_guaranteed_epsilon",
    "lemma3_failure_bound",
    "theorem20_failure_bound",
    "jl_total_steps",
    "run_jl",
]

CODEBOOKS = ("gaussian", "normalized")
CONSTANTS = ("printed", "corrected")
EPS_PEAK = 2.0 / 3.0
"""``eps^2 - eps^3`` increases on ``(0, 2/3]`` and decreases after: Lemma 3's requirement is
smallest at ``eps = 2/3``, where ``eps^2 - eps^3 = 4/27``."""

# ---------------------------------------------------------------------------------------
# 1. Key codebooks from public randomness (HO Theorem 6 reduction, Lemma 3)


def gaussian_codebook(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """The ``n x d`` matrix whose row ``l`` is ``f(e_l) = A e_l / sqrt(d)`` (HO Lemma 3).

    ``A in R^{d x n}`` is drawn as ``rng.standard_normal((d, n))``, so the rows returned are
    the columns of ``A / sqrt(d)``. Squared row norms are ``chi^2_d / d`` (mean 1).
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    a = rng.standard_normal((d, n))
    return np.ascontiguousarray(a.T) / math.sqrt(d)


def normalized_codebook(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`gaussian_codebook` with every row scaled to unit norm (diagonal distortion 0)."""
    keys = gaussian_codebook(n, d, rng)
    norms = np.linalg.norm(keys, axis=1, keepdims=True)
    return keys / np.where(norms > 0.0, norms, 1.0)


_BUILDERS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "gaussian": gaussian_codebook,
    "normalized": normalized_codebook,
}


def make_codebook(kind: str, n: int, d: int, seed) -> np.ndarray:
    """Codebook ``kind`` (one of :data:`CODEBOOKS`) drawn with ``numpy.random.default_rng(seed)``.

    ``seed`` is anything ``default_rng`` accepts (an int, a list of ints, a SeedSequence).
    """
    check_choice("codebook", kind, CODEBOOKS)
    return _BUILDERS[kind](n, d, np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------
# 2. Measured distortion of a codebook

_CHUNK_ELEMENTS = 1 << 22  # at most ~4M Gram entries (32 MB) per block


@dataclass(frozen=True)
class JLDistortion:
    """How far a codebook is from orthonormal (the ``eps`` of HO Lemma 3 / Theorem 6).

    ``offdiag = max_{l != m} |<k_l, k_m>|``, ``diag = max_l |<k_l, k_l> - 1|``,
    ``eps = max(offdiag, diag)``.
    """

    offdiag: float
    diag: float
    eps: float


def measure_epsilon(keys, chunk_rows: int | None = None) -> JLDistortion:
    """Measure the :class:`JLDistortion` of the rows of ``keys`` (an ``n x d`` array, ``n >= 2``).

    The Gram matrix is formed one block of ``chunk_rows`` rows at a time, and only its upper
    triangle (it is symmetric), so ``n = 16384`` never allocates ``n^2`` numbers. By default a
    block holds about 4M entries.
    """
    k = np.asarray(keys, dtype=float)
    if k.ndim != 2 or k.shape[0] < 2 or k.shape[1] < 1:
        raise ParameterError(f"keys must be an n x d array with n >= 2 and d >= 1, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ParameterError("keys must be finite")
    n = k.shape[0]
    if chunk_rows is None:
        chunk_rows = max(1, _CHUNK_ELEMENTS // n)
    chunk_rows = check_int("chunk_rows", chunk_rows, 1)

    diag = float(np.max(np.abs(np.einsum("ij,ij->i", k, k) - 1.0)))
    offdiag = 0.0
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        block = k[start:stop] @ k[start:].T  # rows start..stop-1, columns start..n-1
        rows = np.arange(stop - start)
        block[rows, rows] = 0.0  # drop the diagonal <k_l, k_l>
        if block.size:
            offdiag = max(offdiag, float(np.max(np.abs(block))))
    return JLDistortion(offdiag=offdiag, diag=diag, eps=max(offdiag, diag))


# ---------------------------------------------------------------------------------------
# 3. What Lemma 3 promises


def theorem20_failure_bound(d: float, eps: float) -> float:
    """HO Theorem 20: ``Pr[ ||f(x)||^2 not in (1 +- eps) ||x||^2 ] <= 2 exp(-(eps^2 - eps^3) d / 4)``."""
    return 2.0 * math.exp(-(eps * eps - eps**3) * d / 4.0)


def lemma3_failure_bound(n: int, d: float, eps: float) -> float:
    """The union bound behind HO Lemma 3 with Lemma 21's constant kept.

    ``n^2`` pairs, each failing with probability at most ``4 exp(-(eps^2 - eps^3) d / 4)``
    (HO Lemma 21): ``n^2 * 4 * exp(-(eps^2 - eps^3) d / 4)`` (may exceed 1).
    """
    return n * n * 4.0 * math.exp(-(eps * eps - eps**3) * d / 4.0)


def _lemma3_log_term(n: int, constant: str) -> float:
    check_choice("constant", constant, CONSTANTS)
    if constant == "printed":
        return 12.0 * math.log(n)
    return 4.0 * math.log(4.0 * float(n) ** 3)


def lemma3_required_dimension(n: int, eps: float, constant: str = "printed") -> float:
    """The dimension HO Lemma 3 asks for to keep all inner products within ``+-eps`` w.p. ``1 - 1/n``.

    ``constant="printed"``: ``12 ln n / (eps^2 - eps^3)`` (HO eq. 4 / eq. 32);
    ``constant="corrected"``: ``4 ln(4 n^3) / (eps^2 - eps^3)``, which keeps the factor 4 of
    Lemma 21 that the printed proof drops [sic, THEORY §2]. ``n >= 2``, ``eps in (0, 1)``.
    Returned as a real number; round up for an integer dimension.
    """
    n = check_int("n", n, 2)
    eps = check_real("eps", eps, 0.0, 1.0, low_open=True, high_open=True)
    return _requirement(_lemma3_log_term(n, constant), eps)


def _requirement(log_term: float, eps: float) -> float:
    """``log_term / (eps^2 - eps^3)``: one formula, shared by the requirement and its inverse."""
    return log_term / (eps * eps - eps**3)


def lemma3_guaranteed_epsilon(n: int, d: int, constant: str = "printed", eps_max: float = 0.5) -> float:
    """The smallest ``eps`` that HO Lemma 3 guarantees at dimension ``d`` for ``n`` points.

    That is the smallest ``eps in (0, eps_max]`` with ``d >= lemma3_required_dimension(n, eps)``.
    Because ``eps^2 - eps^3`` increases on ``(0, 2/3]`` it is the root of
    ``eps^2 - eps^3 = c(n) / d`` there, found by bisection to double precision (the value
    returned satisfies the requirement). Returns ``float('nan')`` when no ``eps`` in
    ``(0, eps_max]`` works. The default ``eps_max = 1/2`` is the range the reductions can use
    (HO eq. 16 needs ``1 - 2 eps > 0``); ``eps_max`` may be raised to ``2/3``, beyond which the
    requirement grows again and a larger tolerance would never be "guaranteed" more cheaply.
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    eps_max = check_real("eps_max", eps_max, 0.0, EPS_PEAK, low_open=True)
    log_term = _lemma3_log_term(n, constant)
    if _requirement(log_term, eps_max) > d:
        return float("nan")
    lo, hi = 0.0, eps_max
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _requirement(log_term, mid) <= d:
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------------------------------
# 4. Certificates (HO Theorem 20, Lemma 21, Lemma 3)

_EPS, _G = sp.symbols("epsilon g", positive=True)  # g stands for eps^2 - eps^3 > 0
_N = sp.symbols("n", positive=True)


@claim(
    name="Theorem 20 tail bound",
    source="HO Theorem 20 (eq. 22)",
    statement="For A with i.i.d. N(0,1) entries and f(u) = Au/sqrt(d): "
    "Pr[||f(x)||^2 not in (1+-eps)||x||^2] <= 2 exp(-(eps^2 - eps^3) d / 4), eps in (0, 1).",
    relied_on=True,
)
def _check_theorem20() -> Verdict:
    # ||f(x)||^2 / ||x||^2 is chi^2_d / d exactly, so both tails are regularized incomplete
    # gamma functions; evaluate them with mpmath at 40 digits.
    ds = (1, 2, 3, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
    epss = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
    with mpmath.workdps(40):
        return _theorem20_grid(ds, epss)


def _theorem20_grid(ds, epss) -> Verdict:
    worst = (0.0, None)
    for d in ds:
        for eps in epss:
            half = mpmath.mpf(d) / 2
            upper = mpmath.gammainc(half, half * (1 + mpmath.mpf(eps)), mpmath.inf, regularized=True)
            lower = mpmath.gammainc(half, 0, half * (1 - mpmath.mpf(eps)), regularized=True)
            bound = 2 * mpmath.exp(-(mpmath.mpf(eps) ** 2 - mpmath.mpf(eps) ** 3) * d / 4)
            ratio = float((upper + lower) / bound)
            if ratio > 1.0:
                return failed(f"at d={d}, eps={eps}: Pr = {float(upper + lower):.6g} > bound {float(bound):.6g}")
            if ratio > worst[0]:
                worst = (ratio, (d, eps))
    return verified_on_grid(
        f"exact chi^2_d tails (mpmath, 40 digits) at d in {list(ds)} x eps in {list(epss)}; "
        f"largest Pr/bound = {worst[0]:.3f} at (d, eps) = {worst[1]}"
    )


@claim(
    name="Lemma 21 polarization",
    source="HO Lemma 21 (eqs. 26-31)",
    statement="For linear f: <f(x),f(y)> = (||f(x+y)||^2 - ||f(x-y)||^2)/4.",
    relied_on=True,
)
def _check_polarization() -> Verdict:
    a, b = sp.symbols("a b", real=True)
    coordinatewise = sp.expand((a + b) ** 2 - (a - b) ** 2 - 4 * a * b)
    # linearity f(x +- y) = f(x) +- f(y) for a matrix of symbolic shape
    d, n = sp.symbols("d n", positive=True, integer=True)
    A = sp.MatrixSymbol("A", d, n)
    x, y = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("y", n, 1)
    lin_plus = (A * (x + y)).expand() - A * x - A * y
    lin_minus = (A * (x - y)).expand() - (A * x - A * y)
    # and the whole identity, fully expanded, for an explicit symbolic 2 x 3 matrix
    M = sp.Matrix(2, 3, sp.symbols("m0:6", real=True))
    xv, yv = sp.Matrix(sp.symbols("x0:3", real=True)), sp.Matrix(sp.symbols("y0:3", real=True))
    fx, fy = M * xv, M * yv
    fp, fm = M * (xv + yv), M * (xv - yv)
    explicit = sp.expand(fx.dot(fy) - (fp.dot(fp) - fm.dot(fm)) / 4)
    if coordinatewise == 0 and lin_plus.is_ZeroMatrix and lin_minus.is_ZeroMatrix and explicit == 0:
        return proved(
            "sympy: (a+b)^2 - (a-b)^2 - 4ab expands to 0 (per coordinate, so it sums to "
            "||u+v||^2 - ||u-v||^2 = 4<u,v> in every dimension); A(x+-y) - (Ax +- Ay) is the zero "
            "matrix for a MatrixSymbol A of symbolic shape d x n; and the full identity expands "
            "to 0 for an explicit symbolic 2x3 matrix and symbolic x, y"
        )
    return failed(f"residuals: {coordinatewise}, {lin_plus}, {lin_minus}, {explicit}")


@claim(
    name="Lemma 21 error bound",
    source="HO Lemma 21 (eqs. 24-31)",
    statement="If ||f(x+y)||^2 and ||f(x-y)||^2 are within (1+-eps) of ||x+y||^2 and ||x-y||^2 "
    "(each fails w.p. <= 2 exp(-(eps^2-eps^3)d/4), so both hold except w.p. 4 exp(...)), and "
    "||x||, ||y|| <= 1, then |<f(x),f(y)> - <x,y>| <= eps(||x||^2+||y||^2)/2 <= eps.",
    relied_on=True,
)
def _check_lemma21_error() -> Verdict:
    eps, P, Q, u, v, s, t = sp.symbols("epsilon P Q u v s t", nonnegative=True)
    # P = ||x+y||^2, Q = ||x-y||^2, measured as (1 + th1 eps) P and (1 + th2 eps) Q, th in [-1, 1].
    th1, th2 = sp.symbols("theta1 theta2", real=True)
    error = (eps * th1 * P - eps * th2 * Q) / 4  # <f(x),f(y)> - <x,y> by polarization
    budget = eps * (P + Q) / 4
    # budget - error >= 0: write th1 = 1 - u, th2 = v - 1 with u, v in [0, 2]
    upper_gap = sp.factor(sp.expand((budget - error).subs({th1: 1 - u, th2: v - 1})))
    # budget + error >= 0: write th1 = u - 1, th2 = 1 - v
    lower_gap = sp.factor(sp.expand((budget + error).subs({th1: u - 1, th2: 1 - v})))
    # parallelogram law per coordinate: (p+q)^2 + (p-q)^2 = 2p^2 + 2q^2, so P + Q = 2X + 2Y
    p, q = sp.symbols("p q", real=True)
    parallelogram = sp.expand((p + q) ** 2 + (p - q) ** 2 - 2 * p**2 - 2 * q**2)
    # with X = ||x||^2 = 1 - s and Y = ||y||^2 = 1 - t, s, t >= 0: eps - eps(X + Y)/2 >= 0
    final_gap = sp.factor(sp.expand(eps - eps * ((1 - s) + (1 - t)) / 2))
    ok = (
        upper_gap.is_nonnegative
        and lower_gap.is_nonnegative
        and parallelogram == 0
        and final_gap.is_nonnegative
    )
    if ok:
        return proved(
            f"sympy sign proofs from nonnegativity assumptions: budget - error = {upper_gap}, "
            f"budget + error = {lower_gap} (with theta rewritten via u, v >= 0); parallelogram "
            f"(p+q)^2+(p-q)^2-2p^2-2q^2 expands to 0; eps - eps(X+Y)/2 = {final_gap} for "
            "X = 1-s, Y = 1-t; the failure probability 2+2 = 4 exp(...) is the union bound"
        )
    return failed(f"could not sign {upper_gap}, {lower_gap}, {final_gap} (parallelogram {parallelogram})")


def _union_bound(d_expr):
    return _N**2 * 4 * sp.exp(-_G * d_expr / 4)


@claim(
    name="Lemma 3 union bound (as printed)",
    source="HO Lemma 3 / Lemma 22 (eqs. 32-36)",
    statement="With per-pair failure 4 exp(-(eps^2-eps^3)d/4) (Lemma 21) at the printed "
    "d = 12 ln n/(eps^2-eps^3), the union bound over the n^2 pairs gives total failure <= 1/n.",
    relied_on=False,
)
def _check_lemma3_printed() -> Verdict:
    d_printed = 12 * sp.log(_N) / _G
    total = sp.simplify(_union_bound(d_printed))
    excess = sp.simplify(total - 1 / _N)
    n_val, eps_val = 1024, sp.Rational(1, 10)
    g_val = eps_val**2 - eps_val**3
    d_val = float(12 * math.log(n_val) / g_val)
    total_val = lemma3_failure_bound(n_val, d_val, float(eps_val))
    if excess.is_positive and total_val > 1.0 / n_val:
        return refuted(
            f"sympy: at d = 12 ln n/g the union bound is n^2 * 4 * exp(-g d/4) = {total}, and "
            f"{total} - 1/n = {excess} > 0 for every n; e.g. n = {n_val}, eps = 0.1: d = {d_val:.2f}, "
            f"bound = {total_val:.6g} = 4/n > 1/n = {1 / n_val:.6g}. The printed proof drops the "
            "constant 4 of Lemma 21 (the conclusion may still hold; this argument does not give it)"
        )
    return failed(f"expected the printed union bound to exceed 1/n, got {total} (excess {excess})")


@claim(
    name="Lemma 3 union bound (careful count, as printed)",
    source="HO Lemma 3 / Lemma 22 (eqs. 32-36)",
    statement="Counting only the n(n-1)/2 distinct off-diagonal pairs (failure 4 exp(...) each, "
    "Lemma 21) and the n norms (failure 2 exp(...) each, Theorem 20) rescues the printed "
    "d = 12 ln n/(eps^2-eps^3): total failure <= 1/n.",
    relied_on=False,
)
def _check_lemma3_careful() -> Verdict:
    tail = sp.exp(-_G * (12 * sp.log(_N) / _G) / 4)
    total = sp.simplify(_N * (_N - 1) / 2 * 4 * tail + _N * 2 * tail)
    excess = sp.simplify(total - 1 / _N)
    n_val = 1024
    if excess.is_positive:
        return refuted(
            f"sympy: the careful union bound at the printed d is {total}, and {total} - 1/n = "
            f"{excess} > 0; e.g. n = {n_val}: {2 / n_val:.6g} > {1 / n_val:.6g}. Halving the pair "
            "count does not make up for the dropped factor 4"
        )
    return failed(f"expected the careful bound to exceed 1/n, got {total}")


@claim(
    name="Lemma 3 union bound (constant 4 kept)",
    source="HO Lemma 3 / Lemma 22, corrected (THEORY §2)",
    statement="If d >= 4 ln(4 n^3)/(eps^2-eps^3) then n^2 * 4 exp(-(eps^2-eps^3) d/4) <= 1/n, "
    "so all n^2 inner products are within +-eps with probability >= 1 - 1/n.",
    relied_on=True,
)
def _check_lemma3_corrected() -> Verdict:
    d = sp.symbols("d", positive=True)
    d_star = 4 * sp.log(4 * _N**3) / _G
    at_threshold = sp.simplify(_union_bound(d_star) - 1 / _N)
    slope = sp.diff(_union_bound(d), d)
    if at_threshold == 0 and slope.is_negative:
        return proved(
            "sympy (n, g = eps^2-eps^3 positive): at d* = 4 ln(4n^3)/g the union bound "
            "n^2 * 4 exp(-g d*/4) simplifies to exactly 1/n, and its derivative in d, "
            f"{slope}, is negative, so the bound is <= 1/n for every d >= d*"
        )
    return failed(f"residual at threshold {at_threshold}, slope {slope}")


@claim(
    name="Lemma 3 at eps = 0.1",
    source="THEORY §2 (HO Lemma 3)",
    statement="With eps = 0.1 the printed requirement is d >= 1333 ln n (exactly (4000/3) ln n); "
    "the corrected one is d >= (4000/9) ln(4 n^3).",
    relied_on=False,
)
def _check_eps_tenth() -> Verdict:
    eps = sp.Rational(1, 10)
    g = eps**2 - eps**3
    printed = 12 / g
    corrected = 4 / g
    if printed == sp.Rational(4000, 3) and corrected == sp.Rational(4000, 9):
        return proved(
            f"exact Rationals: 12/(eps^2-eps^3) = {printed} = {float(printed):.2f} at eps = 1/10; "
            f"corrected 4/(eps^2-eps^3) = {corrected}, i.e. d >= {float(3 * corrected):.1f} ln n + "
            f"{float(corrected) * math.log(4):.1f}"
        )
    return failed(f"got 12/g = {printed}, 4/g = {corrected}")


@claim(
    name="Lemma 3 requirement monotone in eps",
    source="HO Lemma 3 (eq. 4)",
    statement="eps^2 - eps^3 is strictly increasing on (0, 2/3), so the required dimension "
    "c/(eps^2 - eps^3) strictly decreases there (and the guaranteed eps is the unique root).",
    relied_on=True,
)
def _check_monotone() -> Verdict:
    eps = sp.symbols("epsilon", real=True)
    s = sp.symbols("s", positive=True)
    slope = sp.diff(eps**2 - eps**3, eps)
    # eps in (0, 2/3)  <=>  eps = (2/3) / (1 + s) with s > 0
    on_range = sp.factor(sp.simplify(slope.subs(eps, sp.Rational(2, 3) / (1 + s))))
    after = slope.subs(eps, sp.Rational(4, 5))
    if on_range.is_positive and after < 0:
        return proved(
            f"sympy: d/deps (eps^2-eps^3) = {sp.factor(slope)}; with eps = (2/3)/(1+s), s > 0 "
            f"(a bijection onto (0, 2/3)) it equals {on_range} > 0. Beyond 2/3 it turns "
            f"negative (at eps = 4/5 it is {after}): the printed requirement is not monotone, "
            "a looser eps > 2/3 would need a larger d"
        )
    return failed(f"could not sign {on_range}")


@claim(
    name="lemma3_guaranteed_epsilon inverts the requirement",
    source="THEORY §2 (code check)",
    statement="lemma3_guaranteed_epsilon(n, d) returns the smallest eps in (0, 1/2] with "
    "d >= lemma3_required_dimension(n, eps), or nan when none exists, for both constants.",
    relied_on=True,
)
def _check_inverse_code() -> Verdict:
    ns = (2, 3, 64, 1024, 16384, 10**6)
    ds = (1, 16, 256, 1024, 4096, 16384, 65536, 10**6)
    checked = nans = 0
    for constant in CONSTANTS:
        for n in ns:
            for d in ds:
                eps = lemma3_guaranteed_epsilon(n, d, constant)
                if math.isnan(eps):
                    if lemma3_required_dimension(n, 0.5, constant) <= d:
                        return failed(f"nan at n={n}, d={d} ({constant}) although eps=1/2 works")
                    nans += 1
                    continue
                if lemma3_required_dimension(n, eps, constant) > d:
                    return failed(f"eps={eps} at n={n}, d={d} ({constant}) does not meet the requirement")
                if lemma3_required_dimension(n, eps * (1 - 1e-9), constant) <= d:
                    return failed(f"eps={eps} at n={n}, d={d} ({constant}) is not the smallest")
                checked += 1
    return verified_on_grid(
        f"n in {list(ns)} x d in {list(ds)} x both constants: {checked} roots meet the requirement "
        f"and eps(1 - 1e-9) does not; {nans} nan cases need d > requirement at eps = 1/2"
    )


# ---------------------------------------------------------------------------------------
# 5. The experiment: measured eps against Lemma 3's guarantee

JL_PRESETS: dict[str, dict] = {
    "quick": {
        "n_values": [64, 256, 1024],
        "d_values": [16, 32, 64, 128, 256, 512, 1024],
        "codebooks": list(CODEBOOKS),
        "repeats": 2,
    },
    "paper": {
        "n_values": [64, 256, 1024, 4096],
        "d_values": [16, 32, 64, 128, 256, 512, 1024],
        "codebooks": list(CODEBOOKS),
        "repeats": 5,
    },
}

_CONFIG_KEYS = ("n_values", "d_values", "codebooks", "repeats")


def _check_config(config: dict) -> dict:
    if not isinstance(config, dict):
        raise ParameterError(f"config must be a dict with keys {', '.join(_CONFIG_KEYS)}")
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    missing = [key for key in _CONFIG_KEYS if key not in config]
    if unknown or missing:
        raise ParameterError(
            f"jl config needs exactly the keys {', '.join(_CONFIG_KEYS)}; "
            f"missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    out = {
        "n_values": [check_int("n_values entry", v, 2) for v in _as_list("n_values", config["n_values"])],
        "d_values": [check_int("d_values entry", v, 1) for v in _as_list("d_values", config["d_values"])],
        "codebooks": [check_choice("codebooks entry", v, CODEBOOKS) for v in _as_list("codebooks", config["codebooks"])],
        "repeats": check_int("repeats", config["repeats"], 1),
    }
    return out


def _as_list(name: str, value) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ParameterError(f"{name} must be a non-empty list, got {value!r}")
    items = list(value)
    if not items:
        raise ParameterError(f"{name} must be a non-empty list")
    return items


def jl_total_steps(config: dict) -> int:
    """How many times :func:`run_jl` calls ``progress(1)`` (one per drawn codebook)."""
    cfg = _check_config(config)
    return len(cfg["codebooks"]) * len(cfg["n_values"]) * len(cfg["d_values"]) * cfg["repeats"]


def run_jl(config: dict, seed: int, progress=None) -> dict:
    """Measure the distortion of JL codebooks against HO Lemma 3's guarantee.

    ``config`` has exactly the keys ``n_values``, ``d_values`` (lists of ints), ``codebooks``
    (names from :data:`CODEBOOKS`) and ``repeats`` (int); see :data:`JL_PRESETS`. Each
    ``(codebook, n, d, repeat)`` draws a fresh codebook from
    ``numpy.random.default_rng([seed, repeat, n, d, codebook_index])`` and measures its eps;
    ``progress(1)`` is called after each (if ``progress`` is given).

    Returns ``{"summary": ..., "trials": [...]}``, everything JSON-able (NaN written as None).
    Trial rows: codebook, n, d, repeat, eps_offdiag, eps_diag, eps,
    lemma3_guaranteed_eps_printed, lemma3_guaranteed_eps_corrected. Summary rows, per
    ``(codebook, n, d)``: mean/min/max eps (and of its two parts), the guaranteed eps, and
    ``lemma3_d_<constant>``: the dimension Lemma 3 needs to guarantee the worst measured eps
    (capped at 2/3, where the requirement is smallest), with ``d_gap_<constant>`` = that / d.
    """
    cfg = _check_config(config)
    seed = check_int("seed", seed, 0)
    guaranteed = {
        (n, d): {c: lemma3_guaranteed_epsilon(n, d, c) for c in CONSTANTS}
        for n in cfg["n_values"]
        for d in cfg["d_values"]
    }
    trials: list[dict] = []
    rows: list[dict] = []
    for index, kind in enumerate(cfg["codebooks"]):
        code = CODEBOOKS.index(kind)
        for n in cfg["n_values"]:
            for d in cfg["d_values"]:
                measured = []
                for repeat in range(cfg["repeats"]):
                    rng = np.random.default_rng([seed, repeat, n, d, code])
                    dist = measure_epsilon(_BUILDERS[kind](n, d, rng))
                    measured.append(dist)
                    trials.append(
                        {
                            "codebook": kind,
                            "n": n,
                            "d": d,
                            "repeat": repeat,
                            "eps_offdiag": dist.offdiag,
                            "eps_diag": dist.diag,
                            "eps": dist.eps,
                            "lemma3_guaranteed_eps_printed": _num(guaranteed[n, d]["printed"]),
                            "lemma3_guaranteed_eps_corrected": _num(guaranteed[n, d]["corrected"]),
                        }
                    )
                    if progress is not None:
                        progress(1)
                rows.append(_summary_row(kind, n, d, measured, guaranteed[n, d]))
    summary = {
        "experiment": "jl",
        "seed": seed,
        "repeats": cfg["repeats"],
        "n_values": cfg["n_values"],
        "d_values": cfg["d_values"],
        "codebooks": cfg["codebooks"],
        "rows": rows,
        "lemma3": {
            "eps_max": 0.5,
            "formula_printed": "d >= 12 ln n / (eps^2 - eps^3)",
            "formula_corrected": "d >= 4 ln(4 n^3) / (eps^2 - eps^3)",
            "guaranteed_eps": [
                {"n": n, "d": d, "printed": _num(g["printed"]), "corrected": _num(g["corrected"])}
                for (n, d), g in guaranteed.items()
            ],
        },
    }
    return {"summary": summary, "trials": trials}


def _summary_row(kind: str, n: int, d: int, measured: list[JLDistortion], guaranteed: dict) -> dict:
    eps = np.array([m.eps for m in measured])
    off = np.array([m.offdiag for m in measured])
    dia = np.array([m.diag for m in measured])
    worst = min(float(eps.max()), EPS_PEAK)
    row = {
        "codebook": kind,
        "n": n,
        "d": d,
        "repeats": len(measured),
        "eps_mean": float(eps.mean()),
        "eps_min": float(eps.min()),
        "eps_max": float(eps.max()),
        "eps_offdiag_mean": float(off.mean()),
        "eps_offdiag_max": float(off.max()),
        "eps_diag_mean": float(dia.mean()),
        "eps_diag_max": float(dia.max()),
        "lemma3_guaranteed_eps_printed": _num(guaranteed["printed"]),
        "lemma3_guaranteed_eps_corrected": _num(guaranteed["corrected"]),
    }
    for constant in CONSTANTS:
        need = lemma3_required_dimension(n, worst, constant) if worst > 0.0 else float("inf")
        row[f"lemma3_d_{constant}"] = _num(need)
        row[f"d_gap_{constant}"] = _num(need / d)
    return row


def _num(x: float):
    """A Python float, or None for NaN/inf (JSON has neither)."""
    x = float(x)
    return x if math.isfinite(x) else None


EXPERIMENTS = [
    Experiment(
        "jl", "HO Lemma 3", "jl",
        "measured JL distortion ε of the key codebooks vs what Lemma 3 guarantees",
        JL_PRESETS, lambda config, seed, bob, progress: run_jl(config, seed, progress), jl_total_steps,
        "plots.figures:jl_figure", uses_game=False,
    ),
]
