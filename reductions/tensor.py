"""Tensor attention (TA, docs/theory.md §8): the KV-cache barrier Ω(nd) for four caches, made executable.

Chen, Li, Liang, Shi, Song, Tian (TA) state that for ``d = Ω(log n)`` any algorithm for
tensor-attention token generation needs Ω(nd) bits, and that the regime ``d = o(log n)`` mirrors
HO Corollary 9. The seed text gives no formulas, so everything below is **derived by the suite**
and checked here; docs/theory.md §8 proposes the stream. Read top to bottom:

1. **The stream** (:class:`TensorIndexReduction`). Alice holds ``x in {0,1}^{n x d}`` and streams
   ``n`` tokens ``(q, k1, k2, v1, v2) = (0, f(e_a), 1^d, x_{a,:}, 1^d)`` (JL keys in ``K1``,
   all-ones ``K2`` and ``V2``, the bits in ``V1``). Bob streams ``(C·f(e_i), 0, 0, 0, 0)``.
2. **Why it works.** The pair ``(a, b)`` scores ``<C k_i, k1_a ∘ 1> = C<k_i, k_a>``, independent
   of ``b``, with value ``x_a ∘ 1 = x_a``; the ``2n + 1`` pairs touching Bob's token score 0 and
   have value 0. So the output is ``sum_a n e^{C<k_i,k_a>} x_a / (n sum_a e^{C<k_i,k_a>} + 2n + 1)``:
   the ``n`` spike pairs ``(i, ·)`` against ``M = n^2 + n + 1`` competing pairs.
3. **Two-case bounds** (the analogue of HO eqs. 13, 15): with ``|<k_l,k_m>| <= ε`` off the
   diagonal and ``<k_l,k_l> >= 1 - ε``,
   ``x_ij = 0 => O_j <= δ_T(C) = M e^{Cε} / (M e^{Cε} + n e^{C(1-ε)})`` and
   ``x_ij = 1 => O_j >= Δ_T(C) = n e^{C(1-ε)} / (n e^{C(1-ε)} + M e^{Cε})``.
4. **Threshold on C** (analogue of eq. 16 and Theorem 8): ``(1+η)δ_T < (1-η)Δ_T`` iff
   ``C > [ln(M/n) + ln((1+η)/(1-η))] / (1 - 2ε)``, ``M/n = n + 1 + 1/n``: HO's threshold plus
   at most ``(1/n + 1/n^2)/(1-2ε)``. The suite's default C is twice the threshold (as HO's
   ``2 ln n/(1-2ε)`` is twice eq. 16's).
5. **Certificates** for 2-4 and for the block form of the kernel, registered with
   :mod:`reductions.certify`: the output assembled from the definition over all ``(n+1)^2`` pairs,
   the two-case step and both directions of the thresholds (lemmas shared with Theorem 26 in
   :mod:`reductions.spike_lemmas`), and the chain end to end (citing HO Lemma 3 and Theorem 5).
6. **SubGen-style 4-cache guarantee** (:class:`caches.tensor.SubGenFourCache`, suite-derived):
   ``Ẑ/Z`` within ``e^{±2ρ}`` deterministically, an unbiased numerator with a second-moment
   bound, and :func:`subgen_guarantee` measuring both per query; certificates for each step.
7. **Experiments** (``make tensor``): ``tensor_game``, the INDEX game for the tensor caches (accuracy
   vs memory ratio under the Fano frontier); ``tensor_threshold``, accuracy vs C around the
   threshold against the worst ``(1±η)`` output (Bob's accuracy, the flipped decoder's
   ``1 - accuracy`` and the fraction of coordinates hidden: the adversary must hide the bits, not
   invert them); ``tensor_capacity``, the low-dimensional capacity (largest ``n'`` decoded at
   dimension ``d`` under a bounded query norm, beside HO's standard reduction); ``tensor_memory``,
   the memory of the 2-cache vs the 4-cache (exact byte counts; their per-token time is a
   measurement and lives in ``benchmarks/tensor.py``); ``tensor_subgen``, the SubGen-style cache's
   error against its guarantee.

Because Fano's bound (HO Theorem 5) holds for any message, decoding all ``n·d`` bits (HO Remark
7: one probe per row, batched) forces Ω(nd) bits of state on every tensor cache: TA's statement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.adversary import AdversarialApproximation
from caches.exact import ExactCache
from caches.params import ParameterError, check_int, check_real
from caches.spec import build
from caches.tensor import (
    ExactFourCache,
    ExactTwoCache,
    HashedBitsFourCache,
    PooledQuantizedFourCache,
    QuantizedFourCache,
    SubGenFourCache,
    tensor_pair_sums,
)
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows, score, trial_input
from reductions.certify import claim
from reductions.jl import CODEBOOKS
from reductions.spike_lemmas import (
    approximate_decoding,
    exp_log_monotone,
    ge,
    gt,
    le,
    spike_bounds,
    sum_bounds,
    sum_split_rule,
    threshold_iff,
    two_case_bounds,
)
from reductions.tactics import Cited, GridCheck, Identity, Implies, eps_in_open_half
from reductions.spike import (
    SPREAD_NOTE,
    SUCCESS_ACCURACY,
    c_curves,
    c_sweep_trial,
    median_interval,
    public_codebook,
    spread_shown,
    sweep_c_grid,
    threshold_C,
    threshold_spread,
    trial_eps,
)
from reductions.thm6 import ExactOutputReduction

# --- 3./4. two-case bounds and the threshold on C ------------------------------------------


def competing_pairs(n: int) -> int:
    """``M = (n+1)^2 - n = n^2 + n + 1``: every pair of Bob's ``(n+1)``-token context but the spike's ``n``."""
    return n * n + n + 1


def tensor_delta(C: float, eps: float, n: int) -> float:
    """``δ_T(C) = M e^{Cε} / (M e^{Cε} + n e^{C(1-ε)})``: the largest output when ``x_ij = 0``."""
    return 1.0 / (1.0 + math.exp(min(700.0, C * (1 - 2 * eps) - math.log(competing_pairs(n) / n))))


def tensor_Delta(C: float, eps: float, n: int) -> float:  # noqa: N802 - the paper's Δ
    """``Δ_T(C) = n e^{C(1-ε)} / (n e^{C(1-ε)} + M e^{Cε}) = 1 - δ_T(C)``: the smallest output when ``x_ij = 1``."""
    return 1.0 - tensor_delta(C, eps, n)


def tensor_threshold_C(n: int, eps: float, eta: float = 0.0) -> float:  # noqa: N802
    """Smallest C with ``(1+η)δ_T < (1-η)Δ_T``: ``[ln(n + 1 + 1/n) + ln((1+η)/(1-η))] / (1 - 2ε)``."""
    n = check_int("n", n, 2)
    eps = check_real("eps", eps, 0.0, 0.5, low_open=True, high_open=True)
    eta = check_real("eta", eta, 0.0, 1.0, high_open=True)
    return (math.log(competing_pairs(n) / n) + math.log((1 + eta) / (1 - eta))) / (1 - 2 * eps)


def default_C(n: int, eps: float) -> float:  # noqa: N802
    """The suite's choice: twice the exact-output threshold (HO's ``2 ln n/(1-2ε)`` is twice eq. 16)."""
    return 2.0 * tensor_threshold_C(n, eps)


def tensor_decision_threshold(C: float, eps: float, n: int, eta: float = 0.0) -> float:
    """Bob's threshold on each output coordinate.

    Above the threshold on C it is the middle of the guaranteed gap ``[(1+η)δ_T, (1-η)Δ_T]`` (1/2
    at η = 0). Below it no decoder is guaranteed and Bob uses the typical case (the suite's
    choice, as :func:`reductions.spike.decision_threshold`): competing key weights ``≈ 1``, half
    of the other rows' bits set, so with ``Z = n e^C + n(n-1) + 2n + 1`` the two cases sit near
    ``lo = n(n-1)/(2Z)`` and ``hi = lo + n e^C/Z`` and he takes the middle of
    ``[(1+η) lo, (1-η) hi]``.
    """
    delta = tensor_delta(C, eps, n)
    if eps < 0.5 and (1 + eta) * delta < (1 - eta) * (1 - delta):
        return 0.5 * ((1 + eta) * delta + (1 - eta) * (1 - delta))
    spike = n * math.exp(min(C, 700.0))
    total = spike + n * (n - 1) + 2 * n + 1
    low = 0.5 * n * (n - 1) / total
    return 0.5 * ((1 + eta) * low + (1 - eta) * (low + spike / total))


def tensor_hiding_limit_C(n: int, eta: float) -> float | None:  # noqa: N802
    """Where the worst ``(1±η)`` output starts to hide the spike: ``ln(n-1) + ln(η/(1-η))``.

    The suite's estimate (``None`` at η = 0): with typical competing weights ``≈ 1`` a column is
    ``R = n(n-1)/(2Z)`` when ``x_ij = 0`` and ``R + ξ`` with ``ξ = n e^C/Z`` when ``x_ij = 1``; the
    adversary makes them equal once ``(1+η)R >= (1-η)(R+ξ)``, i.e. ``e^C <= (n-1)η/(1-η)``.
    """
    if eta == 0:
        return None
    return math.log(n - 1) + math.log(eta / (1 - eta))


# --- 1. the construction --------------------------------------------------------------------


@dataclass(frozen=True)
class TensorIndexReduction(ExactOutputReduction):
    """INDEX on ``n x d`` bits through tensor attention (docs/theory.md §8's stream; TA's Ω(nd)).

    Alice: ``(0, f(e_a), 1^d, x_{a,:}, 1^d)`` for ``a = 1..n``. Bob, for row ``i``:
    ``(C f(e_i), 0, 0, 0, 0)``; one probe decodes the whole row (HO Remark 7). Same fields and
    keys as HO Theorem 6's reduction; ``C=None`` takes :func:`default_C` with ε measured on the
    public codebook.
    """

    stream_width = 5
    result = "the tensor reduction"

    def default_C(self) -> float:  # noqa: N802
        return default_C(self.n, self.eps)

    def threshold_for(self, C: float) -> float:  # noqa: N803
        return tensor_decision_threshold(C, self.eps, self.n, self.eta)

    def alice_stream(self, x):
        keys = self.keys
        ones = np.ones_like(keys)
        return np.zeros_like(keys), keys, ones, np.asarray(x, dtype=np.float64), ones


def tensor_adversary_for(reduction: TensorIndexReduction, inner=None) -> AdversarialApproximation:
    """The worst ``(1±η)`` approximation of ``inner`` (default: the exact 4-cache) against every decoder.

    HO Theorem 8's adversary (:class:`caches.adversary.AdversarialApproximation`) at Bob's threshold:
    a coordinate whose allowed interval contains it is output as the threshold itself (hidden).
    """
    return AdversarialApproximation(inner or ExactFourCache("float64"), reduction.eta, reduction.threshold)


# --- 5. certificates ------------------------------------------------------------------------
#
# Every check returns certificates (reductions.tactics) that the runner re-verifies. The lemmas
# shared with Theorem 26 and Corollary 16 (exp/ln monotone, sums of bounded terms, HO's two-case
# step, the threshold chain, decoding a (1±η) output) live in reductions.spike_lemmas.

_INDICES = sp.symbols("a b j l n d", integer=True, positive=True)


@claim(
    name="TA tensor scores and numerator in block form",
    source="docs/theory.md §8 (Alman-Song tensor attention)",
    statement="<q, k1_a ∘ k2_b> = sum_l (K1_al q_l) K2_bl = ((K1 ∘ q) K2^T)_ab, and for every a, "
    "sum_b W_ab (v1_a ∘ v2_b)_j = V1_aj (W V2)_aj, so summing over a, sum_{a,b} W_ab (v1_a ∘ v2_b)_j = "
    "sum_a V1_aj (W V2)_aj (symbolic n, d): the kernel never forms the n^2 x d pair matrix",
    relied_on=True,
)
def _check_block_form():
    a, b, j, l, n, d = _INDICES
    q, K1, K2, W, V1, V2 = (sp.IndexedBase(name) for name in ("q", "K1", "K2", "W", "V1", "V2"))
    return [
        Identity(sp.Sum(q[l] * (K1[a, l] * K2[b, l]), (l, 1, d)), sp.Sum((K1[a, l] * q[l]) * K2[b, l], (l, 1, d)),
                 note="the pair score is row a of K1∘q times row b of K2 (symbolic d)"),
        Identity(sp.Sum(W[a, b] * (V1[a, j] * V2[b, j]), (b, 1, n)), V1[a, j] * sp.Sum(W[a, b] * V2[b, j], (b, 1, n)),
                 note="for each a the factor V1_aj leaves the sum over b (symbolic n); equal terms summed over a"),
    ]


def _tensor_output_certificates() -> list:
    """Bob's output coordinate ``j`` assembled from the definition of tensor attention, vs the claimed formula."""
    a, b, j, l, n, d = _INDICES
    i = sp.Symbol("i", integer=True, positive=True)
    C = sp.Symbol("C", real=True)
    K, X = sp.IndexedBase("K"), sp.IndexedBase("X")
    bob = n + 1  # Alice's token a <= n is (0, K_a, 1, X_a, 1); Bob's token n + 1 is (C K_i, 0, 0, 0, 0)

    def k1(t, m):
        return 0 if t == bob else K[t, m]

    def k2(t, m):
        return 0 if t == bob else 1

    def v1(t):
        return 0 if t == bob else X[t, j]

    def v2(t):
        return 0 if t == bob else 1

    def weight(ta, tb):  # e^{<q, k1_a ∘ k2_b>}, q = C K_i
        return sp.exp(sp.Sum(C * K[i, l] * k1(ta, l) * k2(tb, l), (l, 1, d)))

    def over_pairs(term):  # [n+1]^2 = [n]^2 + [n] x {n+1} + {n+1} x [n] + {(n+1, n+1)}
        return (sp.Sum(sp.Sum(term(a, b), (b, 1, n)), (a, 1, n)) + sp.Sum(term(a, bob), (a, 1, n))
                + sp.Sum(term(bob, b), (b, 1, n)) + term(bob, bob))

    output = over_pairs(lambda ta, tb: weight(ta, tb) * v1(ta) * v2(tb)) / over_pairs(weight)
    inner = sp.Sum(K[i, l] * K[a, l], (l, 1, d))
    claimed = (sp.Sum(n * sp.exp(C * inner) * X[a, j], (a, 1, n))
               / (n * sp.Sum(sp.exp(C * inner), (a, 1, n)) + 2 * n + 1))
    return [
        *sum_split_rule(),
        Identity(sp.Sum(sp.Sum(1, (b, 1, n + 1)), (a, 1, n + 1)), over_pairs(lambda ta, tb: 1),
                    note="the four blocks hold all (n+1)^2 pairs"),
        Identity(output, claimed, note="the assembled output (symbolic n, d, entries K, X, C) is the claimed formula"),
    ]


@claim(
    name="TA reduction output",
    source="docs/theory.md §8 reduction (suite-derived)",
    statement="Assembled from the definition TAttn_j = sum_{(a,b) in [n+1]^2} e^{<q, k1_a∘k2_b>} (v1_a∘v2_b)_j "
    "/ sum_{(a,b)} e^{<q, k1_a∘k2_b>} with Alice's tokens (0, k_a, 1, x_a, 1), a <= n, and Bob's "
    "(C k_i, 0, 0, 0, 0) as token n+1: O_j = sum_a n e^{C<k_i,k_a>} x_aj / (n sum_a e^{C<k_i,k_a>} + 2n + 1), "
    "for symbolic n, d and arbitrary entries (sympy); [n+1]^2 is split into [n]^2, [n]x{n+1}, {n+1}x[n], "
    "{(n+1,n+1)} by the certified rule sum_{a<=m+1} = sum_{a<=m} + (term m+1)",
    relied_on=True,
)
def _check_reduction_output():
    return _tensor_output_certificates()


def _tensor_two_case_certificates() -> list:
    """From the output formula to ``O_j <= δ_T`` (bit 0) and ``O_j >= Δ_T`` (bit 1), ``n = m + 1 >= 2``."""
    m, a = sp.symbols("m a", integer=True, positive=True)
    n = m + 1
    M = n**2 + n + 1
    s, eps = eps_in_open_half()
    C = sp.Symbol("C", nonnegative=True)
    p_off, p_spike = sp.symbols("p_off p_spike", real=True)  # <k_i, k_a> for a != i, and <k_i, k_i>
    E = sp.IndexedBase("E", positive=True)  # e^{C<k_i,k_a>} of the n - 1 = m other rows
    Xb = sp.IndexedBase("X", nonnegative=True)  # their bits x_aj
    Y = sp.IndexedBase("Y", nonnegative=True)  # 1 - x_aj
    P, Q, e_spike, sigma = sp.symbols("P Q e_spike sigma", positive=True)
    c_total = sp.Symbol("c", positive=True)
    where = {sp.Symbol("epsilon"): eps, sp.Symbol("n"): n, P: sp.exp(C * (1 - eps)), Q: sp.exp(C * eps)}
    delta, Delta = spike_bounds(n, M, eps, C)
    split = (n * (sp.Sum(E[a] * Xb[a], (a, 1, m)) + sp.Sum(E[a] * Xb[a], (a, m + 1, m + 1)))
             / (n * (sp.Sum(E[a], (a, 1, m)) + sp.Sum(E[a], (a, m + 1, m + 1))) + 2 * n + 1))
    spike, rest, others = n * E[m + 1], n * sp.Sum(E[a] * Xb[a], (a, 1, m)), n * sp.Sum(E[a], (a, 1, m)) + 2 * n + 1
    return [
        *sum_split_rule(),  # relabel the rows so that the spike row i is the last, then split it off
        Identity(split, (spike * Xb[m + 1] + rest) / (spike + others),
                    where={sp.Symbol("S"): spike, sp.Symbol("r"): rest, sp.Symbol("c"): others},
                    note="the output formula is (S x_ij + r)/(S + c): spike S, competitors c, their ones r"),
        Implies(sp.And(le(C * p_off, C * eps), ge(C * p_spike, C * (1 - eps)), ge(C * eps, 0)),
                [le(p_off, eps), ge(p_spike, 1 - eps)], engine="z3", where={sp.Symbol("epsilon"): eps},
                note="scores: C<k_i,k_a> <= Cε (a != i), C<k_i,k_i> >= C(1-ε), and 0 <= Cε (pairs with Bob score 0)"),
        *exp_log_monotone(),  # so e^{C<k_i,k_a>} <= Q, 1 = e^0 <= Q, e_spike >= P
        *sum_bounds(),  # sigma = sum of the m other rows' weights <= mQ
        Implies(ge(n * sp.Sum(E[a] * Xb[a], (a, 1, m)), 0), where=where, note="r = n sum_{a != i} e_a x_aj >= 0"),
        Implies(ge(n * sp.Sum(E[a] * Y[a], (a, 1, m)) + 2 * n + 1, 0), where={**where, Y[a]: 1 - Xb[a]},
                note="c - r = n sum_{a != i} e_a (1 - x_aj) + 2n + 1 >= 0, so r <= c"),
        Implies(le(c_total, M * Q), [le(sigma, m * Q), ge(Q, 1), sp.Eq(c_total, n * sigma + 2 * n + 1)],
                engine="z3", where=where, note="c = n sigma + (2n+1) e^0 <= (n(n-1) + 2n + 1) Q = M Q"),
        Implies(ge(n * e_spike, n * P), [ge(e_spike, P)], engine="z3", where=where, note="S = n e_spike >= n P"),
        *two_case_bounds(n, M),
        Identity(M, (n + 1) ** 2 - n, where=where, note="M = (n+1)^2 - n: every pair but the spike's n"),
        Identity(delta + Delta, 1, where=where, note="δ_T + Δ_T = 1"),
    ]


@claim(
    name="TA two-case bounds (n^2+n+1 competing pairs)",
    source="docs/theory.md §8 (suite-derived analogue of HO eq. 13, 15)",
    statement="If <k_i,k_a> <= ε for a != i, <k_i,k_i> >= 1-ε, ε in (0, 1/2), C >= 0, n >= 2 and the bits are "
    "0/1, the output formula gives: x_ij=0 => O_j <= δ_T = M e^{Cε}/(M e^{Cε} + n e^{C(1-ε)}); x_ij=1 => "
    "O_j >= Δ_T = n e^{C(1-ε)}/(n e^{C(1-ε)} + M e^{Cε}), M = n^2+n+1 = (n+1)^2 - n; δ_T + Δ_T = 1",
    relied_on=True,
)
def _check_tensor_two_case():
    return _tensor_two_case_certificates()


_N_POS = sp.Symbol("n", positive=True)


@claim(
    name="TA threshold on C",
    source="docs/theory.md §8 (suite-derived analogue of HO eq. 16)",
    statement="δ_T(C) < Δ_T(C) iff C > ln(n + 1 + 1/n)/(1 - 2ε), both directions, for every real C, n > 0 and "
    "ε in (0, 1/2)",
    relied_on=True,
)
def _check_tensor_threshold():
    n = _N_POS
    return [Identity((n**2 + n + 1) / n, n + 1 + 1 / n, note="M/n = n + 1 + 1/n"),
            *threshold_iff(n, n**2 + n + 1, False, "TA")]


@claim(
    name="TA threshold with (1±η) outputs",
    source="docs/theory.md §8 + HO Theorem 8 (suite-derived)",
    statement="(1+η)δ_T(C) < (1-η)Δ_T(C) iff C > [ln(n + 1 + 1/n) + ln((1+η)/(1-η))]/(1-2ε), both directions, "
    "for every real C, n > 0, ε in (0, 1/2), η in (0, 1)",
    relied_on=True,
)
def _check_tensor_threshold_eta():
    n = _N_POS
    return [Identity((n**2 + n + 1) / n, n + 1 + 1 / n, note="M/n = n + 1 + 1/n"),
            *threshold_iff(n, n**2 + n + 1, True, "TA")]


@claim(
    name="TA threshold exceeds HO eq. 16 by O(1/n)",
    source="docs/theory.md §8 vs HO eq. 16 (suite-derived)",
    statement="0 < ln(n+1+1/n)/(1-2ε) - ln n/(1-2ε) <= (1/n + 1/n^2)/(1-2ε) for n > 0, ε in (0, 1/2): the n^2 "
    "competitors cost no more than HO's n, because the spike is n pairs wide (ln(1+x) <= x cites the mean "
    "value theorem)",
    relied_on=False,
)
def _check_threshold_gap():
    n = _N_POS
    s, eps = eps_in_open_half()
    x = sp.Symbol("x", nonnegative=True)
    y, lnv, bound = sp.symbols("y lnv x_n", positive=True)
    where = {sp.Symbol("epsilon"): eps}
    gap = sp.log((n**2 + n + 1) / n) / (1 - 2 * eps) - sp.log(n) / (1 - 2 * eps)
    return [
        Identity(gap, sp.log(1 + 1 / n + 1 / n**2) / (1 - 2 * eps), where=where,
                 note="the gap is ln(1 + 1/n + 1/n^2)/(1-2ε)"),
        Implies(gt(1 / n + 1 / n**2, 0), note="y = 1/n + 1/n^2 > 0"),
        Implies(gt(sp.log(1 + y) / (1 - 2 * eps), 0), where={**where, y: 1 / n + 1 / n**2},
                note="the gap ln(1 + y)/(1-2ε) is positive"),
        Identity((x - sp.log(1 + x)).subs(x, 0), 0, note="x - ln(1+x) vanishes at x = 0"),
        Identity(sp.diff(x - sp.log(1 + x), x), x / (1 + x), note="its derivative is x/(1+x)"),
        Implies(ge(x / (1 + x), 0), note="the derivative is >= 0 for x >= 0"),
        Cited("f(0) = 0 and f' >= 0 on [0, oo) give f >= 0 there, so ln(1+x) <= x for x >= 0",
              "the mean value theorem"),
        Implies(le(lnv / (s / (1 + s)), bound / (s / (1 + s))), [le(lnv, bound)], engine="z3",
                where={lnv: sp.log(1 + 1 / n + 1 / n**2), bound: 1 / n + 1 / n**2, sp.Symbol("1-2ε"): s / (1 + s)},
                note="dividing ln(1+x) <= x at x = 1/n + 1/n^2 by 1 - 2ε > 0"),
    ]


@claim(
    name="Tensor reduction end to end",
    source="docs/theory.md §8 reduction (suite-derived) + HO Lemma 3, Theorem 5",
    statement="Chained: the assembled output formula, the two-case bounds with M = n^2+n+1 competing pairs, the "
    "threshold (1+η)δ_T < (1-η)Δ_T iff C > [ln(n+1+1/n) + ln((1+η)/(1-η))]/(1-2ε) and Bob's decision at the "
    "middle τ of [(1+η)δ_T, (1-η)Δ_T]: above the threshold every (1±η) output (η in [0, 1)) decodes every bit of "
    "row i. Cited: JL keys with ε < 1/2 exist for d = Ω(log n) (HO Lemma 3), and INDEX on n·d bits needs "
    "Ω(nd) bits of message (HO Theorem 5), whence TA's Ω(nd)",
    relied_on=True,
)
def _check_tensor_end_to_end():
    n = _N_POS
    return [
        *_tensor_output_certificates(),
        *_tensor_two_case_certificates(),
        *threshold_iff(n, n**2 + n + 1, False, "TA"),
        *threshold_iff(n, n**2 + n + 1, True, "TA"),
        *approximate_decoding(False),
        *approximate_decoding(True),
        Cited("a public JL codebook of n unit-norm keys with |<k_a,k_b>| <= ε < 1/2 (a != b) and <k_a,k_a> >= 1-ε "
              "exists for d >= 12 ln n/(ε^2 - ε^3) (the suite measures ε on the codebook it uses)",
              "HO Lemma 3 / 22 (docs/theory.md §2)"),
        Cited("Bob decodes all n·d bits from Alice's message (one probe per row, HO Remark 7), so the message "
              "has Ω(nd) bits", "HO Theorem 5 (INDEX, docs/theory.md §1)"),
    ]


# --- SubGen-style 4-cache: its guarantee (suite-derived, caches.tensor.SubGenFourCache) ---------


def subgen_guarantee(cache: SubGenFourCache, tokens, probes, failure: float = 0.1) -> list[dict]:
    """Measured error of a SubGen-style 4-cache against its guarantee, one row per probe.

    ``tokens`` (five arrays) is the stream the cache took; ``probes`` are the query tokens. For
    each probe: ``error = ||Ô - TAttn||``; ``bound = e^{2ρ} (3/sqrt(s p)) ||V1||_F ||V2||_F
    ||softmax||_2 + (e^{2ρ} - 1) ||TAttn||`` (holds with probability ``>= 1 - p``, ``p = failure``);
    ``log_z_ratio = ln(Ẑ/Z)`` and its deterministic limit ``2ρ``. Norms include the probe's own
    token; ``||softmax||_2 = sqrt(Z(2q)) / Z(q)`` (scores are linear in ``q``). Exact only for a
    float64 cache (the cache rounds what it stores to its dtype).
    """
    _, K1, K2, V1, V2 = (np.asarray(a, dtype=np.float64) for a in tokens)
    P, *own = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in probes)
    sides = ((K1, V1, None), (K2, V2, None))
    exact = tensor_pair_sums(P, *sides, own=own)
    doubled = tensor_pair_sums(2 * P, *sides, own=own)
    truth = exact.output()
    output = cache.probe(P, *own)
    _, denominator = cache.estimates(P, *own)
    softmax_norm = np.sqrt(doubled.z) * np.exp(0.5 * doubled.top - exact.top) / exact.z
    rows = []
    for r in range(P.shape[0]):
        side1 = np.vstack([K1, own[0][r]]) * P[r]
        side2 = np.vstack([K2, own[1][r]]) * P[r]
        rho = cache.delta * (np.sqrt((side1**2).sum(1)).max() + np.sqrt((side2**2).sum(1)).max())
        v1 = math.sqrt(float((V1**2).sum() + (own[2][r] ** 2).sum()))
        v2 = math.sqrt(float((V2**2).sum() + (own[3][r] ** 2).sum()))
        grow = math.exp(min(2 * rho, 700.0))
        bound = grow * 3 / math.sqrt(cache.s * failure) * v1 * v2 * softmax_norm[r] + (grow - 1) * np.linalg.norm(truth[r])
        log_ratio = float(denominator.top[r] - exact.top[r] + math.log(denominator.z[r] / exact.z[r]))
        rows.append({"error": float(np.linalg.norm(output[r] - truth[r])), "bound": float(bound),
                     "output_norm": float(np.linalg.norm(truth[r])), "rho": float(rho),
                     "log_z_ratio": log_ratio, "log_z_limit": float(2 * rho)})
    return rows


@claim(
    name="SubGen-style tensor: product-cluster score spread",
    source="docs/theory.md §9 for tensor attention (suite-derived)",
    statement="If ||k1 - u1||, ||k2 - u2|| <= δ (a key joins a centre, itself a key, within δ) then "
    "<q, k1∘k2 - u1∘u2> = <q∘k2, k1-u1> + <q∘u1, k2-u2> (symbolic d), so |<q, k1∘k2> - <q, u1∘u2>| <= ρ = "
    "δ(max_b ||q∘k2_b|| + max_a ||q∘k1_a||) (Cauchy-Schwarz cited); hence each product cluster's estimate "
    "and true sum lie in [N e^{s0-ρ}, N e^{s0+ρ}], their ratio in [e^{-2ρ}, e^{2ρ}], and so does Ẑ/Z (any "
    "number of clusters; the exact own-token terms have ratio 1)",
    relied_on=True,
)
def _check_product_cluster_spread():
    j, d, c, m = sp.symbols("j d c m", integer=True, positive=True)
    q, k1, k2, u1, u2 = (sp.IndexedBase(name) for name in ("q", "k1", "k2", "u1", "u2"))
    x1, x2 = sp.symbols("x1 x2", real=True)  # <q∘k2, k1-u1>, <q∘u1, k2-u2>
    N1, N2, D1, D2, A1, A2, delta = sp.symbols("N1 N2 D1 D2 A1 A2 delta", nonnegative=True)
    rho, s0 = sp.symbols("rho s0", real=True)
    lo, hi, N, count, total, Zh_c, Z_c, L = sp.symbols("lo hi N t sigma Zh_c Z_c L", positive=True)
    Z = sp.IndexedBase("Z", positive=True)
    g = sp.IndexedBase("g", nonnegative=True)
    Zh, Zt = sp.symbols("Zh Z", positive=True)
    return [
        Identity(sp.Sum(q[j] * (k1[j] * k2[j] - u1[j] * u2[j]), (j, 1, d)),
                 sp.Sum(q[j] * k2[j] * (k1[j] - u1[j]), (j, 1, d)) + sp.Sum(q[j] * u1[j] * (k2[j] - u2[j]), (j, 1, d)),
                 note="the score difference splits into the two sides (symbolic d)"),
        Cited("|<a, b>| <= ||a|| ||b||, for (a, b) = (q∘k2, k1 - u1) and (q∘u1, k2 - u2)", "Cauchy-Schwarz inequality"),
        Implies(sp.And(le(x1 + x2, delta * (A1 + A2)), ge(x1 + x2, -delta * (A1 + A2))),
                [le(x1, N1 * D1), ge(x1, -N1 * D1), le(x2, N2 * D2), ge(x2, -N2 * D2),
                 le(D1, delta), le(D2, delta), le(N1, A1), le(N2, A2)], engine="z3",
                where={N1: sp.Symbol("||q∘k2||"), N2: sp.Symbol("||q∘u1||"), A1: sp.Symbol("max_b||q∘k2_b||"),
                       A2: sp.Symbol("max_a||q∘k1_a||")},
                note="each score is within ρ = δ(A1 + A2) of its centre pair's score s0"),
        *exp_log_monotone(),  # s in [s0 - ρ, s0 + ρ] => e^s in [lo, hi] = [e^{s0-ρ}, e^{s0+ρ}]
        *sum_bounds(),  # t reservoir pairs (or N members) with weights in [lo, hi] sum into [t lo, t hi]
        Implies(sp.And(le(N * total / count, N * hi), ge(N * total / count, N * lo)),
                [le(total, count * hi), ge(total, count * lo)], engine="z3",
                note="the cluster estimate (N/t) sum_{t samples} e^s lies in [N lo, N hi]"),
        Implies(sp.And(le(Zh_c, hi / lo * Z_c), ge(Zh_c, lo / hi * Z_c)),
                [le(Zh_c, N * hi), ge(Zh_c, N * lo), le(Z_c, N * hi), ge(Z_c, N * lo)], engine="z3",
                note="estimate and true sum of one cluster are within a factor hi/lo of each other"),
        Identity(sp.exp(s0 + rho) / sp.exp(s0 - rho), sp.exp(2 * rho), where={hi: sp.exp(s0 + rho), lo: sp.exp(s0 - rho)},
                 note="hi/lo = e^{2ρ}"),
        Implies(le(sp.Sum(L * Z[c] - g[c], (c, 1, m)), L * sp.Sum(Z[c], (c, 1, m))), where={L: sp.exp(2 * rho)},
                note="mediant, any number m of clusters: Zh_c = L Z_c - g_c <= L Z_c sums to <= L Z"),
        Implies(ge(sp.Sum(Z[c] / L + g[c], (c, 1, m)), sp.Sum(Z[c], (c, 1, m)) / L), where={L: sp.exp(2 * rho)},
                note="mediant, lower side: Zh_c = Z_c/L + g_c >= Z_c/L sums to >= Z/L"),
        Implies(sp.And(le(Zh / Zt, L), ge(Zh / Zt, 1 / L)), [le(Zh, L * Zt), ge(Zh, Zt / L)], engine="z3",
                where={L: sp.exp(2 * rho)}, note="so Ẑ/Z lies in [e^{-2ρ}, e^{2ρ}]"),
    ]


def _numerator_moments(rng, n1: int, n2: int, dim: int, s: int, own: bool):
    """Exact ``E N̂`` and ``E||N̂ - N||^2`` of the product importance estimator, by enumeration.

    Side ``k`` draws ``s`` i.i.d. indices with ``p = ||v||^2/μ``; ``N̂ = sum_{i,j} f(a_i, b_j) /
    (s^2 p p)`` plus, with ``own``, the pairs touching an exact own token on each side.
    """
    import itertools

    K1, K2 = rng.standard_normal((n1, dim)), rng.standard_normal((n2, dim))
    V1, V2 = rng.standard_normal((n1, dim)), rng.standard_normal((n2, dim))
    q = rng.standard_normal(dim)
    k1o, k2o, v1o, v2o = (rng.standard_normal(dim) for _ in range(4))
    p1, p2 = (V1**2).sum(1) / (V1**2).sum(), (V2**2).sum(1) / (V2**2).sum()

    def f(ka, kb, va, vb):
        return math.exp(float(q @ (ka * kb))) * (va * vb)

    truth = sum(f(K1[a], K2[b], V1[a], V2[b]) for a in range(n1) for b in range(n2))
    weights_all = [math.exp(2 * float(q @ (K1[a] * K2[b]))) for a in range(n1) for b in range(n2)]
    mu1, mu2 = float((V1**2).sum()), float((V2**2).sum())
    if own:
        truth = truth + sum(f(k1o, K2[b], v1o, V2[b]) for b in range(n2)) + sum(
            f(K1[a], k2o, V1[a], v2o) for a in range(n1)) + f(k1o, k2o, v1o, v2o)
        weights_all += [math.exp(2 * float(q @ (k1o * K2[b]))) for b in range(n2)]
        weights_all += [math.exp(2 * float(q @ (K1[a] * k2o))) for a in range(n1)]
        weights_all.append(math.exp(2 * float(q @ (k1o * k2o))))
    mean, second = np.zeros(dim), 0.0
    for draw1 in itertools.product(range(n1), repeat=s):
        prob1 = math.prod(p1[a] for a in draw1)
        for draw2 in itertools.product(range(n2), repeat=s):
            prob = prob1 * math.prod(p2[b] for b in draw2)
            estimate = sum(f(K1[a], K2[b], V1[a], V2[b]) / (s * s * p1[a] * p2[b]) for a in draw1 for b in draw2)
            if own:
                estimate = estimate + sum(f(k1o, K2[b], v1o, V2[b]) / (s * p2[b]) for b in draw2) + sum(
                    f(K1[a], k2o, V1[a], v2o) / (s * p1[a]) for a in draw1) + f(k1o, k2o, v1o, v2o)
            mean += prob * estimate
            second += prob * float(((estimate - truth) ** 2).sum())
    if own:
        mu1, mu2 = mu1 + float(v1o @ v1o), mu2 + float(v2o @ v2o)
    return truth, mean, second, mu1 * mu2 * sum(weights_all)


@claim(
    name="SubGen-style tensor numerator: unbiased, second moment",
    source="docs/theory.md §9 for tensor attention (suite-derived)",
    statement="On 7 random instances (n1, n2, d, s, own), by exact expectations over every draw (float64): the "
    "product of two value-norm importance measures (s i.i.d. draws per side, p = ||v||^2/μ) estimates "
    "sum_ab e^{s_ab} v1_a∘v2_b with relative bias <= 1e-9, and E||N̂ - N||^2 <= (1/s^2 + 2/s) μ1 μ2 sum_ab "
    "e^{2 s_ab}; with an exact own token on both sides, <= (9/s) (μ1+||v1_o||^2)(μ2+||v2_o||^2) sum e^{2s}",
    relied_on=True,
)
def _check_numerator_moments():
    bias_symbol, ratio_symbol = sp.symbols("relative_bias second_moment_over_bound", nonnegative=True)
    points, grid = [], []
    for seed, (n1, n2, dim, s, own) in enumerate([(3, 3, 2, 1, False), (3, 2, 2, 2, False), (2, 3, 3, 3, False),
                                                  (3, 3, 2, 2, False), (3, 3, 2, 1, True), (2, 3, 2, 2, True),
                                                  (3, 2, 3, 3, True)]):
        rng = np.random.default_rng([20250314, seed])
        truth, mean, second, scale = _numerator_moments(rng, n1, n2, dim, s, own)
        bias = float(np.abs(mean - truth).max() / max(1e-300, np.abs(truth).max()))
        limit = (9 / s if own else 1 / s**2 + 2 / s) * scale
        points.append({bias_symbol: sp.Rational(bias), ratio_symbol: sp.Rational(second / limit)})
        grid.append((n1, n2, dim, s, own))
    goal = sp.And(le(bias_symbol, sp.Rational(1, 10**9)), le(ratio_symbol, 1 + sp.Rational(1, 10**12)))
    return GridCheck(goal, points, note=f"exact enumeration on (n1, n2, d, s, own) in {grid}")


@claim(
    name="SubGen-style 4-cache denominator within e^{±2ρ}",
    source="docs/theory.md §9 for tensor attention (suite-derived; caches.tensor.SubGenFourCache)",
    statement="For every query of 5 random streams (n, d, δ, t), 20 queries each, the cache's measured ln(Ẑ/Z) "
    "lies in [-2ρ, 2ρ] (up to 1e-9): the implementation keeps the proved product-cluster bound",
    relied_on=True,
)
def _check_denominator_on_streams():
    ratio_symbol, limit_symbol = sp.symbols("abs_log_z_ratio two_rho", nonnegative=True)
    points, grid = [], []
    for seed, (n, dim, delta, t) in enumerate([(120, 2, 0.3, 2), (120, 3, 0.6, 4), (200, 4, 1.0, 3),
                                               (80, 3, 2.0, 1), (150, 2, 0.0, 1)]):
        rng = np.random.default_rng([7, seed])
        tokens = [rng.standard_normal((n, dim)) for _ in range(5)]
        tokens[1] /= np.linalg.norm(tokens[1], axis=1, keepdims=True)
        probes = [2.0 * rng.standard_normal((20, dim)) for _ in range(5)]
        cache = SubGenFourCache(delta, t, 4, seed=seed, dtype="float64")
        cache.extend(*tokens)
        points.extend({ratio_symbol: sp.Rational(abs(row["log_z_ratio"])), limit_symbol: sp.Rational(row["log_z_limit"])}
                      for row in subgen_guarantee(cache, tokens, probes))
        grid.append((n, dim, delta, t))
    return GridCheck(le(ratio_symbol, limit_symbol + sp.Rational(1, 10**9)), points,
                     note=f"{len(points)} queries on streams (n, d, δ, t) in {grid} (δ = 0 gives Ẑ = Z exactly)")


# --- 6. experiment --------------------------------------------------------------------------

def _check_settings(key: str, settings) -> None:
    """Each entry of a SubGen list is ``[delta >= 0, t >= 1, s >= 1]``."""
    for setting in settings:
        if not isinstance(setting, (list, tuple)) or len(setting) != 3:
            raise ParameterError(f"{key} entries must be [delta, t, s], got {setting!r}")
        check_real(f"{key}[] delta", setting[0], 0.0)
        check_int(f"{key}[] t", setting[1], 1)
        check_int(f"{key}[] s", setting[2], 1)


@dataclass(frozen=True)
class TensorGameConfig(ExperimentConfig):
    """Experiment ``tensor_game``: the tensor caches in the INDEX game (quick preset = the defaults)."""

    n: int = param(128, low=2, doc="keys (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(1, low=1, doc="instances per cache")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    subgen: list = param([[2.0, 1, 1], [2.0, 4, 16], [2.0, 16, 64], [0.5, 1, 64], [0.5, 1, 256]],
                         doc="SubGen-style players [δ >= 0, t >= 1, s >= 1]")

    def check(self) -> None:
        _check_settings("subgen", self.subgen)


@dataclass(frozen=True)
class TensorThresholdConfig(ExperimentConfig):
    """Experiment ``tensor_threshold``: accuracy vs C around the tensor threshold (quick preset = the defaults)."""

    n: int = param(128, low=2, doc="keys (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    etas: list = param([0.0, 0.3], low=0.0, high=1.0, high_open=True, doc="approximation factors η")
    c_points: int = param(8, low=2, doc="values of C per η")
    trials: int = param(3, low=1, doc="instances (public codebooks) per point")


@dataclass(frozen=True)
class TensorCapacityConfig(ExperimentConfig):
    """Experiment ``tensor_capacity``: largest n' decoded at dimension d, tensor vs standard (quick = the defaults)."""

    d_values: list = param([2, 3, 4, 6, 8, 12, 16], low=1, high=4096, doc="dimensions d")
    log2_n_max: int = param(9, low=1, high=14, doc="largest log2 n tried")
    query_norm: float = param(8.0, low=0.0, low_open=True, doc="query norm ||q||")
    rows: int = param(64, low=1, doc="rows decoded per n")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")


@dataclass(frozen=True)
class TensorMemoryConfig(ExperimentConfig):
    """Experiment ``tensor_memory``: memory of the 2-cache vs the 4-cache (quick preset = the defaults)."""

    n_values: list = param([32, 64, 128, 256], low=1, high=4096, doc="stream lengths n")
    d: int = param(32, low=1, doc="dimension")


@dataclass(frozen=True)
class TensorSubgenConfig(ExperimentConfig):
    """Experiment ``tensor_subgen``: the SubGen-style 4-cache's error vs its guarantee (quick = the defaults)."""

    n: int = param(256, low=1, doc="stream length")
    d: int = param(3, low=1, doc="dimension")
    query_norm: float = param(2.0, low=0.0, doc="query norm")
    settings: list = param([[0.25, 8, 64], [0.5, 16, 256], [1.0, 4, 16]],
                           doc="settings [δ >= 0, t >= 1, s >= 1] measured")
    queries: int = param(48, low=1, doc="queries")
    failure: float = param(0.1, low=0.0, high=1.0, low_open=True, high_open=True, doc="failure probability")

    def check(self) -> None:
        _check_settings("settings", self.settings)


TENSOR_GAME_PRESETS = {
    "quick": TensorGameConfig(),
    "paper": TensorGameConfig(
        n=256, trials=3,
        subgen=[[2.0, 1, 1], [2.0, 1, 4], [2.0, 4, 16], [2.0, 16, 64], [2.0, 64, 256], [0.5, 1, 16],
                [0.5, 1, 64], [0.5, 1, 256], [0.5, 1, 1024]],
    ),
}
TENSOR_THRESHOLD_PRESETS = {
    "quick": TensorThresholdConfig(),
    "paper": TensorThresholdConfig(n=256, etas=[0.0, 0.1, 0.3, 0.5], c_points=16, trials=5),
}
TENSOR_CAPACITY_PRESETS = {
    "quick": TensorCapacityConfig(),
    "paper": TensorCapacityConfig(d_values=[2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24], log2_n_max=11, rows=128),
}
TENSOR_MEMORY_PRESETS = {
    "quick": TensorMemoryConfig(),
    "paper": TensorMemoryConfig(n_values=[32, 64, 128, 256, 512], d=64),
}
TENSOR_SUBGEN_PRESETS = {
    "quick": TensorSubgenConfig(),
    "paper": TensorSubgenConfig(
        n=512, settings=[[0.25, 8, 64], [0.25, 32, 1024], [0.5, 16, 256], [1.0, 4, 16], [1.0, 64, 1024]],
        queries=128,
    ),
}


def default_tensor_caches(subgen=()) -> list:
    """The tensor players: exact 4-caches, quantized 4-caches, the 2-cache (float16), one
    SubGen-style 4-cache (float16) per ``[delta, t, s]`` in ``subgen``, and the players below
    ``n·d`` bits: pooled quantized 4-caches (ratio ≈ 0.2-2.3) and the designed hashed-keys,
    one-bit-values 4-cache with a covering code (ratio ≈ 0.75-1.1 at d = 128)."""
    return [
        *(ExactFourCache(dtype) for dtype in ("float64", "float32", "float16")),
        *(QuantizedFourCache(bits=b) for b in (1, 2, 4, 8)),
        *(PooledQuantizedFourCache(bits=b, pool=p) for b, p in ((1, 32), (1, 16), (1, 8), (2, 8), (4, 8))),
        *(HashedBitsFourCache(hash_bits=14, parity=p) for p in (0, 4, 8, 12)),
        ExactTwoCache("float16"),
        *(SubGenFourCache(float(delta), int(t), int(s), dtype="float16") for delta, t, s in subgen),
    ]


def tensor_game_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per tensor player and trial: the cache's frozen public parameters and the trial number."""
    return [{"cache": frozen_spec(cache), "trial": trial} for cache in default_tensor_caches(config["subgen"])
            for trial in range(config["trials"])]


def tensor_game_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One INDEX game (HO Theorem 6 through TA's stream): the unit's cache on the unit's trial instance."""
    reduction = TensorIndexReduction(config["n"], config["d"], codebook=config["codebook"])
    outcome = play_trial(reduction, unit["cache"], seed, unit["trial"], players)
    return outcome_rows(build(unit["cache"]), [outcome])


def tensor_game_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per cache: accuracy (99% Wilson) and memory beside the Fano bound (HO Theorem 5); the first
    trial's measured ε with the default C and the threshold on C it gives."""
    n, d = config["n"], config["d"]
    reduction = TensorIndexReduction(n, d, codebook=config["codebook"])
    eps = public_codebook(config["codebook"], n, d, trial_input(reduction, seed, 0)[0].public_seed)[1]
    return {
        "experiment": "tensor_game", "n": n, "d": d, "codebook": config["codebook"], "bits_encoded": n * d,
        "eps_measured": eps,
        "C": default_C(n, eps) if eps < 0.5 else None,
        "threshold_C": tensor_threshold_C(n, eps) if eps < 0.5 else None,
        "points": points_from_rows(rows),
    }


def tensor_threshold_base(config: dict) -> TensorIndexReduction:
    """The sweep's tensor reduction before its public seed and C are set."""
    return TensorIndexReduction(config["n"], config["d"], C=1.0, codebook=config["codebook"])


def tensor_threshold_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per trial: its exact 4-cache message serves every ``(η, C)``; the C grid, fixed here
    from the trials' public codebooks (:func:`reductions.spike.sweep_c_grid`), travels with it."""
    n = config["n"]
    grid = sweep_c_grid(tensor_threshold_base(config), seed, config["trials"], n, config["etas"], tensor_threshold_C,
                        0.25 * math.log(n), config["c_points"])
    return [{"trial": trial, "C": grid} for trial in range(config["trials"])]


def tensor_threshold_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """Accuracy at every ``(η, C)`` for the exact 4-cache (η = 0) and its worst ``(1±η)`` approximation,
    from one trial's message (:func:`reductions.spike.c_sweep_trial`).

    Each row reports Bob's accuracy, the flipped decoder's (``1 - accuracy``, same decoded bits)
    and the fraction of coordinates hidden: below the hiding limit the adversary must bring *both*
    decoders to about 1/2 (an accuracy near 0 would be inverted bits, read off by flipping).
    """
    n, d = config["n"], config["d"]
    return c_sweep_trial(
        players, tensor_threshold_base(config), ExactFourCache("float64"), seed, unit["trial"], config["etas"],
        unit["C"], lambda r, C, eta: TensorIndexReduction(n, d, C, eta, r.codebook, r.public_seed),
        lambda scaled: tensor_adversary_for(scaled) if scaled.eta > 0 else ExactFourCache("float64"), np.arange(n))


def tensor_threshold_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Accuracy vs C per η, the tensor threshold and HO eq. 16's at each trial's measured ε (median
    and [min, max] over the trials' codebooks), and the hiding limit."""
    n = config["n"]
    grid = list(dict.fromkeys(row["C"] for row in rows))
    eps_values = trial_eps(rows)
    eps, eps_interval = median_interval(eps_values)
    curves = c_curves(rows, config["etas"], grid)
    for curve in curves:
        eta = curve["eta"]
        tensor, tensor_interval = threshold_spread(n, eps_values, eta, tensor_threshold_C)
        standard, standard_interval = threshold_spread(n, eps_values, eta, threshold_C)
        curve.update(theorem_threshold=tensor, standard_threshold=standard, hiding_limit=tensor_hiding_limit_C(n, eta),
                     theorem_threshold_interval=tensor_interval, standard_threshold_interval=standard_interval)
    return {"experiment": "tensor_threshold", "codebook": config["codebook"], "n": n, "d": config["d"],
            "eps_measured": eps, "curves": curves, "trials": config["trials"], "eps_interval": eps_interval,
            "note": SPREAD_NOTE}


def capacity_grid(log2_n_max: int) -> list[int]:
    """``n`` on a half-octave grid: 2, 3, 4, 6, 8, 11, 16, ... up to ``2^log2_n_max``."""
    return sorted({int(round(2 ** (k / 2))) for k in range(2, 2 * log2_n_max + 1)})


CAPACITY_REDUCTIONS = ("tensor", "standard")


def tensor_capacity_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per dimension ``d`` and reduction: the walk up :func:`capacity_grid` to its first failure."""
    return [{"d": d, "reduction": name} for d in dict.fromkeys(config["d_values"]) for name in CAPACITY_REDUCTIONS]


def tensor_capacity_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """Accuracy at each ``n`` of :func:`capacity_grid` at dimension ``d`` with ``||q|| = r``, up to the
    first ``n`` decoded below 99%: the low-dimensional analogue of HO Corollary 9.

    ``tensor``: TA's reduction with the exact 4-cache; ``standard``: HO's reduction with the exact
    cache, on the same public codebooks, bits and probed rows (a uniform sample of at most ``rows``).
    With unit keys the query ``C k_i`` has norm ``C``, so the bounded-norm regime of Theorem 15 is
    ``C = r``.
    """
    d, name, r = unit["d"], unit["reduction"], float(config["query_norm"])
    rows = []
    for n in capacity_grid(config["log2_n_max"]):
        rng = np.random.default_rng([seed, d, n])
        probed = np.sort(rng.choice(n, size=min(n, config["rows"]), replace=False))
        if name == "tensor":
            base, cache = TensorIndexReduction(n, d, C=r, codebook=config["codebook"]), ExactFourCache("float64")
        else:
            base, cache = ExactOutputReduction(n, d, C=r, codebook=config["codebook"]), ExactCache("float64")
        reduction, x = trial_input(base, seed, d)  # the same codebook and bits for both
        message = players.alice(reduction, cache, x)
        accuracy = score(players, reduction, cache, message, x, probed).accuracy
        rows.append({"reduction": name, "d": d, "n": n, "query_norm": r, "eps_measured": reduction.eps,
                     "rows_probed": len(probed), "accuracy": accuracy})
        if accuracy < SUCCESS_ACCURACY:
            break
    return rows


def tensor_capacity_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per ``d`` and reduction its capacity: the last ``n`` before the first failure (censored if none
    failed), beside HO Lemma 3's ``n'``."""
    curves = []
    for d in dict.fromkeys(config["d_values"]):
        for name in CAPACITY_REDUCTIONS:
            walk = [row for row in rows if row["d"] == d and row["reduction"] == name]
            decoded = [row["n"] for row in walk if row["accuracy"] >= SUCCESS_ACCURACY]
            curves.append({"d": d, "reduction": name, "n": [row["n"] for row in walk],
                           "accuracy": [row["accuracy"] for row in walk],
                           "capacity": decoded[-1] if decoded else None, "censored": len(decoded) == len(walk)})
    lemma3 = [math.exp(d * (0.25 - 0.125) / 12) for d in config["d_values"]]
    return {"experiment": "tensor_capacity", "codebook": config["codebook"], "query_norm": float(config["query_norm"]),
            "d_values": list(config["d_values"]), "rows": curves, "lemma3_n_prime": lemma3,
            "success_accuracy": SUCCESS_ACCURACY}


def tensor_memory_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per stream length ``n`` (both caches take the same tokens)."""
    return [{"n": n} for n in dict.fromkeys(config["n_values"])]


def tensor_memory_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """Memory of the 4-cache and the 2-cache after ``n`` random tokens (TA: O(nd) vs O(n^2 d)).

    Deterministic, so it belongs in the results; the per-token *time* of the same caches is a
    measurement and lives in ``benchmarks/tensor.py`` (run by ``make tensor``).
    """
    n, d = unit["n"], config["d"]
    tokens = np.random.default_rng([seed, n, d]).standard_normal((5, n, d)) / math.sqrt(d)
    rows = []
    for cache in (ExactFourCache("float64"), ExactTwoCache("float64")):
        cache.extend(*tokens)
        rows.append({"cache": repr(cache), "family": type(cache).__name__, "n": n, "d": d,
                     "memory_bits": cache.memory_bits, "memory_ratio_to_nd": cache.memory_bits / (n * d)})
    return rows


def tensor_memory_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """The memory table, one row per cache and ``n``."""
    return {"experiment": "tensor_memory", "d": config["d"], "n_values": list(config["n_values"]), "rows": rows}


def _sphere(rng, rows: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((rows, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _subgen_stream(config: dict, seed: int) -> tuple[list, list]:
    """The stream and the probes every setting is measured on, from ``default_rng([seed, 9, n, d])``.

    Unit keys in ``R^d`` (``(m, δ)``-clusterable with ``m`` a covering number), values uniform in
    ``[0, 1]^d`` (nonnegative like the reduction's bits), probes with ``||q|| = query_norm`` and
    random own tokens.
    """
    n, dim, count = config["n"], config["d"], config["queries"]
    rng = np.random.default_rng([seed, 9, n, dim])
    tokens = [np.zeros((n, dim)), _sphere(rng, n, dim), _sphere(rng, n, dim),
              rng.random((n, dim)), rng.random((n, dim))]
    probes = [float(config["query_norm"]) * _sphere(rng, count, dim), _sphere(rng, count, dim),
              _sphere(rng, count, dim), rng.random((count, dim)), rng.random((count, dim))]
    return tokens, probes


#: the per-query fields of :func:`subgen_guarantee` (with the setting's label) kept in the summary
SUBGEN_QUERY_FIELDS = ("error", "bound", "output_norm", "rho", "log_z_ratio", "log_z_limit", "label")


def tensor_subgen_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per SubGen setting ``[δ, t, s]``."""
    settings = dict.fromkeys((float(delta), int(t), int(s)) for delta, t, s in config["settings"])
    return [{"delta": delta, "t": t, "s": s} for delta, t, s in settings]


def tensor_subgen_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """One setting's SubGen-style 4-cache on :func:`_subgen_stream`: per query its error vs the
    guarantee and ``Ẑ/Z`` vs ``e^{±2ρ}`` (:func:`subgen_guarantee`), with the cache's clusters and
    memory. The caches are float64 so the guarantee applies to what they store."""
    tokens, probes = _subgen_stream(config, seed)
    exact = ExactFourCache("float64")
    exact.extend(*tokens)
    cache = SubGenFourCache(unit["delta"], unit["t"], unit["s"], seed=seed, dtype="float64")
    cache.extend(*tokens)
    clusters_k1, clusters_k2 = cache.clusters
    setting = {"label": f"δ={unit['delta']:g}, t={unit['t']}, s={unit['s']}", **unit,
               "clusters_k1": clusters_k1, "clusters_k2": clusters_k2,
               "memory_bits": cache.memory_bits, "exact_memory_bits": exact.memory_bits}
    return [{**row, **setting} for row in subgen_guarantee(cache, tokens, probes, config["failure"])]


def tensor_subgen_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per setting: the fraction of queries within the error bound, whether ``Ẑ/Z`` stayed within
    ``e^{±2ρ}`` on every query, the median relative error and error over bound; every query's row."""
    by_label: dict[str, list[dict]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    settings = []
    for label, measured in by_label.items():
        first = measured[0]
        settings.append({
            "label": label, "delta": first["delta"], "t": first["t"], "s": first["s"],
            "clusters": [first["clusters_k1"], first["clusters_k2"]],
            "memory_bits": first["memory_bits"], "exact_memory_bits": first["exact_memory_bits"],
            "within_bound": float(np.mean([m["error"] <= m["bound"] for m in measured])),
            "denominator_within_limit": bool(all(abs(m["log_z_ratio"]) <= m["log_z_limit"] + 1e-9 for m in measured)),
            "median_relative_error": float(np.median([m["error"] / max(m["output_norm"], 1e-300) for m in measured])),
            "median_error_over_bound": float(np.median([m["error"] / m["bound"] for m in measured])),
        })
    return {"experiment": "tensor_subgen", "n": config["n"], "d": config["d"],
            "query_norm": float(config["query_norm"]), "failure": config["failure"], "settings": settings,
            "rows": [{field: row[field] for field in SUBGEN_QUERY_FIELDS} for row in rows]}


def tensor_game_headline(summary: dict) -> str:
    """``barriers report``'s line: in the INDEX game the worst exact/quantized 4-cache and the 2-cache
    (99% Wilson over n·d bits × trials; memory ratios exact) and the SubGen-style 4-caches' range."""
    from protocols.headline import exact, percent

    points = summary.get("points") or []

    def worst(rows):
        p = min(rows, key=lambda p: p["accuracy"])
        return percent(p["accuracy"], p["accuracy_low"], p["accuracy_high"])

    parts = []
    four = [p for p in points if p.get("family") in ("ExactFourCache", "QuantizedFourCache")]
    two = [p for p in points if p.get("family") == "ExactTwoCache"]
    sub = [p for p in points if p.get("family") == "SubGenFourCache"]
    where = f"at n = {summary.get('n')}, d = {summary.get('d')}"
    if four:
        parts.append(f"{where} exact and quantized 4-caches "
                     f"(memory ratio ≥ {exact(min(p['memory_ratio'] for p in four))}) "
                     f"decode at least {worst(four)}")
    if two:
        parts.append(f"the 2-cache (ratio {exact(two[0]['memory_ratio'], 0)}) at least {worst(two)}")
    if sub:
        low, high = min(sub, key=lambda p: p["accuracy"]), max(sub, key=lambda p: p["accuracy"])
        parts.append(f"SubGen-style 4-caches only {percent(low['accuracy'], low['accuracy_low'], low['accuracy_high'])} "
                     f"to {percent(high['accuracy'], high['accuracy_low'], high['accuracy_high'])}")
    below = [p for p in points if p["memory_ratio"] < 1.0]
    if below:
        top = max(below, key=lambda p: p["accuracy"])
        parts.append(f"below n·d bits the best ({top['family']}, ratio {exact(top['memory_ratio'])}) decodes "
                     f"{percent(top['accuracy'], top['accuracy_low'], top['accuracy_high'])} where Fano allows "
                     f"{100 * top['fano_max_accuracy']:.1f}% (exact)")
    designed = [p for p in points if p.get("family") == "HashedBitsFourCache" and p["accuracy_low"] >= SUCCESS_ACCURACY]
    if designed:
        first = min(designed, key=lambda p: p["memory_ratio"])
        parts.append(f"the designed 4-cache reaches {percent(first['accuracy'], first['accuracy_low'], first['accuracy_high'])} "
                     f"at ratio {exact(first['memory_ratio'])}")
    return "; ".join(parts) or "see figure"


def tensor_threshold_headline(summary: dict) -> str:
    """``barriers report``'s line: the tensor vs HO eq. 16 threshold at the measured ε (median [min, max]
    over the trials' public codebooks; "exact" for the measured ε of a summary without intervals)."""
    from protocols.headline import exact

    curves = summary.get("curves") or []
    exact_curve = next((c for c in curves if not c.get("eta")), None)
    if not exact_curve or exact_curve.get("standard_threshold") is None:
        return "see figure"
    where = f"at n = {summary.get('n')}, d = {summary.get('d')} the tensor threshold"
    if exact_curve.get("theorem_threshold_interval") and exact_curve.get("standard_threshold_interval"):
        draws = summary.get("trials") or 1
        return (f"{where} {spread_shown(exact_curve['theorem_threshold'], exact_curve['theorem_threshold_interval'])} "
                f"vs HO eq. 16's {spread_shown(exact_curve['standard_threshold'], exact_curve['standard_threshold_interval'])} "
                f"at the measured ε = {spread_shown(summary['eps_measured'], summary['eps_interval'], 3)} "
                + (f"(median [min, max] over the {draws} trials' public codebooks)" if draws > 1
                   else "(one trial's public codebook)"))
    return (f"{where} {exact(exact_curve['theorem_threshold'])} vs HO eq. 16's "
            f"{exact(exact_curve['standard_threshold'])} at the measured ε (one drawn codebook)")


def tensor_capacity_headline(summary: dict) -> str:
    """``barriers report``'s line: the largest ``n'`` each reduction decodes per dimension (one draw
    per (d, n), integers on the capacity grid) and at how many dimensions the two agree."""
    rows = [r for r in summary.get("rows") or [] if r.get("capacity") is not None]
    by_d: dict = {}
    for r in rows:
        by_d.setdefault(r["d"], {})[r.get("reduction")] = r["capacity"]
    both = {d: c for d, c in by_d.items() if "tensor" in c and "standard" in c}
    if not both:
        return "see figure"
    same = sum(c["tensor"] == c["standard"] for c in both.values())
    ds = sorted(both)
    return (f"at bounded ||q|| the tensor and standard reductions decode the same largest n' "
            f"at {same} of {len(both)} dimensions d = {ds[0]}..{ds[-1]} (tensor n' = "
            f"{both[ds[0]]['tensor']}..{both[ds[-1]]['tensor']}, one draw per point)")


def tensor_memory_headline(summary: dict) -> str:
    """``barriers report``'s line: the 2- vs 4-cache memory (exact byte counts)."""
    from protocols.headline import spread

    rows = summary.get("rows") or []
    ratios = []
    for n in sorted({r["n"] for r in rows}):
        bits = {r["family"]: r["memory_bits"] for r in rows if r["n"] == n}
        if "ExactTwoCache" in bits and "ExactFourCache" in bits:
            ratios.append((n, bits["ExactTwoCache"] / bits["ExactFourCache"]))
    if not ratios:
        return "see figure"
    return (f"the 2-cache needs {spread([r for _, r in ratios], 'exact', 1)} times the 4-cache's memory "
            f"for n = {ratios[0][0]}..{ratios[-1][0]} (≈ n/2)")


def tensor_subgen_headline(summary: dict) -> str:
    """``barriers report``'s line: the fraction of queries within the guaranteed error bound, over all
    settings and for the worst one (99% Wilson over the queries), and in how many settings Ẑ/Z
    stayed within e^{±2ρ} (a count)."""
    from protocols.headline import counted

    rows = summary.get("rows") or []
    settings = summary.get("settings") or []
    if not rows or not settings:
        return "see figure"
    per_setting = []
    for setting in settings:
        measured = [r for r in rows if r.get("label") == setting["label"]]
        if measured:
            per_setting.append((sum(r["error"] <= r["bound"] for r in measured), len(measured)))
    within, total = sum(w for w, _ in per_setting), sum(t for _, t in per_setting)
    worst = min(per_setting, key=lambda wt: wt[0] / wt[1])
    kept = sum(bool(s.get("denominator_within_limit")) for s in settings)
    return (f"SubGen-style 4-cache error within its guarantee on {counted(within, total)} of {total} queries "
            f"(worst of {len(per_setting)} settings {counted(*worst)}, 99% Wilson); "
            f"Ẑ/Z within e^(±2ρ) in {kept} of {len(settings)} settings")


_RESULT = "TA (tensor attention)"

EXPERIMENTS = [
    Experiment(
        "tensor_game", _RESULT, "tensor",
        "do the tensor caches need ~ n d bits? exact, quantized, 2-cache and SubGen-style in the INDEX game",
        TENSOR_GAME_PRESETS, tensor_game_sweep, tensor_game_measure, tensor_game_summary,
        "plots.tensor:tensor_game_figure", headline="reductions.tensor:tensor_game_headline",
    ),
    Experiment(
        "tensor_threshold", _RESULT, "tensor",
        "where in C does decoding start? the tensor threshold vs HO eq. 16, exact and (1±η) adversary",
        TENSOR_THRESHOLD_PRESETS, tensor_threshold_sweep, tensor_threshold_measure, tensor_threshold_summary,
        "plots.tensor:tensor_threshold_figure", headline="reductions.tensor:tensor_threshold_headline",
    ),
    Experiment(
        "tensor_capacity", _RESULT, "tensor",
        "how many keys decode at low dimension d? tensor vs standard reduction at bounded ||q||",
        TENSOR_CAPACITY_PRESETS, tensor_capacity_sweep, tensor_capacity_measure, tensor_capacity_summary,
        "plots.tensor:tensor_capacity_figure", headline="reductions.tensor:tensor_capacity_headline",
    ),
    Experiment(
        "tensor_memory", _RESULT, "tensor",
        "how much more memory does the 2-cache need than the 4-cache? (≈ n/2)",
        TENSOR_MEMORY_PRESETS, tensor_memory_sweep, tensor_memory_measure, tensor_memory_summary,
        "plots.tensor:tensor_memory_figure", headline="reductions.tensor:tensor_memory_headline", uses_game=False,
    ),
    Experiment(
        "tensor_subgen", _RESULT, "tensor",
        "does the SubGen-style 4-cache keep its error guarantee and e^(±2ρ) denominator bound?",
        TENSOR_SUBGEN_PRESETS, tensor_subgen_sweep, tensor_subgen_measure, tensor_subgen_summary,
        "plots.tensor:tensor_subgen_figure", headline="reductions.tensor:tensor_subgen_headline", uses_game=False,
    ),
]
