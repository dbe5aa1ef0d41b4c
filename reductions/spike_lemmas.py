"""Certificate builders shared by the spike reductions of :mod:`reductions.tensor`,
:mod:`reductions.thm17` and :mod:`reductions.cor16` (HO Theorem 6's pattern, docs/theory.md §3).

Every function returns certificates of :mod:`reductions.tactics` (never a verdict); the claims
that use them list them among their own, so the runner re-checks each one. The pieces:

* :func:`exp_log_monotone`: ``ln R > 0 iff R > 1`` and ``ln R >= 0 iff R >= 1`` for ``R > 0``,
  and ``a <= b => e^a <= e^b``: sympy's sign inference on ``ln(1 + y)``, ``ln(1/(1 + y))``.
  This is how a bound on a score becomes a bound on its weight ``e^{score}`` without z3 (which
  has no exp).
* :func:`sum_split_rule`: a sum over ``m + 1`` terms is the sum over ``m`` plus the last term.
* :func:`sum_bounds`: ``m`` terms each ``<= U`` sum to ``<= mU`` (each ``>= L``: ``>= mL``) for a
  symbolic count ``m``, by sympy's sign inference on ``Sum``.
* :func:`two_case_bounds`: the two-case step of HO eqs. 13/15 over the reals (z3): a spike of
  total weight ``S >= A P`` carrying the bit, competitors of total weight ``c <= B Q`` carrying a
  part ``r in [0, c]``.
* :func:`threshold_iff`: ``(1+η)δ < (1-η)Δ iff C > [ln(B/A) + ln((1+η)/(1-η))]/(1-2ε)`` for
  every real ``C``, ``ε in (0, 1/2)``, ``η in (0, 1)`` (or ``η = 0``), both directions.
* :func:`approximate_decoding`: a ``(1±η)`` output of a coordinate in ``[0, δ]`` is below Bob's
  threshold ``τ`` (the middle of ``[(1+η)δ, (1-η)Δ]``), one in ``[Δ, ∞)`` above it.
* :class:`SumIdentity`: an :class:`~reductions.tactics.Identity` that evaluates finite sums
  (``Sum.doit``) before simplifying (the tactic's ``simplify`` leaves ``Sum(1, (a, 1, n))``
  unevaluated); a local workaround, reported to the lead.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from reductions.tactics import Identity, Implies, Outcome, eps_in_open_half, eta_in_open_unit, ge, gt, le, lt






def iff(p, q):
    """``p <=> q`` as two implications (z3 reads ``Implies``, not ``Equivalent``)."""
    return sp.And(sp.Implies(p, q), sp.Implies(q, p))


@dataclass(frozen=True)
class SumIdentity(Identity):
    """``lhs == rhs`` after evaluating finite sums and products (``doit``), then ``simplify``.

    ``Sum.doit`` is exact (``Sum(x, (b, 1, n)) = n x`` for ``x`` free of ``b``); sums it cannot
    evaluate (over symbolic entries) stay as they are and must cancel.
    """

    def verify(self) -> Outcome:
        difference = (sp.sympify(self.lhs) - sp.sympify(self.rhs)).doit()
        closed = difference == 0 or sp.simplify(difference) == 0
        if not closed:
            closed = sp.simplify(sp.expand(difference)) == 0
        detail = self.note or ("after Sum.doit the difference simplifies to 0" if closed
                               else "difference does not simplify to 0 after Sum.doit")
        return Outcome(bool(closed), "proved", "sympy", self.statement(), detail)


def exp_log_monotone() -> list:
    """The monotonicity of ``exp``/``ln`` the chains use, certified by sympy's sign inference.

    ``R > 1 => ln R > 0``, ``0 < R <= 1 => ln R <= 0`` (so ``ln R > 0 iff R > 1``), ``R >= 1 =>
    ln R >= 0``, ``0 < R < 1 => ln R < 0`` (so ``ln R >= 0 iff R >= 1``), each with ``R``
    parametrised onto its range; and ``ln(e^b/e^a) = b - a`` for real ``a, b``, so ``a <= b``
    gives ``ln(e^b/e^a) >= 0``, hence ``e^b/e^a >= 1``: exp is increasing.
    """
    y = sp.Symbol("y", positive=True)
    z = sp.Symbol("z", nonnegative=True)
    R = sp.Symbol("R", positive=True)
    a, b = sp.symbols("a b", real=True)
    return [
        Implies(gt(sp.log(1 + y), 0), where={R: 1 + y}, note="R > 1 => ln R > 0 (R = 1 + y covers (1, oo))"),
        Implies(le(sp.log(1 / (1 + z)), 0), where={R: 1 / (1 + z)},
                note="0 < R <= 1 => ln R <= 0 (R = 1/(1 + z) covers (0, 1])"),
        Implies(ge(sp.log(1 + z), 0), where={R: 1 + z}, note="R >= 1 => ln R >= 0 (R = 1 + z covers [1, oo))"),
        Implies(lt(sp.log(1 / (1 + y)), 0), where={R: 1 / (1 + y)},
                note="0 < R < 1 => ln R < 0 (R = 1/(1 + y) covers (0, 1))"),
        Identity(sp.log(sp.exp(b) / sp.exp(a)), b - a, note="ln(e^b/e^a) = b - a: with the above, a <= b => e^a <= e^b"),
    ]


def sum_bounds() -> list:
    """``sum_{k<=m} w_k <= mU`` when every ``w_k = U - g_k <= U``, and ``>= mL`` when ``w_k = L + g_k``."""
    m, k = sp.symbols("m k", integer=True, positive=True)  # m = 0 is the empty sum
    g = sp.IndexedBase("g", nonnegative=True)
    U, L = sp.symbols("U L", real=True)
    w = sp.IndexedBase("w")
    return [
        Implies(le(sp.Sum(U - g[k], (k, 1, m)), m * U), where={w[k]: U - g[k]},
                note="m terms each <= U sum to <= mU (symbolic m)"),
        Implies(ge(sp.Sum(L + g[k], (k, 1, m)), m * L), where={w[k]: L + g[k]},
                note="m terms each >= L sum to >= mL (symbolic m)"),
    ]


def sum_split_rule() -> list:
    """``sum_{a<=m+1} f_a = sum_{a<=m} f_a + f_{m+1}`` for an arbitrary summand ``f`` and symbolic ``m``.

    Used to split the spike row off a sum over rows (relabelled so that it is the last: a finite
    sum does not depend on the order of its terms) and the pairs touching Bob's token off a sum
    over pairs.
    """
    a, m = sp.symbols("a m", integer=True, positive=True)
    f = sp.IndexedBase("f")
    return [
        Identity(sp.Sum(f[a], (a, 1, m + 1)), sp.Sum(f[a], (a, 1, m)) + sp.Sum(f[a], (a, m + 1, m + 1)),
                 note="a sum splits off its last term (arbitrary summand f, symbolic m)"),
        SumIdentity(sp.Sum(f[a], (a, m + 1, m + 1)), f[m + 1], note="a one-term sum is its term"),
    ]


def two_case_bounds(A, B) -> list:
    """HO eqs. 13/15 in general (z3): spike weight ``S >= A P`` carries the bit, competitors ``c <= B Q``.

    The output coordinate is ``(S x + r)/(S + c)`` with ``0 <= r <= c`` (the competitors' share of
    ones). ``x = 0``: ``r/(S + c) <= BQ/(BQ + AP) = δ``; ``x = 1``: ``(S + r)/(S + c) >= AP/(AP + BQ) = Δ``.
    ``A``, ``B`` are positive expressions (e.g. ``n`` and ``n^2 + n + 1``).
    """
    S, c, P, Q = sp.symbols("S c P Q", positive=True)
    r = sp.Symbol("r", nonnegative=True)
    hypotheses = [ge(S, A * P), le(c, B * Q), le(r, c)]
    return [
        Implies(le(r / (S + c), B * Q / (B * Q + A * P)), hypotheses, engine="z3",
                note="x_ij = 0: the output is at most δ"),
        Implies(ge((S + r) / (S + c), A * P / (A * P + B * Q)), hypotheses, engine="z3",
                note="x_ij = 1: the output is at least Δ"),
    ]


def spike_bounds(A, B, eps, C=None) -> tuple[sp.Expr, sp.Expr]:
    """``δ = B e^{Cε}/(B e^{Cε} + A e^{C(1-ε)})`` and ``Δ = A e^{C(1-ε)}/(A e^{C(1-ε)} + B e^{Cε})``."""
    C = sp.Symbol("C", real=True) if C is None else C
    P, Q = A * sp.exp(C * (1 - eps)), B * sp.exp(C * eps)
    return Q / (Q + P), P / (P + Q)


def threshold_iff(A, B, with_eta: bool, label: str) -> list:
    """``(1+η)δ < (1-η)Δ iff C > T``, ``T = [ln(B/A) + ln((1+η)/(1-η))]/(1-2ε)``, both directions.

    Domain: every real ``C``, ``ε = 1/(2(1+s))`` with ``s > 0`` (exactly ``ε in (0, 1/2)``) and
    ``η = u/(1+u)`` with ``u > 0`` (exactly ``η in (0, 1)``) or ``η = 0``. The chain:
    ``(1+η)δ < (1-η)Δ iff R > 1`` with ``R = (1-η)Δ/((1+η)δ) > 0`` (z3); ``R > 1 iff ln R > 0``
    (:func:`exp_log_monotone`); ``ln R = (1-2ε)(C - T)`` (sympy identity, equal denominators);
    ``(1-2ε)(C - T) > 0 iff C > T`` (z3, ``1 - 2ε = s/(1+s) > 0``).
    """
    s, eps = eps_in_open_half()
    C = sp.Symbol("C", real=True)
    epsilon, eta_symbol = sp.Symbol("epsilon"), sp.Symbol("eta")
    where = {epsilon: eps}
    if with_eta:
        u, eta = eta_in_open_unit()
        where[eta_symbol] = eta
    else:
        eta = sp.Integer(0)
    delta, Delta = spike_bounds(A, B, eps, C)
    T = (sp.log(B / A) + sp.log((1 + eta) / (1 - eta))) / (1 - 2 * eps)
    R = (1 - eta) * Delta / ((1 + eta) * delta)
    lo, hi, ratio = sp.symbols("lo hi R", positive=True)
    L, D = sp.symbols("L D", real=True)
    gap = sp.Symbol("C_minus_T", real=True)
    return [
        Implies(gt((1 + eta) * delta, 0), where=where, note=f"{label}: (1+η)δ > 0"),
        Implies(gt((1 - eta) * Delta, 0), where=where, note=f"{label}: (1-η)Δ > 0"),
        Implies(iff(lt(lo, hi), gt(hi / lo, 1)), engine="z3", where={lo: sp.Symbol("(1+η)δ"), hi: sp.Symbol("(1-η)Δ")},
                note=f"{label}: (1+η)δ < (1-η)Δ iff R = (1-η)Δ/((1+η)δ) > 1"),
        *exp_log_monotone()[:2],
        Identity(sp.log(R), (1 - 2 * eps) * (C - T), where=where,
                 note=f"{label}: ln R = (1-2ε)(C - T) (equal denominators cancel)"),
        Implies(iff(gt(L, 0), gt(D, 0)), [sp.Eq(L, s / (1 + s) * D)], engine="z3",
                where={L: sp.Symbol("ln R"), D: gap, sp.Symbol("1-2ε"): s / (1 + s)},
                note=f"{label}: (1-2ε)(C - T) > 0 iff C > T, as 1 - 2ε = s/(1+s) > 0"),
    ]


def approximate_decoding(with_eta: bool = True) -> list:
    """A ``(1±η)`` output ``y`` of a coordinate ``O >= 0`` lands on the right side of ``τ`` (z3).

    ``|y - O| <= ηO`` and ``(1+η)δ < (1-η)Δ``, ``τ = ((1+η)δ + (1-η)Δ)/2``: ``O <= δ => y < τ``
    and ``O >= Δ => y > τ``, for every ``η in (0, 1)`` (``η = u/(1+u)``) or ``η = 0``.
    """
    O, y = sp.symbols("O y", real=True)
    delta, Delta = sp.symbols("delta Delta", positive=True)
    if with_eta:
        u, eta = eta_in_open_unit()
        where = {sp.Symbol("eta"): eta}
    else:
        eta, where = sp.Integer(0), {}
    tau = ((1 + eta) * delta + (1 - eta) * Delta) / 2
    common = [ge(O, 0), le(y - O, eta * O), ge(y - O, -eta * O), lt((1 + eta) * delta, (1 - eta) * Delta)]
    return [
        Implies(lt(y, tau), [*common, le(O, delta)], engine="z3", where=where,
                note="x_ij = 0: every (1±η) output is below Bob's threshold τ"),
        Implies(gt(y, tau), [*common, ge(O, Delta)], engine="z3", where=where,
                note="x_ij = 1: every (1±η) output is above Bob's threshold τ"),
    ]
