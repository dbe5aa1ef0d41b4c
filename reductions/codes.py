"""Key codebooks for the low-dimensional reduction (HO Corollary 9), spherical codes and the Welch bound.

In ``d`` dimensions the reduction of HO Theorem 6 can only use as many keys as ``d`` dimensions hold
"nearly orthogonally". HO uses JL images (Lemma 3), which promise ``n' = exp(d (ε² - ε³)/12)`` keys
with inner products within ``±ε``; for ``d <= 24`` that promise is vacuous (``n' < 2``). This module
builds the codebooks the capacity experiment (:mod:`reductions.cor9`) compares, all inside the unit
ball as HO Theorem 15 assumes (``||k|| <= 1``):

* ``"gaussian"``: the paper's JL keys (rows of ``A / sqrt(d)``, ``A`` Gaussian), scaled by the
  largest row norm so that every key lies in the unit ball;
* ``"random"``: uniform random unit vectors (the Gaussian rows normalised; ``jl.normalized_codebook``);
* ``"packed"``: a spherical code optimised by repulsion (:func:`packed_codebook`): projected
  gradient descent on the sphere of the exponential energy ``Σ_{l≠m} exp(β <k_l, k_m>)``, started
  from ``"random"``. With ``β = 2r`` this energy is exactly the quantity the reduction's decoder
  fights: for Bob's query ``r k_i`` the competing weights are ``exp(r <k_i, k_l>)`` and the noise
  on a decoded bit is their root-sum-square.

Reference limits: the Welch bound (:func:`welch_bound`) on the coherence ``max_{l≠m} |<k_l, k_m>|``
of ``n`` unit vectors in ``R^d``, and Lemma 3's promise (:func:`lemma3_log_capacity`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from caches.params import check_choice, check_int, check_real
from reductions.certify import Verdict, claim, failed, proved
from reductions.jl import gaussian_codebook

__all__ = [
    "CODE_KINDS",
    "unit_codebook",
    "gaussian_ball_codebook",
    "packed_codebook",
    "make_code",
    "public_code",
    "coherence",
    "max_inner_product",
    "welch_bound",
    "lemma3_log_capacity",
]

CODE_KINDS = ("gaussian", "random", "packed")

#: Gradient steps of the repulsion optimisation (each costs one ``n x n`` Gram matrix).
PACKING_STEPS = 100


def unit_codebook(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random unit vectors in ``R^d`` (normalised Gaussian rows)."""
    keys = gaussian_codebook(n, d, rng)
    norms = np.linalg.norm(keys, axis=1, keepdims=True)
    return keys / np.where(norms > 0, norms, 1.0)


def gaussian_ball_codebook(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """HO Lemma 3's JL keys ``A e_l / sqrt(d)``, divided by the largest norm (so ``||k_l|| <= 1``)."""
    keys = gaussian_codebook(n, d, rng)
    return keys / np.max(np.linalg.norm(keys, axis=1))


def packed_codebook(n: int, d: int, rng: np.random.Generator, beta: float = 8.0,
                    steps: int = PACKING_STEPS) -> np.ndarray:
    """A spherical code from repulsion: minimise ``E = Σ_{l≠m} exp(β <k_l, k_m>)`` on the unit sphere.

    Start from :func:`unit_codebook`; each step moves every point against the tangential part of
    its energy gradient ``β Σ_m exp(β <k_l, k_m>) k_m``, by a step that shrinks linearly to 0 and is
    normalised by the largest gradient (so it is scale-free), then renormalises. Deterministic given
    ``rng``. Larger ``β`` approaches the max-min-angle (Tammes) problem; ``β = 2r`` targets the
    reduction's decoding noise at query norm ``r``. Costs ``steps`` Gram matrices (``O(steps n² d)``).
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    beta = check_real("beta", beta, 0.0, low_open=True)
    steps = check_int("steps", steps, 0)
    keys = unit_codebook(n, d, rng)
    if d == 1:
        return keys  # the 1-sphere is {-1, +1}: nothing to optimise
    base = 2.0 / math.sqrt(n)
    work = keys.astype(np.float32)  # the n x n steps run in float32 (twice as fast); the result is float64
    for step in range(steps):
        gram = work @ work.T
        np.fill_diagonal(gram, -np.inf)
        gram -= gram.max()
        gram *= np.float32(beta)
        weights = np.exp(gram, out=gram)
        force = weights @ work
        force -= np.einsum("ij,ij->i", force, work)[:, None] * work
        largest = float(np.sqrt(np.max(np.einsum("ij,ij->i", force, force))))
        if not largest > 0:
            break
        work = work - np.float32(base * (1.0 - step / steps) / largest) * force
        work /= np.linalg.norm(work, axis=1, keepdims=True)
    keys = work.astype(np.float64)
    return keys / np.linalg.norm(keys, axis=1, keepdims=True)


def make_code(kind: str, n: int, d: int, seed, beta: float = 8.0) -> np.ndarray:
    """Codebook ``kind`` (one of :data:`CODE_KINDS`) from ``numpy.random.default_rng(seed)``.

    ``beta`` is the repulsion sharpness of ``"packed"`` (ignored by the others).
    """
    check_choice("codebook", kind, CODE_KINDS)
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return gaussian_ball_codebook(n, d, rng)
    if kind == "random":
        return unit_codebook(n, d, rng)
    return packed_codebook(n, d, rng, beta)


@functools.lru_cache(maxsize=64)
def public_code(kind: str, n: int, d: int, seed: int, beta: float = 8.0) -> np.ndarray:
    """:func:`make_code`, cached and read-only: the keys both players derive from the public seed."""
    keys = make_code(kind, n, d, seed, beta)
    keys.setflags(write=False)
    return keys


def _directions(keys) -> np.ndarray:
    keys = np.asarray(keys, dtype=np.float64)
    norms = np.linalg.norm(keys, axis=1, keepdims=True)
    return keys / np.where(norms > 0, norms, 1.0)


def coherence(keys) -> float:
    """``max_{l≠m} |<u_l, u_m>|`` of the directions ``u_l = k_l / ||k_l||`` (the Welch bound's quantity)."""
    directions = _directions(keys)
    gram = np.abs(directions @ directions.T)
    np.fill_diagonal(gram, 0.0)
    return float(gram.max()) if len(directions) > 1 else 0.0


def max_inner_product(keys) -> float:
    """``max_{l≠m} <u_l, u_m>`` (signed) of the directions: what the softmax spike competes with."""
    directions = _directions(keys)
    gram = directions @ directions.T
    np.fill_diagonal(gram, -np.inf)
    return float(gram.max()) if len(directions) > 1 else -1.0


def welch_bound(n: int, d: int) -> float:
    """Welch: ``n`` unit vectors in ``R^d`` have coherence ``>= sqrt((n - d) / (d (n - 1)))`` (0 if ``n <= d``)."""
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    return math.sqrt((n - d) / (d * (n - 1))) if n > d else 0.0


def lemma3_log_capacity(d: int, r: float, constant: str = "printed") -> float:
    """``ln n'`` that HO Lemma 3 guarantees for the reduction at dimension ``d`` and query norm ``r``.

    Lemma 3 gives ``n'`` keys with distortion ``ε`` when ``ln n' <= d (ε² - ε³)/12`` (printed) or
    ``ln(4 n'^3) <= d (ε² - ε³)/4`` (constant 4 kept); the reduction also needs
    ``r (1 - 2ε) > ln n'`` (eq. 16 with ``C = r``). The best ``ε in (0, 1/2)`` is taken on a fine
    grid. The value can be below ``ln 2``: then Lemma 3 promises fewer than two keys.
    """
    d = check_int("d", d, 1)
    r = check_real("r", r, 0.0)
    check_choice("constant", constant, ("printed", "corrected"))
    eps = np.linspace(1e-4, 0.5 - 1e-4, 5000)
    g = eps**2 - eps**3
    lemma = d * g / 12.0 if constant == "printed" else (d * g / 4.0 - math.log(4.0)) / 3.0
    return float(np.max(np.minimum(lemma, r * (1.0 - 2.0 * eps))))


# --- certificates ------------------------------------------------------------------------------


@claim(
    name="Welch bound",
    source="Welch (1974); reference line of the capacity figure",
    statement="n >= d unit vectors in R^d satisfy max_{l≠m} |<k_l,k_m>|^2 >= (n - d)/(d (n - 1)).",
    relied_on=True,
)
def _check_welch() -> Verdict:
    # Frame potential: ||G||_F^2 = sum of squared eigenvalues of the PSD Gram G (rank <= d, trace n)
    # is >= n^2/d by Cauchy-Schwarz; its diagonal contributes n, so some off-diagonal entry squared
    # is >= (n^2/d - n)/(n(n-1)). sympy closes the algebra; the eigenvalue step is cited.
    n, d = sp.symbols("n d", positive=True)
    mu2 = (n**2 / d - n) / (n * (n - 1))
    gap = sp.simplify(mu2 - (n - d) / (d * (n - 1)))
    lam = sp.symbols("l0:4", real=True)
    cauchy = sp.expand(4 * sum(x**2 for x in lam) - sum(lam) ** 2)
    sos = sp.expand(sum((lam[i] - lam[j]) ** 2 for i in range(4) for j in range(i + 1, 4)))
    if gap != 0 or sp.simplify(cauchy - sos) != 0:
        return failed(f"algebra residuals {gap}, {sp.simplify(cauchy - sos)}")
    worst = 0.0
    for n_val, d_val in ((8, 2), (20, 3), (50, 4), (100, 8)):
        for kind in CODE_KINDS:
            keys = make_code(kind, n_val, d_val, [7, n_val, d_val], beta=2.0 * d_val)
            slack = coherence(keys) - welch_bound(n_val, d_val)
            if slack < -1e-12:
                return failed(f"{kind} codebook n={n_val}, d={d_val} has coherence below Welch by {-slack:g}")
            worst = max(worst, welch_bound(n_val, d_val) / max(coherence(keys), 1e-300))
    return proved(
        "sympy: (n^2/d - n)/(n(n-1)) - (n-d)/(d(n-1)) simplifies to 0, and d·Σλ² - (Σλ)² is the sum of "
        "squares Σ_{i<j}(λ_i-λ_j)² (shown for d = 4; the same identity for any d gives ||G||_F² >= n²/d "
        "from rank <= d, trace n, which is cited). Sanity: every codebook kind at (n, d) in "
        f"{{(8,2), (20,3), (50,4), (100,8)}} respects it (largest Welch/coherence = {worst:.3f})"
    )


@claim(
    name="Corollary 9 n' from Lemma 3",
    source="HO Corollary 9 via Lemma 3 (THEORY §4)",
    statement="With d (eps^2 - eps^3)/12 >= ln n' the reduction has n' keys at distortion eps in (0, 1/2); "
    "the best exponent is max_eps (eps^2 - eps^3)/12 < 1/96, so Lemma 3 gives n' < e^{d/96}: fewer than "
    "2 keys for every d <= 66.",
    relied_on=True,
)
def _check_cor9_lemma3() -> Verdict:
    eps = sp.symbols("epsilon", positive=True)
    g = eps**2 - eps**3
    slope = sp.diff(g, eps)
    increasing = sp.factor(slope.subs(eps, sp.Rational(1, 2) / (1 + sp.Symbol("s", positive=True))))
    at_half = g.subs(eps, sp.Rational(1, 2)) / 12
    d_two = sp.ceiling(96 * sp.log(2))
    if not (increasing.is_positive and at_half == sp.Rational(1, 96) and d_two == 67):
        return failed(f"derivative {increasing}, value {at_half}, d {d_two}")
    return proved(
        f"sympy: d/dε (ε²-ε³) = {slope} is positive on (0, 1/2) (at ε = 1/(2(1+s)) it factors to "
        f"{increasing}), so the exponent (ε²-ε³)/12 is below its value {at_half} at ε = 1/2; "
        f"e^{{d/96}} >= 2 needs d >= 96 ln 2, i.e. d >= {d_two}"
    )
