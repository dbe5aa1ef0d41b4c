"""Key codebooks for the low-dimensional reduction (HO Corollary 9), spherical codes and the Welch bound.

In ``d`` dimensions the reduction of HO Theorem 6 can only use as many keys as ``d`` dimensions hold
"nearly orthogonally". HO uses JL images (Lemma 3), which promise ``n' = exp(d (ε² - ε³)/12)`` keys
with inner products within ``±ε``; for ``d <= 66`` that promise is vacuous (``n' < 2``, certificate below). This module
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
from reductions.certify import claim
from reductions.jl import gaussian_codebook
from reductions.monotone import exp_increasing
from reductions.tactics import Cited, Identity, Implies, eps_in_open_half, ge, gt

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
    statement="n >= 2 unit vectors in R^d (d >= 1) satisfy max_{l≠m} <k_l,k_m>^2 >= (n - d)/(d (n - 1)). "
    "Certified: Cauchy-Schwarz Σ_{i<=k} λ_i² >= (Σλ_i)²/k for symbolic k, the frame bound ||G||_F² >= n²/d "
    "and the final algebra; cited: the spectral facts of the Gram matrix (rank <= d, trace n, "
    "||G||_F² = Σλ_i²).",
    relied_on=True,
)
def _check_welch():
    i, p = sp.symbols("i p", integer=True)
    k = sp.Symbol("k", integer=True, positive=True)  # rank of the Gram matrix
    lam = sp.IndexedBase("lambda", real=True)  # its nonzero eigenvalues
    y = sp.IndexedBase("y", real=True)
    total = sp.Sum(lam[i], (i, 1, k))
    spread = sp.Sum((lam[i] - total / k) ** 2, (i, 1, k))
    n, d, F, SS, Off, mu2 = sp.symbols("n d F SS Off mu2", real=True)
    pairs = sp.Symbol("P", integer=True, positive=True)
    h = sp.IndexedBase("h", nonnegative=True)  # mu2 - <k_l,k_m>^2 >= 0 for each ordered pair l != m
    i0 = sp.Symbol("i0", integer=True, positive=True)
    rest = sp.Symbol("q", integer=True, nonnegative=True)
    off_diagonal = sp.Sum(1 - sp.KroneckerDelta(i0, p), (p, 1, i0 + rest))
    return [
        Cited("the Gram matrix G = X X^T of n unit vectors (rows of X in R^{n x d}) is symmetric positive "
              "semidefinite of rank k with 1 <= k <= d; its nonzero eigenvalues λ_1..λ_k satisfy "
              "Σλ_i = tr G = n and Σλ_i² = tr G² = ||G||_F²",
              "spectral theorem for real symmetric matrices; rank(X X^T) <= d"),
        Identity(spread, sp.Sum(lam[i] ** 2, (i, 1, k)) - total**2 / k,
                 note="Σ(λ_i - mean)² = Σλ_i² - (Σλ_i)²/k for symbolic k"),
        Implies(ge(sp.Sum(y[i] ** 2, (i, 1, k)), 0),
                note="a sum of real squares is >= 0 (sympy), for any reals y_i, here y_i = λ_i - Σλ/k"),
        Implies(F >= n**2 / d, [sp.Eq(F - n**2 / k, SS), SS >= 0, k <= d, d >= 1, n >= 2],
                where={F: "||G||_F^2 = Σλ_i²", SS: "Σ(λ_i - n/k)²"}, engine="z3",
                note="with Σλ_i = n (cited) the identity above reads F - n²/k = SS; so F >= n²/k >= n²/d"),
        Identity(off_diagonal, i0 + rest - 1,
                 note="row i0 of n = i0 + q rows has n - 1 off-diagonal entries (sympy sums the Kronecker delta)"),
        Implies(ge(sp.Sum(h[p], (p, 1, pairs)), 0), note="Σ of the n(n-1) gaps mu2 - <k_l,k_m>² >= 0"),
        Identity(sp.Sum(mu2 - h[p], (p, 1, pairs)), pairs * mu2 - sp.Sum(h[p], (p, 1, pairs)),
                 note="Σ_{l≠m} <k_l,k_m>² = P mu2 - Σ gaps, P = n(n-1) ordered pairs"),
        Implies(mu2 >= (n - d) / (d * (n - 1)),
                [F >= n**2 / d, sp.Eq(F, n + Off), Off <= n * (n - 1) * mu2, n >= 2, d >= 1, mu2 >= 0],
                where={F: "||G||_F^2 = Σ_l <k_l,k_l>^2 + Σ_{l≠m} <k_l,k_m>^2", Off: "Σ_{l≠m} <k_l,k_m>^2",
                       mu2: "max_{l≠m} <k_l,k_m>^2"}, engine="z3",
                note="n + n(n-1) mu2 >= ||G||_F² >= n²/d gives Welch's bound"),
    ]


@claim(
    name="Corollary 9 n' from Lemma 3",
    source="HO Corollary 9 via Lemma 3 (docs/theory.md §4)",
    statement="Under Lemma 3's printed requirement ln n' <= d (eps^2 - eps^3)/12 with eps in (0, 1/2): "
    "(eps^2 - eps^3)/12 < 1/96, so ln n' < d/96; for every d <= 66 this gives n' < 2 "
    "(Lemma 3 promises fewer than two keys).",
    relied_on=True,
)
def _check_cor9_lemma3():
    s, eps = eps_in_open_half()
    epsilon = sp.Symbol("epsilon")
    g = eps**2 - eps**3
    G, Ln, L2 = sp.symbols("G Ln L2", real=True)
    d = sp.Symbol("d", positive=True)
    N = sp.Symbol("N", positive=True)
    X = sp.Symbol("X", positive=True)
    two = sp.Mul(sp.exp(sp.log(N), evaluate=False), sp.exp(sp.log(2) - sp.log(N), evaluate=False), evaluate=False)
    return [
        Implies(sp.StrictLessThan(g / 12, sp.Rational(1, 96), evaluate=False), where={epsilon: eps},
                note="(ε² - ε³)/12 < 1/96 on (0, 1/2)"),
        Implies(gt(sp.log(2), sp.Rational(11, 16)), note="ln 2 > 66/96"),
        Implies(Ln < L2, [Ln <= d * G / 12, G < sp.Rational(1, 8), d <= 66, L2 > sp.Rational(11, 16)],
                where={G: epsilon**2 - epsilon**3, Ln: sp.log(sp.Symbol("n'")), L2: sp.log(2)}, engine="z3",
                note="ln n' <= d(ε²-ε³)/12 < d/96 <= 66/96 < ln 2"),
        *exp_increasing(),
        Identity(two, 2, note="n' e^{ln 2 - ln n'} = 2 (N = n')"),
        Implies(N < 2, [sp.Eq(N * X, 2), X > 1], where={N: sp.Symbol("n'"), X: sp.exp(L2 - Ln)}, engine="z3",
                note="ln 2 - ln n' > 0 gives X = e^{ln 2 - ln n'} > 1 (exp lemma above), so n' = 2/X < 2"),
    ]
