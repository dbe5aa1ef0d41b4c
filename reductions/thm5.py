"""HO Theorem 5: the one-way randomized communication complexity of INDEX is Omega(N).

Statement (HO Definition 4, Theorem 5; docs/theory.md §1). Alice holds ``x in {0,1}^N``, Bob holds
``i in [N]``; Alice sends one message ``M`` and Bob must output ``x_i`` with probability
``>= 2/3``. Then ``|M| = Omega(N)``.

Proof (Fano, HO Appendix D). Take ``X`` uniform. ``X -> M -> X̂_i`` is a Markov chain, so by
Fano's inequality for a binary variable ``H(X_i | M) <= H_2(delta_i)`` with ``delta_i`` Bob's
error on bit ``i``. Then::

    |M| >= H(M) >= I(M; X) = N - H(X | M) >= sum_i [1 - H(X_i | M)]
        >= sum_i [1 - H_2(delta_i)] >= N (1 - H_2(delta)),        delta = mean_i delta_i,

the last step by concavity of ``H_2`` (Jensen). Public randomness changes nothing (condition on
it). The quantitative frontier drawn by the suite is therefore ``H_2(delta) >= 1 - M/N``, i.e.
accuracy ``<= 1 - H_2^{-1}(1 - M/N)``: :func:`protocols.fano.max_accuracy`.

The certificates below: the shape of ``H_2`` (derivative signs, so the inverse is well defined);
Jensen for ``H_2`` with any finite weights, by the tangent line (the tangent gap is a Bernoulli KL
divergence, ``>= 0`` by ``ln t >= 1 - 1/t``); Fano for binary ``X`` from Jensen and the symmetry of
``H_2``; the chain itself with public randomness (its information-theory steps cited from Cover &
Thomas, the arithmetic combining them checked by z3); the constant at error 1/3. Two code checks are
honestly only grid checks: the implementation of the frontier, and the frontier against every
deterministic protocol on a few bits (exhaustive).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from fractions import Fraction

from protocols.fano import max_accuracy
from reductions.certify import claim
from reductions.elementary import at
from reductions.tactics import ge, gt, le, lt
from reductions.tactics import Cited, GridCheck, Identity, Implies

__all__ = ["best_deterministic_accuracy"]

_P = sp.symbols("p", real=True)
_S = sp.symbols("s", positive=True)


def _h2(p):
    """``H_2(p) = -p log2 p - (1-p) log2 (1-p)`` as a sympy expression."""
    return -(p * sp.log(p) + (1 - p) * sp.log(1 - p)) / sp.log(2)


_H2 = _h2(_P)


def _h2_at(value):
    """``H_2(value)`` left unevaluated, so the statement shows what the engine simplifies."""
    with sp.evaluate(False):
        return _h2(sp.sympify(value))


def _h2_increasing():
    """``H_2'(p) > 0`` on ``(0, 1/2)``: ``p = 1/(2+s)``, ``s > 0``, covers exactly that interval."""
    return Implies(gt(sp.diff(_H2, _P).subs(_P, 1 / (2 + _S)), 0), where={_P: 1 / (2 + _S)},
                   note="H_2'(p) > 0 on (0, 1/2)")


def _h2_concave():
    """``H_2''(p) < 0`` on ``(0, 1)``: ``p = 1/(1+s)``, ``s > 0``."""
    return Implies(lt(sp.diff(_H2, _P, 2).subs(_P, 1 / (1 + _S)), 0), where={_P: 1 / (1 + _S)},
                   note="H_2''(p) < 0 on (0, 1)")


@claim(
    name="H2 increasing and concave on [0, 1/2]",
    source="HO Theorem 5 (Appendix D)",
    statement="H_2'(p) > 0 on (0, 1/2), H_2''(p) < 0 on (0, 1), H_2(p) -> 0 as p -> 0+ and H_2(1/2) = 1. "
    "With H_2(0) = 0 the mean value theorem makes H_2 strictly increasing on [0, 1/2] and concave on "
    "[0, 1], and the intermediate value theorem makes H_2^{-1}: [0, 1] -> [0, 1/2] (the frontier's) well defined.",
    relied_on=True,
)
def _check_h2_shape():
    return [
        _h2_increasing(),
        _h2_concave(),
        Identity(sp.Limit(_H2, _P, 0, "+"), 0, note="H_2(0+) = 0"),
        Identity(_h2_at(sp.Rational(1, 2)), 1, note="H_2(1/2) = 1"),
    ]


def _tangent_line_certificates() -> list:
    """``H_2(x) <= H_2(m) + H_2'(m)(x - m)`` for ``x, m in (0, 1)`` (the tangent of a concave function).

    The gap equals ``KL(x || m) / ln 2`` (an identity), and ``KL >= 0`` follows from
    ``ln t >= 1 - 1/t`` applied to ``t = x/m`` and ``t = (1-x)/(1-m)``.
    """
    a, b = sp.symbols("a b", positive=True)  # x = 1/(1+a), m = 1/(1+b): every pair of points of (0, 1)
    x, m = 1 / (1 + a), 1 / (1 + b)
    gap = _h2(m) + sp.diff(_H2, _P).subs(_P, m) * (x - m) - _h2(x)
    kl = (x * sp.log(x / m) + (1 - x) * sp.log((1 - x) / (1 - m))) / sp.log(2)
    t, k = sp.Symbol("t", positive=True), sp.Symbol("k", positive=True)
    phi = sp.log(t) - 1 + 1 / t  # phi(1) = 0, phi' = (t - 1)/t^2: minimum at t = 1
    dphi = sp.diff(phi, t)
    X, M, l1, l2, c = sp.symbols("x m ell1 ell2 c", real=True)
    return [
        Identity(gap, kl, where={sp.Symbol("x"): x, sp.Symbol("m"): m},
                 note="tangent gap H_2(m) + H_2'(m)(x-m) - H_2(x) = KL(x||m)/ln 2"),
        Identity(at(phi, t, 1), 0, note="phi(t) = ln t - 1 + 1/t vanishes at t = 1"),
        Implies(gt(dphi.subs(t, 1 + k), 0), where={t: 1 + k}, note="phi' > 0 on (1, oo)"),
        Implies(lt(dphi.subs(t, 1 / (1 + k)), 0), where={t: 1 / (1 + k)},
                note="phi' < 0 on (0, 1); so phi >= phi(1) = 0, i.e. ln t >= 1 - 1/t (mean value theorem)"),
        Implies(gt(sp.log(2), 0), note="ln 2 > 0"),
        Implies(ge((X * l1 + (1 - X) * l2) / c, 0),
                hypotheses=[gt(X, 0), lt(X, 1), gt(M, 0), lt(M, 1), gt(c, 0),
                            ge(l1, 1 - M / X), ge(l2, 1 - (1 - M) / (1 - X))],
                engine="z3",
                note="with ell1 = ln(x/m) >= 1 - m/x, ell2 = ln((1-x)/(1-m)) >= 1 - (1-m)/(1-x), c = ln 2: KL/ln 2 >= 0"),
    ]


def _jensen_certificates() -> list:
    """Finite Jensen for ``H_2``: ``Σ_k w_k H_2(e_k) <= H_2(Σ_k w_k e_k)``, ``w_k >= 0``, ``Σ w_k = 1``.

    Sum the tangent-line inequality at ``m = Σ w_k e_k`` with weights ``w_k`` (for any number K of
    points: sympy ``Sum`` over an ``IndexedBase``).
    """
    k, K = sp.symbols("k K", integer=True, positive=True)
    w = sp.IndexedBase("w", nonnegative=True)
    gaps = sp.IndexedBase("T", nonnegative=True)  # T_k = tangent gap at e_k, >= 0 by the tangent line
    e = sp.IndexedBase("e")
    h, g, m = sp.symbols("h g m", real=True)  # h = H_2(m), g = H_2'(m)
    H = sp.Function("H_2")
    sw, swe, swh, swt = sp.symbols("SW SWE SWH SWT", real=True)
    total = sp.Sum(w[k] * (h + g * (e[k] - m) - H(e[k])), (k, 1, K))
    split = h * sp.Sum(w[k], (k, 1, K)) + g * (sp.Sum(w[k] * e[k], (k, 1, K)) - m * sp.Sum(w[k], (k, 1, K))) \
        - sp.Sum(w[k] * H(e[k]), (k, 1, K))
    return _tangent_line_certificates() + [
        Identity(total, split, note="linearity of the finite sum of the weighted tangent gaps"),
        Implies(ge(sp.Sum(w[k] * gaps[k], (k, 1, K)), 0), note="a sum of products of nonnegative terms is >= 0"),
        Implies(le(swh, h),
                hypotheses=[sp.Eq(sw, 1), sp.Eq(swe, m), sp.Eq(swt, h * sw + g * (swe - m * sw) - swh), ge(swt, 0)],
                engine="z3",
                note="SW = Σ w_k = 1 and SWE = Σ w_k e_k = m turn the summed gaps SWT >= 0 into Σ w_k H_2(e_k) <= H_2(m)"),
    ]


@claim(
    name="Jensen step",
    source="HO Theorem 5 (Appendix D)",
    statement="For any K, weights w_k >= 0 with Σ w_k = 1 and points e_k in (0, 1): "
    "Σ_k w_k H_2(e_k) <= H_2(Σ_k w_k e_k); with w_k = 1/N this is Σ_i H_2(δ_i) <= N H_2(mean δ). "
    "Proof checked: H_2(m) + H_2'(m)(x-m) - H_2(x) = KL(x||m)/ln 2 >= 0 (by ln t >= 1 - 1/t), summed at "
    "m = Σ w_k e_k. Points at 0 or 1 follow by continuity of H_2.",
    relied_on=True,
)
def _check_jensen():
    S, N, h = sp.symbols("S N h", real=True)
    return _jensen_certificates() + [
        Implies(le(S, N * h), hypotheses=[gt(N, 0), le(S / N, h)], engine="z3",
                note="uniform weights 1/N: (1/N) Σ H_2(δ_i) <= H_2(mean) gives Σ H_2(δ_i) <= N H_2(mean)"),
    ]


@claim(
    name="Fano for a binary variable",
    source="HO Theorem 5 (Appendix D)",
    statement="For binary X, M with finitely many values and any decoder g (a function of M): "
    "H(X | M) <= H_2(P_e), P_e = Pr[g(M) != X]. Proof checked: H(X|M) = Σ_μ P(μ) H_2(q_μ), "
    "q_μ = P(X = 1 | M = μ) (definition); the error given μ is q_μ or 1 - q_μ, which have the same H_2 "
    "(symmetry); then Jensen with weights P(μ) (certificates repeated here).",
    relied_on=True,
)
def _check_fano():
    return [Identity(_h2_at(1 - _P), _H2, note="H_2(1 - p) = H_2(p)")] + _jensen_certificates()


@claim(
    name="max_accuracy matches the frontier",
    source="HO Theorem 5 (docs/theory.md §1)",
    statement="On a grid of 64 ratios rho = M/N in [0, 0.999] (N = 1000): a = max_accuracy(M, N) has "
    "1 - a in [0, 1/2] and |H_2(1 - a) - (1 - rho)| <= 1e-12 (checked at 50 digits from the returned float), "
    "a is nondecreasing along the grid, a = 1/2 at rho = 0 and a = 1 at rho in {1, 1.5, 10}.",
    relied_on=True,
)
def _check_max_accuracy():
    ratios = np.linspace(0.0, 0.999, 64)
    n_bits = 1000.0
    acc = np.asarray(max_accuracy(ratios * n_bits, n_bits), dtype=float)
    above = np.asarray(max_accuracy(np.array([1.0, 1.5, 10.0]) * n_bits, n_bits), dtype=float)
    e, r, a1, a2, a = sp.symbols("e rho a1 a2 a", real=True)
    # e = 1 - a computed exactly from the returned float a
    exact = [{e: 1 - sp.Rational(float(x)), r: sp.Rational(float(y))} for x, y in zip(acc, ratios)]
    return [
        GridCheck(sp.And(ge(e, 0), le(e, sp.Rational(1, 2)), le(sp.Abs(_h2(e) - (1 - r)), sp.Rational(1, 10**12))),
                  exact, note="1 - a in [0, 1/2] and H_2(1 - a) = 1 - rho to 1e-12"),
        GridCheck(le(a1, a2), [{a1: sp.Rational(float(x)), a2: sp.Rational(float(y))} for x, y in zip(acc, acc[1:])],
                  note="nondecreasing along the grid"),
        GridCheck(sp.Eq(a, sp.Rational(1, 2)), [{a: sp.Rational(float(max_accuracy(0.0, n_bits)))}],
                  note="a = 1/2 at rho = 0"),
        GridCheck(sp.Eq(a, 1), [{a: sp.Rational(float(x))} for x in above], note="a = 1 at rho >= 1"),
    ]


@claim(
    name="Theorem 5 constant at success 2/3",
    source="HO Theorem 5",
    statement="1 - H_2(1/3) = 5/3 - log2 3 > 0.08 (so error delta <= 1/3 gives |M| >= 0.08 N through the chain).",
    relied_on=True,
)
def _check_constant():
    closed = sp.Rational(5, 3) - sp.log(3) / sp.log(2)
    return [
        Identity(1 - _h2_at(sp.Rational(1, 3)), closed, note="1 - H_2(1/3) = 5/3 - log2 3"),
        Implies(gt(closed, sp.Rational(2, 25)), note="5/3 - log2 3 = 0.0817... > 0.08 (sympy, numeric sign with error control)"),
    ]


def best_deterministic_accuracy(n_bits: int, message_bits: int) -> float:
    """Best average accuracy of any deterministic INDEX protocol, by exhaustive search.

    Enumerates every map ``{0,1}^N -> {0,1}^m`` (``(2^m)^(2^N)`` of them, so only tiny cases)
    and lets Bob answer each ``(message, i)`` by majority. Accuracy is averaged over uniform
    ``x`` and uniform ``i``.
    """
    xs = np.array(list(itertools.product((0, 1), repeat=n_bits)), dtype=np.int64)  # (2^N, N)
    n_msgs = 2**message_bits
    # all functions at once, in batches: maps[k, x] = message
    funcs = np.array(list(itertools.product(range(n_msgs), repeat=len(xs))), dtype=np.int64)
    onehot = np.eye(n_msgs, dtype=np.int64)[funcs]  # (K, 2^N, 2^m)
    ones = np.einsum("kxm,xi->kmi", onehot, xs)  # count of x with message m and x_i = 1
    total = onehot.sum(axis=1)[:, :, None]  # (K, 2^m, 1)
    correct = np.maximum(ones, total - ones).sum(axis=(1, 2))
    return float(correct.max()) / (len(xs) * n_bits)


@claim(
    name="Frontier holds for every deterministic protocol (exhaustive)",
    source="HO Theorem 5 (docs/theory.md §1)",
    statement="Every deterministic one-way protocol with an m-bit message on N bits has average accuracy "
    "b <= max_accuracy(m, N), i.e. H_2(1 - b) >= 1 - m/N with 1 - b in [0, 1/2]; checked exhaustively "
    "(all maps {0,1}^N -> {0,1}^m, majority decoding) for (N, m) in {(2,1), (3,1), (3,2), (4,1)} only.",
    relied_on=True,
)
def _check_exhaustive():
    cases = ((2, 1), (3, 1), (3, 2), (4, 1))
    b, m, N = sp.symbols("b m N", positive=True)
    points = []
    for n_bits, message_bits in cases:
        best = Fraction(best_deterministic_accuracy(n_bits, message_bits)).limit_denominator(2**n_bits * n_bits)
        points.append({b: sp.Rational(best.numerator, best.denominator), m: message_bits, N: n_bits})
    return GridCheck(
        sp.And(ge(b, sp.Rational(1, 2)), lt(b, 1), ge(_h2(1 - b), 1 - m / N)), points,
        note="exact best accuracy of each (N, m); H_2 decreasing on [1/2, 1] makes H_2(1-b) >= 1 - m/N mean b <= frontier",
    )


@claim(
    name="Theorem 5 chain with public randomness",
    source="HO Theorem 5 (Appendix D)",
    statement="With X uniform on {0,1}^N, public randomness R independent of X, message M and Bob's guess of "
    "X_i a function of (M, R) with error δ_i, δ = mean δ_i: |M| >= H(M|R) >= I(X; M|R) = I(X; M, R) "
    ">= Σ_i [1 - H(X_i | M, R)] >= Σ_i [1 - H_2(δ_i)] >= N (1 - H_2(δ)); and δ <= 1/3 gives |M| > 0.08 N. "
    "The information-theory steps are cited; Fano and Jensen are the claims above; the arithmetic "
    "combining them is checked.",
    relied_on=True,
)
def _check_chain():
    L, HM, I, HX, S, Sh, N, h, h3 = sp.symbols("L HM I HX S Sh N h h3", real=True)
    ct = "Cover & Thomas, Elements of Information Theory (2nd ed.)"
    return [
        Cited("H(M | R) <= H(M) <= log2 |support of M| <= |M| bits", f"{ct}, Thm 2.6.4 and 2.6.5"),
        Cited("I(X; M, R) = I(X; R) + I(X; M | R) (chain rule) with I(X; R) = 0 (R independent of X), "
              "and I(X; M | R) <= H(M | R)", f"{ct}, Thm 2.5.2 and eq. (2.45)"),
        Cited("H(X) = N for uniform X and H(X | M, R) <= Σ_i H(X_i | M, R) (independence bound)",
              f"{ct}, Thm 2.6.6"),
        Cited("H(X_i | M, R) <= H_2(δ_i) and Σ_i H_2(δ_i) <= N H_2(δ)",
              "claims 'Fano for a binary variable' (message (M, R)) and 'Jensen step' of reductions.thm5"),
        Implies(ge(L, N * (1 - h)),
                hypotheses=[ge(L, HM), ge(HM, I), sp.Eq(I, N - HX), le(HX, S), le(S, Sh), le(Sh, N * h)],
                engine="z3", note="the chain: |M| >= H(M|R) >= I = N - H(X|M,R) >= N - Σ H(X_i|M,R) >= N - Σ H_2(δ_i) >= N(1 - H_2(δ))"),
        _h2_increasing(),
        Implies(lt(_h2_at(sp.Rational(1, 3)), sp.Rational(23, 25)), note="H_2(1/3) < 0.92"),
        Implies(gt(L, sp.Rational(2, 25) * N),
                hypotheses=[gt(N, 0), ge(L, N * (1 - h)), le(h, h3), lt(h3, sp.Rational(23, 25))], engine="z3",
                note="δ <= 1/3 and H_2 increasing on [0, 1/2] give H_2(δ) <= H_2(1/3) < 0.92"),
    ]
