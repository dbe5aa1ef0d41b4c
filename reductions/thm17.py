"""HO Theorem 17 (= Theorem 26): approximating sliding-window attention needs Ω(dW) bits.

Reading order: the window shift, the construction, the thresholds on C (eq. 84 as printed and
corrected), the certificates, then the two experiments.

**The stream (as printed).** Alice holds ``x in {0,1}^{W x d}``. She streams ``n`` triples:
``q_l = 0`` throughout; ``k_l = v_l = 0`` for ``l <= n - W``; ``k_l = f(e_l)`` (JL keys) and
``v_l = x_{l-(n-W), :}`` for the last ``W``. Bob then streams ``(C·f(e_{n-W+i}), 0, 0)``.

**The window shift.** Bob's token is token ``n+1`` and takes a place in the window itself: the mask
of eq. 20 at his step is ``1{l > n + 1 - W}``. With an attention window of exactly ``W`` the oldest
bit row (token ``n-W+1``) has left the window when Bob asks: its key scores 0 like the zero tokens,
so nothing singles it out and row 1 decodes at chance (accuracy ``1 - 1/(2W)`` at best; the tests
check it). The suite therefore runs the algorithms with attention window ``W + 1`` for ``W``
encoded rows (:attr:`SlidingWindowReduction.attention_window`): at Bob's step the window holds all
``W`` bit rows and his own token. Equivalently, an algorithm with window ``W`` is attacked with
``W - 1`` rows, ``(W-1)d = Ω(dW)`` bits, so the theorem is unchanged. The zero tokens are harmless
on either side of the window: a zero key scores 0 inside it and is given 0 outside it.

**Scores at Bob's step** (window ``W+1``): the spike ``s_i = C<k_i,k_i> >= C(1-ε)``; the other
``W-1`` rows ``|s_l| <= Cε``; Bob's own token 0; the ``n - W`` zero tokens outside weigh 1. That
is ``n`` non-spike tokens, each of weight ``<= e^{Cε}``, so Theorem 6's two-case bounds hold with
the same ``n`` (HO eqs. 76-82): ``O_j <= δ = n e^{Cε}/(n e^{Cε} + e^{C(1-ε)})`` if ``x_ij = 0`` and
``O_j >= Δ = e^{C(1-ε)}/(e^{C(1-ε)} + n e^{Cε})`` if ``x_ij = 1``. On this stream ordinary
attention over all tokens equals ``Attn_W`` (every zero token weighs 1 either way), so the
foundation's caches are honest players too.

**The threshold.** A ``(1±η)`` output decodes iff ``(1+η)δ < (1-η)Δ``, i.e.
``C > [ln n + ln((1+η)/(1-η))]/(1-2ε)`` (:func:`reductions.spike.threshold_C`). Eq. 84 prints
``C > [2 ln n - ln((1-η)/(1+η))]/[2(1-2ε)]``, which halves the ``η`` term: at that C the gap is
``(1-η)Δ/((1+η)δ) = sqrt((1-η)/(1+η)) < 1`` for every η in (0,1) [sic, docs/theory.md §5].

Experiments: ``window`` (accuracy vs memory ratio ``memory_bits/(W·d)`` for the window algorithms
and the zoo under the Fano frontier, and accuracy vs C for the worst ``(1±η)`` output) and
``window_memory`` (the memory needed for 99% accuracy grows with ``W·d``, not with ``n``).
The threshold curves report Bob's accuracy beside the flipped decoder's (``1 - accuracy``) and
the fraction of coordinates hidden: the adversary must hide the bits (both accuracies near 1/2),
not invert them (accuracy near 0, which a decoder that flips its answers turns into 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.adversary import AdversarialApproximation
from caches.eviction import RandomEvictionCache, WindowCache
from caches.exact import ExactCache
from caches.params import check_int
from caches.spec import build
from caches.window_designed import WindowHashedBitsCache
from caches.sliding import (
    WINDOW_CACHES,
    Algorithm1Cache,
    BoostedWindowCache,
    RunningSumWindowCache,
    windowed_attention,
)
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.fano import min_memory_ratio
from protocols.game import frozen_spec, outcome_rows, play, play_trial, points_from_rows, trial_input
from reductions.certify import claim
from reductions.jl import CODEBOOKS
from reductions.spike_lemmas import (
    exp_log_monotone,
    ge,
    gt,
    iff,
    le,
    lt,
    spike_bounds,
    sum_bounds,
    sum_split_rule,
    threshold_iff,
    two_case_bounds,
)
from reductions.tactics import Counterexample, GridCheck, Identity, Implies, eps_in_open_half, eta_in_open_unit
from reductions.spike import (
    SUCCESS_ACCURACY,
    Delta_bound,
    SpikeQueryReduction,
    c_curves,
    c_sweep_trial,
    delta_bound,
    sweep_c_grid,
    threshold_C,
    trial_eps,
)


# --- thresholds on C --------------------------------------------------------------------------


def printed_eq84_C(n: int, eps: float, eta: float) -> float:  # noqa: N802
    """HO eq. 84 as printed: ``[2 ln n - ln((1-η)/(1+η))] / [2(1 - 2ε)]`` (too small for η > 0)."""
    return (2 * math.log(n) - math.log((1 - eta) / (1 + eta))) / (2 * (1 - 2 * eps))


def window_hiding_limit_C(W: int, eta: float) -> float | None:  # noqa: N802
    """Below about ``ln(W-1) + ln(η/(1-η))`` the worst ``(1±η)`` output hides the spike (``None`` at η = 0).

    The suite's estimate, not the paper's: only the ``W-1`` other bit rows carry ones (the zero
    tokens add only to the denominator), so a column's rest is ``R ≈ (W-1)/(2Z)`` against the
    spike ``e^C/Z``; the adversary confuses the two cases once ``2ηR >= (1-η)e^C/Z``. The rest
    is a sum over only ``W-1`` bits, so it spreads by about ``1/sqrt(W-1)`` of itself: for small
    ``W`` one hiding point covers less of it, and hiding needs C further below this estimate
    (the threshold curves report the fraction hidden).
    """
    if eta == 0 or W < 2:
        return None
    return math.log(W - 1) + math.log(eta / (1 - eta))


def window_decision_threshold(C: float, eps: float, n: int, W: int, eta: float = 0.0) -> float:
    """Bob's threshold on each output coordinate.

    Above the corrected threshold on C it is the middle of ``[(1+η)δ, (1-η)Δ]`` (proved correct).
    Below it the theorem gives no decoder; Bob then uses the typical case (the suite's choice):
    every non-spike token weighs about 1, so ``Z ≈ e^C + n``, the spike is ``ξ = e^C/Z`` and a
    column's rest is ``R ≈ (W-1)/(2Z)``; he takes the middle of ``[(1+η)R, (1-η)(R+ξ)]``.
    """
    delta = delta_bound(C, eps, n)
    if (1 + eta) * delta < (1 - eta) * (1 - delta):
        return 0.5 * ((1 + eta) * delta + (1 - eta) * (1 - delta))
    tail = n * math.exp(-min(C, 700.0))
    spike = 1.0 / (1.0 + tail)
    rest = 0.5 * (W - 1) * math.exp(-min(C, 700.0)) * spike
    return 0.5 * ((1 + eta) * rest + (1 - eta) * (rest + spike))


# --- the construction -------------------------------------------------------------------------


@dataclass(frozen=True)
class SlidingWindowReduction(SpikeQueryReduction):
    """HO Theorem 26: INDEX on ``W x d`` bits through sliding-window attention over ``n`` tokens.

    Alice's stream is the printed one (zeros, then the JL keys ``f(e_{n-W+i})`` with the bit rows
    as values). The algorithms must use attention window ``W + 1`` (:attr:`attention_window`):
    Bob's own token occupies one place of the window (see the module docstring). ``C=None`` takes
    twice the corrected threshold with ε measured on the ``W`` keys used (at η = 0 that is the
    paper's ``2 ln n/(1-2ε)``).
    """

    n: int
    W: int
    d: int
    C: float | None = None
    eta: float = 0.0
    codebook: str = "normalized"
    public_seed: int = 0

    result = "HO Theorem 26"

    def __post_init__(self) -> None:
        W = check_int("W", self.W, 2)
        check_int("n", self.n, W)
        check_int("d", self.d, 1)
        self._check_common()

    @property
    def shape(self) -> tuple[int, int]:
        return (self.W, self.d)

    @property
    def attention_window(self) -> int:
        """The window an algorithm needs so that all ``W`` rows are in it at Bob's step: ``W + 1``."""
        return self.W + 1

    @property
    def key_count(self) -> int:
        """Only ``f(e_{n-W+1}), ..., f(e_n)`` carry data (JL columns from the public seed)."""
        return self.W

    def default_C(self) -> float:  # noqa: N802
        return 2 * threshold_C(self.n, self.eps, self.eta)

    def threshold_for(self, C: float) -> float:  # noqa: N803
        return window_decision_threshold(C, self.eps, self.n, self.W, self.eta)

    def alice_stream(self, x):
        Q = np.zeros((self.n, self.d))
        K = np.zeros((self.n, self.d))
        V = np.zeros((self.n, self.d))
        K[self.n - self.W :] = self.keys
        V[self.n - self.W :] = np.asarray(x, dtype=np.float64)
        return Q, K, V


def adversary_for(reduction: SlidingWindowReduction, dtype: str = "float64") -> AdversarialApproximation:
    """The worst ``(1±η)`` approximation of the exact running sum against every decoder, at Bob's threshold."""
    inner = RunningSumWindowCache(window=reduction.attention_window, dtype=dtype)
    return AdversarialApproximation(inner, reduction.eta, reduction.threshold)


# --- certificates -------------------------------------------------------------------------------
#
# Every check returns certificates (reductions.tactics) that the runner re-verifies; the lemmas
# shared with the tensor reduction (exp/ln monotone, sums of bounded terms, HO's two-case step,
# the threshold chain) live in reductions.spike_lemmas.


def _window_index_certificates() -> list:
    """Which tokens are in Bob's window: window ``W + 1`` holds all ``W`` rows, window ``W`` loses row 1."""
    n, W, r, t = sp.symbols("n W r l", real=True)
    i = sp.Symbol("i", real=True)
    rows = [ge(r, 1), le(r, W), ge(W, 2), ge(n, W)]
    return [
        Implies(gt(n - W + r, (n + 1) - (W + 1)), rows, engine="z3",
                where={sp.Symbol("token"): n - W + r}, note="window W+1 at Bob's step n+1 (mask l > n - W) holds every row r"),
        Implies(gt(n + 1, (n + 1) - (W + 1)), [ge(W, 2)], engine="z3", note="... and Bob's own token n+1"),
        Implies(le(t, (n + 1) - (W + 1)), [le(t, n - W)], engine="z3",
                note="... while the n - W zero tokens l <= n - W are outside it (score 0, weight 1, value 0)"),
        Identity((n + 1) - (n - W), W + 1, note="the window holds exactly W + 1 tokens: W rows and Bob's"),
        Implies(iff(gt(n - W + r, (n + 1) - W), gt(r, 1)), rows, engine="z3",
                note="with window W (mask l > n + 1 - W), row r is inside iff r > 1: row 1 has left"),
        Identity((n - W + i) - (n - W), i,
                 note="Bob's query C f(e_{n-W+i}) is row i's key; that token's value is x_{(n-W+i)-(n-W)} = x_i"),
        Identity((W - 1) + 1 + (n - W), n, note="non-spike tokens: W - 1 other rows, Bob's own, n - W outside"),
        Implies(ge(W - 1, W / 2), [ge(W, 2)], engine="z3",
                note="alternatively window W with W - 1 rows encoded: (W-1)d >= Wd/2 bits, still Ω(dW)"),
    ]


@claim(
    name="Theorem 26 window shift and row decoding",
    source="HO Theorem 26 (window shift, docs/theory.md §5)",
    statement="Bob's probe is token n+1 (each probe starts from Alice's message, so every query is at step n+1). "
    "With attention window W+1 its mask l > n - W holds all W rows (tokens n-W+r, 1 <= r <= W) and Bob's token, "
    "and the n-W zero tokens are outside; with window W, row r is inside iff r > 1 (row 1 is lost). Query i "
    "carries row i's key and row i's value is x_i; the non-spike tokens number (W-1) + 1 + (n-W) = n; "
    "attacking window W with W-1 rows still encodes (W-1)d >= Wd/2 bits (W >= 2)",
    relied_on=True,
)
def _check_window_shift():
    return _window_index_certificates()


def _window_two_case_certificates() -> list:
    """Eq. 20 at Bob's step with window ``W + 1``, assembled, then the two-case step (``W = m + 1``, ``n = W + k``)."""
    m, a, l, j, d = sp.symbols("m a l j d", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    W, n = m + 1, m + 1 + k
    s, eps = eps_in_open_half()
    C = sp.Symbol("C", nonnegative=True)
    K, X = sp.IndexedBase("K"), sp.IndexedBase("X")
    i = sp.Symbol("i", integer=True, positive=True)

    def weight(key):  # e^{<q, k>} with q = C K_i
        return sp.exp(sp.Sum(C * K[i, l] * key(l), (l, 1, d)))

    # eq. 20 with window W+1 at step n+1: rows a (tokens n-W+a) and Bob's token inside, n-W zero tokens outside
    numerator = sp.Sum(weight(lambda t: K[a, t]) * X[a, j], (a, 1, W)) + weight(lambda t: 0) * 0 + sp.Sum(0, (l, 1, n - W))
    denominator = sp.Sum(weight(lambda t: K[a, t]), (a, 1, W)) + weight(lambda t: 0) + sp.Sum(1, (l, 1, n - W))
    inner = sp.Sum(K[i, l] * K[a, l], (l, 1, d))
    claimed = sp.Sum(sp.exp(C * inner) * X[a, j], (a, 1, W)) / (sp.Sum(sp.exp(C * inner), (a, 1, W)) + 1 + (n - W))

    p_off, p_spike = sp.symbols("p_off p_spike", real=True)
    E = sp.IndexedBase("E", positive=True)
    Xb, Y = sp.IndexedBase("X", nonnegative=True), sp.IndexedBase("Y", nonnegative=True)
    P, Q, sigma, c_total = sp.symbols("P Q sigma c", positive=True)
    where = {sp.Symbol("epsilon"): eps, sp.Symbol("W"): W, sp.Symbol("n"): n, P: sp.exp(C * (1 - eps)),
             Q: sp.exp(C * eps)}
    split = ((sp.Sum(E[a] * Xb[a], (a, 1, m)) + sp.Sum(E[a] * Xb[a], (a, m + 1, m + 1)))
             / (sp.Sum(E[a], (a, 1, m)) + sp.Sum(E[a], (a, m + 1, m + 1)) + 1 + k))
    spike, rest, others = E[m + 1], sp.Sum(E[a] * Xb[a], (a, 1, m)), sp.Sum(E[a], (a, 1, m)) + 1 + k
    return [
        Identity(numerator / denominator, claimed, where={sp.Symbol("W"): W, sp.Symbol("n"): n},
                    note="eq. 20 at Bob's step, window W+1, with the stream: the rows' weighted bits over their "
                    "weights + Bob's e^0 + the n - W outside tokens' weight 1 (symbolic n, W, d)"),
        *sum_split_rule(),  # relabel the rows so that the spike row i is the last, then split it off
        Identity(split, (spike * Xb[m + 1] + rest) / (spike + others),
                    where={sp.Symbol("S"): spike, sp.Symbol("r"): rest, sp.Symbol("c"): others, sp.Symbol("n-W"): k},
                    note="the output is (S x_ij + r)/(S + c): spike S, competitors c, their ones r"),
        Implies(sp.And(le(C * p_off, C * eps), ge(C * p_spike, C * (1 - eps)), ge(C * eps, 0)),
                [le(p_off, eps), ge(p_spike, 1 - eps)], engine="z3", where={sp.Symbol("epsilon"): eps},
                note="scores: C<k_i,k_a> <= Cε (a != i), C<k_i,k_i> >= C(1-ε), 0 <= Cε (Bob's and outside tokens)"),
        *exp_log_monotone(),  # e_a <= Q, 1 = e^0 <= Q, e_spike >= P
        *sum_bounds(),  # sigma = sum of the m = W - 1 other rows' weights <= mQ
        Implies(ge(sp.Sum(E[a] * Xb[a], (a, 1, m)), 0), where=where, note="r >= 0"),
        Implies(ge(sp.Sum(E[a] * Y[a], (a, 1, m)) + 1 + k, 0), where={**where, Y[a]: 1 - Xb[a]},
                note="c - r = sum_{a != i} e_a (1 - x_aj) + 1 + (n - W) >= 0, so r <= c"),
        Implies(le(c_total, n * Q), [le(sigma, m * Q), ge(Q, 1), sp.Eq(c_total, sigma + 1 + k)], engine="z3",
                where=where, note="c = sigma + (1 + n - W) e^0 <= (W - 1 + 1 + n - W) Q = n Q"),
        *two_case_bounds(1, n),
    ]


@claim(
    name="Theorem 26 two-case bounds (eqs. 76-82)",
    source="HO Theorem 26, eqs. 76-82",
    statement="Eq. 20 at Bob's step with window W+1 (W >= 2, n >= W), assembled for symbolic n, W, d, is "
    "sum_a e^{C<k_i,k_a>} x_aj / (sum_a e^{C<k_i,k_a>} + 1 + (n - W)); with <k_i,k_a> <= ε (a != i), "
    "<k_i,k_i> >= 1-ε, ε in (0, 1/2), C >= 0 and 0/1 bits: O_j <= δ if x_ij = 0 and O_j >= Δ if x_ij = 1, "
    "Theorem 6's δ, Δ at the same n (n non-spike tokens of weight <= e^{Cε})",
    relied_on=True,
)
def _check_two_case_window():
    return _window_two_case_certificates()


@claim(
    name="Theorem 26 bounds on real codebooks",
    source="HO Theorem 26, eqs. 76-82",
    statement="On real JL codebooks ((n, W, d) in {(64,8,64), (256,16,128), (1024,24,128)}, C = 1, 1.5, 2 x the "
    "threshold, one random x each), every exact Attn_W output of Bob's queries (window W+1) lies in [0, δ] when "
    "x_ij = 0 and in [Δ, 1] when x_ij = 1 (to 1e-12 relative)",
    relied_on=True,
)
def _check_bounds_on_codebooks():
    above, below = sp.symbols("max_zero_output_over_delta min_one_output_over_Delta", nonnegative=True)
    points = []
    for n, W, d in ((64, 8, 64), (256, 16, 128), (1024, 24, 128)):
        for factor in (1.0, 1.5, 2.0):
            reduction, x = trial_input(SlidingWindowReduction(n, W, d, C=1.0), seed=7, trial=n + W)
            C = factor * threshold_C(n, reduction.eps)
            reduction = SlidingWindowReduction(n, W, d, C, 0.0, reduction.codebook, reduction.public_seed)
            Q, K, V = reduction.alice_stream(x)
            queries = reduction.bob_queries(np.arange(W))[0]
            low, high = delta_bound(C, reduction.eps, n), Delta_bound(C, reduction.eps, n)
            worst_zero, worst_one = 0.0, 1.0 / high
            for i in range(W):
                out = windowed_attention(queries[i], np.vstack([K, np.zeros(d)]), np.vstack([V, np.zeros(d)]), W + 1)
                zeros, ones = out[x[i] == 0], out[x[i] == 1]
                if zeros.size:
                    worst_zero = max(worst_zero, float(zeros.max()) / low)
                if ones.size:
                    worst_one = min(worst_one, float(ones.min()) / high)
            points.append({above: sp.Rational(worst_zero), below: sp.Rational(worst_one)})
    tolerance = sp.Rational(1, 10**12)
    return GridCheck(sp.And(le(above, 1 + tolerance), ge(below, 1 - tolerance)), points,
                     note="per (n, W, d, C): largest bit-0 output / δ and smallest bit-1 output / Δ")


def _eq84(n, eps, eta, C):
    """``(printed bound, needed relation)``: eq. 84's ``C`` bound and the decoding gap ``(1+η)δ < (1-η)Δ``."""
    printed = (2 * sp.log(n) - sp.log((1 - eta) / (1 + eta))) / (2 * (1 - 2 * eps))
    delta, Delta = spike_bounds(1, n, eps, C)
    return printed, lt((1 + eta) * delta, (1 - eta) * Delta)


@claim(
    name="eq. 84 as printed",
    source="HO Theorem 26, eq. 84 [sic]",
    statement="C > [2 ln n - ln((1-η)/(1+η))]/[2(1-2ε)] gives (1+η)δ < (1-η)Δ",
    relied_on=False,
)
def _check_eq84_printed():
    n, eps, eta, C = sp.symbols("n epsilon eta C", positive=True)
    printed, needed = _eq84(n, eps, eta, C)
    claim_as_printed = sp.Or(le(C, printed), needed)  # C > printed bound  =>  (1+η)δ < (1-η)Δ
    return [
        Counterexample(claim_as_printed, {n: 2, eps: sp.Rational(1, 10), eta: sp.Rational(1, 2), C: 2},
                       note="C = 2 exceeds the printed bound ≈ 1.553 but not the needed ≈ 2.240"),
        Counterexample(claim_as_printed, {n: 1000, eps: sp.Rational(1, 10), eta: sp.Rational(1, 10),
                                          C: sp.Rational(44, 5)},
                       note="C = 8.8 exceeds the printed bound ≈ 8.760 but not the needed ≈ 8.886"),
        Counterexample(claim_as_printed, {n: 64, eps: sp.Rational(1, 4), eta: sp.Rational(9, 10), C: 12},
                       note="C = 12 exceeds the printed bound ≈ 11.26 but not the needed ≈ 14.21"),
    ]


@claim(
    name="eq. 84 as printed leaves no gap just above its bound",
    source="HO Theorem 26, eq. 84 [sic] (the general failure)",
    statement="For every n > 0, ε in (0, 1/2), η in (0, 1): at the printed C_p = [2 ln n - ln((1-η)/(1+η))]/[2(1-2ε)], "
    "ln((1-η)Δ/((1+η)δ)) = -(1/2) ln((1+η)/(1-η)) < 0 (the printed bound halves the η term), and for every C "
    "in (C_p, T], T the corrected threshold (C_p < T), (1+η)δ >= (1-η)Δ: no decoding gap",
    relied_on=False,
)
def _check_eq84_printed_general():
    n = sp.Symbol("n", positive=True)
    s, eps = eps_in_open_half()
    u, eta = eta_in_open_unit()
    C = sp.Symbol("C", real=True)
    where = {sp.Symbol("epsilon"): eps, sp.Symbol("eta"): eta}
    printed, _ = _eq84(n, eps, eta, C)
    corrected = (sp.log(n) + sp.log((1 + eta) / (1 - eta))) / (1 - 2 * eps)
    delta, Delta = spike_bounds(1, n, eps, C)
    log_ratio = sp.log((1 - eta) * Delta / ((1 + eta) * delta))
    L, D = sp.symbols("L D", real=True)
    return [
        Identity(log_ratio.subs(C, printed), -sp.log((1 + eta) / (1 - eta)) / 2, where=where,
                 note="at C_p the log-gap is -(1/2) ln((1+η)/(1-η)): eq. 84 halves the η term"),
        Implies(lt(-sp.log(1 + 2 * u) / 2, 0), where={**where, sp.Symbol("(1+η)/(1-η)"): 1 + 2 * u},
                note="... which is negative, since (1+η)/(1-η) = 1 + 2u > 1"),
        Identity((1 + eta) / (1 - eta), 1 + 2 * u, where=where, note="(1+η)/(1-η) = 1 + 2u"),
        Identity(corrected - printed, sp.log(1 + 2 * u) / (2 * (1 - 2 * eps)), where=where,
                 note="T - C_p = ln((1+η)/(1-η))/(2(1-2ε))"),
        Implies(gt(sp.log(1 + 2 * u) / (2 * (1 - 2 * eps)), 0), where=where, note="... > 0: (C_p, T] is not empty"),
        Identity(log_ratio, (1 - 2 * eps) * (C - corrected), where=where, note="ln R = (1-2ε)(C - T) for every C"),
        Implies(le(L, 0), [sp.Eq(L, s / (1 + s) * D), le(D, 0)], engine="z3",
                where={L: sp.Symbol("ln R"), D: sp.Symbol("C - T")}, note="C <= T => ln R <= 0"),
        exp_log_monotone()[0],  # R > 1 => ln R > 0; contrapositive: ln R <= 0 => R <= 1, no gap
    ]


@claim(
    name="eq. 84 corrected",
    source="HO Theorem 26, eq. 84 (corrected)",
    statement="(1+η)δ < (1-η)Δ iff C > [ln n + ln((1+η)/(1-η))]/(1-2ε), both directions, for every real C, n > 0, "
    "ε in (0, 1/2) and η in (0, 1) (η = 0: HO eq. 16); the window changes neither δ nor Δ (two-case claim)",
    relied_on=True,
)
def _check_eq84_corrected():
    n = sp.Symbol("n", positive=True)
    return [*threshold_iff(1, n, True, "eq. 84"), *threshold_iff(1, n, False, "eq. 16")]


# --- experiment: window -----------------------------------------------------------------------------

@dataclass(frozen=True)
class WindowConfig(ExperimentConfig):
    """Experiment ``window``: INDEX through sliding-window attention (quick preset = the defaults)."""

    n: int = param(1024, low=2, doc="stream length (must be >= W)")
    W: int = param(32, low=2, doc="window length (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(2, low=1, doc="instances per point")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    etas: list = param([0.0, 0.3], low=0.0, high=1.0, high_open=True, doc="approximation factors η")
    c_points: int = param(12, low=2, doc="values of C per η")

    def check(self) -> None:
        check_int("n", self.n, self.W)


WINDOW_PRESETS = {
    "quick": WindowConfig(),
    "paper": WindowConfig(n=4096, W=64, trials=5, etas=[0.0, 0.1, 0.3, 0.5], c_points=24),
}


def zoo_players(n: int, d: int) -> list:
    """The zoo (``caches.zoo``) without this module's window algorithms, which are played separately."""
    try:
        from caches.zoo import zoo_caches  # noqa: PLC0415 - the zoo is optional
    except ImportError:
        from reductions.budget import default_caches  # noqa: PLC0415

        return default_caches(n)
    return [cache for cache in zoo_caches(n, d) if not isinstance(cache, WINDOW_CACHES)]


def window_players(W: int) -> list[tuple[str, object]]:
    """The window algorithms at the right attention window ``W+1``, the naive one and smaller windows."""
    window = W + 1
    players = [
        ("window algorithm", RunningSumWindowCache(window=window, dtype="float64")),
        ("window algorithm", RunningSumWindowCache(window=window, dtype="float32")),
        ("window algorithm", RunningSumWindowCache(window=window, dtype="float16")),
        ("window algorithm", Algorithm1Cache(window=window, dtype="float16")),
        ("window algorithm", BoostedWindowCache(window=window, copies=8, groups=3, dtype="float16")),
        ("window algorithm", WindowCache(window=W, dtype="float16")),  # attends to its W tokens + Bob's
        ("window algorithm", WindowHashedBitsCache(window=window, hash_bits=40)),  # near W·d bits (window_outside)
        ("window W: Bob's shift ignored", RunningSumWindowCache(window=W, dtype="float16")),
    ]
    for w in sorted({max(1, W // 8), max(1, W // 4), max(1, W // 2)}):
        players.append(("smaller window", RunningSumWindowCache(window=w + 1, dtype="float16")))
    return players


def window_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per player and trial of the INDEX game, then one per trial of the C sweep (Alice's
    exact message once, Bob at every η and C of the grid)."""
    players = window_players(config["W"]) + [("zoo", cache) for cache in zoo_players(config["n"], config["d"])]
    games = [{"part": "budget", "role": role, "cache": frozen_spec(cache), "trial": trial}
             for role, cache in players for trial in range(config["trials"])]
    return games + [{"part": "threshold", "trial": trial} for trial in range(config["trials"])]


def window_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One game of HO Theorem 26's INDEX (the unit's player on the unit's trial instance), or one
    trial of the C sweep (:func:`threshold_rows`)."""
    if unit["part"] == "threshold":
        return threshold_rows(config, unit["trial"], seed, players)
    reduction = SlidingWindowReduction(config["n"], config["W"], config["d"], codebook=config["codebook"])
    outcome = play_trial(reduction, unit["cache"], seed, unit["trial"], players)
    return [{"part": "budget", "role": unit["role"], **row} for row in outcome_rows(build(unit["cache"]), [outcome])]


def threshold_base(config: dict) -> SlidingWindowReduction:
    """The C sweep's reduction before its public seed, query scale and η are set."""
    return SlidingWindowReduction(config["n"], config["W"], config["d"], C=1.0, codebook=config["codebook"])


def threshold_grid(config: dict, seed: int) -> list[float]:
    """The C sweep's grid, fixed from the trials' public codebooks alone (:func:`reductions.spike.sweep_c_grid`)."""
    n = config["n"]
    return sweep_c_grid(threshold_base(config), seed, config["trials"], n, config["etas"], threshold_C,
                        0.1 * math.log(n), config["c_points"])


def threshold_rows(config: dict, trial: int, seed: int, players) -> list[dict]:
    """One trial of the C sweep: the exact running sum's message, read by the worst ``(1±η)`` output
    at every η and C (:func:`reductions.spike.c_sweep_trial`); Bob decodes the W·d bits, one query per row."""
    n, W, d = config["n"], config["W"], config["d"]
    records = c_sweep_trial(players, threshold_base(config), RunningSumWindowCache(window=W + 1), seed, trial,
                            config["etas"], threshold_grid(config, seed),
                            lambda r, C, eta: SlidingWindowReduction(n, W, d, C, eta, r.codebook, r.public_seed),
                            adversary_for, np.arange(W))
    return [{"part": "threshold", **record} for record in records]


def threshold_curves(config: dict, rows: list[dict], seed: int) -> list[dict]:
    """Accuracy vs C of the worst ``(1±η)`` output of the exact running sum, one curve per η
    (:func:`reductions.spike.c_curves`), with the thresholds at the trials' largest measured ε.

    Each point reports Bob's accuracy, the flipped decoder's (``1 - accuracy`` from the same decoded
    bits) and the fraction of coordinates hidden (output exactly at Bob's threshold). Below the
    hiding limit the adversary hides rather than inverts, so *both* accuracies are near 1/2
    (:class:`caches.adversary.AdversarialApproximation`); an accuracy near 0 would mean the bits were
    inverted, which a decoder that flips its answers reads off.
    """
    n, W = config["n"], config["W"]
    records = [row for row in rows if row["part"] == "threshold"]
    eps = max(trial_eps(records))
    eps_ok = eps < 0.5
    curves = c_curves(records, config["etas"], threshold_grid(config, seed))
    for curve in curves:
        eta = curve["eta"]
        curve.update(eps_measured=eps, corrected_threshold=threshold_C(n, eps, eta) if eps_ok else None,
                     printed_eq84=printed_eq84_C(n, eps, eta) if eps_ok else None,
                     hiding_limit=window_hiding_limit_C(W, eta))
    return curves


def window_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per player: accuracy (99% Wilson) and memory over the W·d bits, its role; the threshold curves."""
    n, W, d = config["n"], config["W"], config["d"]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["part"] == "budget":
            groups.setdefault((row["role"], row["cache"]), []).append(row)
    points = []
    for (role, _), group in groups.items():
        point = points_from_rows(group)[0]
        point["role"] = role
        if role.startswith("window W"):
            point["family"] = "RunningSumWindowCache, window W"
        points.append(point)
    return {
        "experiment": "window", "n": n, "W": W, "d": d, "codebook": config["codebook"],
        "attention_window": W + 1, "bits_encoded": W * d, "points": points,
        "curves": threshold_curves(config, rows, seed),
    }


# --- experiment: window_memory ----------------------------------------------------------------------

#: Families searched by ``window_memory``: name, cache for a size parameter, range of that parameter.
MEMORY_FAMILIES = (
    ("RunningSumWindowCache", lambda s: RunningSumWindowCache(window=s, dtype="float16"), lambda n, W: (2, W + 1)),
    ("WindowCache", lambda s: WindowCache(window=s, dtype="float16"), lambda n, W: (1, W)),
    ("RandomEvictionCache", lambda s: RandomEvictionCache(budget=s, dtype="float16"), lambda n, W: (1, n)),
)


@dataclass(frozen=True)
class MemoryConfig(ExperimentConfig):
    """Experiment ``window_memory``: memory for the target accuracy vs n and vs W (quick preset = the defaults)."""

    n_values: list = param([256, 1024, 4096], low=2, doc="stream lengths n at W = W_fixed (each >= W_fixed)")
    W_fixed: int = param(32, low=2, doc="window length of the n sweep")
    W_values: list = param([8, 16, 32, 64], low=2, doc="window lengths W at n = n_fixed (each <= n_fixed)")
    n_fixed: int = param(1024, low=2, doc="stream length of the W sweep")
    d: int = param(128, low=1, doc="dimension")
    trials: int = param(1, low=1, doc="instances per point")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    target: float = param(SUCCESS_ACCURACY, low=0.5, high=1.0, low_open=True, doc="accuracy to reach")

    def check(self) -> None:
        for n in self.n_values:
            check_int("n_values[]", n, self.W_fixed)
        for W in self.W_values:
            check_int("W_values[]", W, 2, self.n_fixed)


MEMORY_PRESETS = {
    "quick": MemoryConfig(),
    "paper": MemoryConfig(n_values=[256, 512, 1024, 2048, 4096, 8192, 16384], W_values=[4, 8, 16, 32, 64, 96],
                          n_fixed=2048, trials=3),
}


def smallest_size(make_cache, low: int, high: int, reduction, trials: int, seed: int, bob, target: float):
    """Integer bisection for the smallest size in ``[low, high]`` whose cache reaches ``target`` accuracy.

    Assumes accuracy grows with the size (true for windows; for the random reservoir only on
    average, so its answer is approximate). Returns ``(size, cache, outcomes)`` of the smallest
    size reached, or ``(None, cache, outcomes)`` at ``high``.
    """
    best = make_cache(high)
    point, outcomes = play(reduction, best, trials=trials, seed=seed, bob=bob)
    if point["accuracy"] < target:
        return None, best, outcomes
    while low < high:
        middle = (low + high) // 2
        cache = make_cache(middle)
        point, played = play(reduction, cache, trials=trials, seed=seed, bob=bob)
        if point["accuracy"] >= target:
            high, best, outcomes = middle, cache, played
        else:
            low = middle + 1
    return high, best, outcomes


def memory_configs(config: dict) -> list[tuple[str, int, int]]:
    sweep_n = [("n", n, config["W_fixed"]) for n in config["n_values"]]
    sweep_W = [("W", config["n_fixed"], W) for W in config["W_values"]]
    return sweep_n + sweep_W


def window_memory_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per ``(n, W)`` of the two sweeps and family: the bisection for the family's smallest
    size reaching the target, or the exact cache's games."""
    families = [family for family, _, _ in MEMORY_FAMILIES] + ["ExactCache"]
    return [{"sweep": sweep, "n": n, "W": W, "family": family}
            for sweep, n, W in memory_configs(config) for family in families]


def window_memory_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """The games of the unit's family at its smallest size reaching the target (HO Theorem 26's
    INDEX on W·d bits), with that size (None: not even the largest) and whether it was reached."""
    n, W, target = unit["n"], unit["W"], config["target"]
    reduction = SlidingWindowReduction(n, W, config["d"], codebook=config["codebook"])
    if unit["family"] == "ExactCache":
        cache = ExactCache("float16")
        point, outcomes = play(reduction, cache, trials=config["trials"], seed=seed, bob=players)
        size, reached = n, point["accuracy"] >= target
    else:
        make, bounds = next((make, bounds) for family, make, bounds in MEMORY_FAMILIES if family == unit["family"])
        size, cache, outcomes = smallest_size(make, *bounds(n, W), reduction, config["trials"], seed, players, target)
        reached = size is not None
    return [{"sweep": unit["sweep"], "n": n, "W": W, "size": size, "reached": reached, **row}
            for row in outcome_rows(cache, outcomes)]


def window_memory_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Memory for the target accuracy against n (fixed W) and against W·d (fixed n), per cache family."""
    d, target = config["d"], config["target"]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["sweep"], row["n"], row["W"], row["family"]), []).append(row)
    points = []
    for (sweep, n, W, family), group in groups.items():
        point = points_from_rows(group)[0]
        point.update({"sweep": sweep, "n": n, "W": W, "d": d, "size": group[0]["size"],
                      "reached": group[0]["reached"], "family": family})
        points.append(point)
    return {
        "experiment": "window_memory", "d": d, "target": target, "W_fixed": config["W_fixed"],
        "n_fixed": config["n_fixed"], "n_values": config["n_values"], "W_values": config["W_values"],
        "fano_min_ratio": float(min_memory_ratio(target)), "points": points,
    }


def window_headline(summary: dict) -> str:
    """``barriers report``'s line: the window algorithms at window W+1, the window of W that ignores
    Bob's shift and the smaller windows, each with its 99% Wilson interval over W·d bits × trials
    (memory ratios are exact byte counts)."""
    from protocols.headline import percent

    points = summary.get("points") or []

    def shown(p):
        return percent(p["accuracy"], p["accuracy_low"], p["accuracy_high"])

    algorithms = [p for p in points if p.get("role") == "window algorithm"]
    shifted = [p for p in points if str(p.get("role", "")).startswith("window W")]
    smaller = sorted((p for p in points if p.get("role") == "smaller window"), key=lambda p: p["memory_ratio"])
    parts = []
    if algorithms:
        worst = min(algorithms, key=lambda p: p["accuracy"])
        families = sorted({p["family"] for p in algorithms})
        parts.append(f"at n = {summary.get('n')}, W = {summary.get('W')}, d = {summary.get('d')} the {len(algorithms)} "
                     f"window algorithms ({', '.join(families)}) decode at least {shown(worst)}")
    if shifted:
        parts.append(f"a window of W that ignores Bob's shift {shown(shifted[0])}")
    if smaller:
        import re

        def size(p):
            found = re.search(r"window=(\d+)", p.get("cache", ""))
            return f"window {found.group(1)}" if found else p["family"]

        parts.append("smaller windows: " + ", ".join(f"{size(p)} {shown(p)}" for p in smaller))
    if points:
        trials = sorted({p.get("trials") for p in points})
        parts[-1] += f" (99% Wilson over W·d bits × {'/'.join(map(str, trials))} instance(s))"
    return "; ".join(parts) or "see figure"


def window_memory_headline(summary: dict) -> str:
    """``barriers report``'s line: the smallest memory (exact byte counts) whose point reaches the
    target with its 99% Wilson lower bound, per n at fixed W and per W at fixed n, for the running sum."""
    from protocols.headline import percent

    points = summary.get("points") or []
    target = summary.get("target", 0.99)

    def smallest(sweep, key):
        out = []
        for value in sorted({p[key] for p in points if p.get("sweep") == sweep}):
            here = [p for p in points if p.get("sweep") == sweep and p[key] == value
                    and p.get("family") == "RunningSumWindowCache"]
            if here:
                out.append((value, min(here, key=lambda p: p["memory_bits"])))
        return out

    by_n, by_w = smallest("n", "n"), smallest("W", "W")
    parts = []
    if by_n:
        worst = min((p for _, p in by_n), key=lambda p: p["accuracy"])
        parts.append(f"at W = {summary.get('W_fixed')} the running sum uses "
                     + ", ".join(f"{p['memory_bits']:,} bits at n = {n}" for n, p in by_n)
                     + f" (exact) and decodes at least "
                     f"{percent(worst['accuracy'], worst['accuracy_low'], worst['accuracy_high'])}")
    if by_w:
        worst = min((p for _, p in by_w), key=lambda p: p["accuracy"])
        parts.append(f"at n = {summary.get('n_fixed')} its memory grows with W: "
                     + ", ".join(f"{p['memory_bits']:,} bits at W = {w}" for w, p in by_w)
                     + " (exact), decoding at least "
                     f"{percent(worst['accuracy'], worst['accuracy_low'], worst['accuracy_high'])}")
    low = [p for p in points if (p.get("accuracy_low") or 0.0) < target]
    parts.append(f"{len(low)} of {len(points)} points have a 99% Wilson lower bound below the "
                 f"{100 * target:g}% target (exact)")
    return "; ".join(parts)


EXPERIMENTS = [
    Experiment(
        "window", "HO Theorems 17/26", "thm17",
        "INDEX on W·d bits through sliding-window attention: accuracy vs memory/(W·d), and vs C",
        WINDOW_PRESETS, window_sweep, window_measure, window_summary, "plots.window:window_figure",
        headline="reductions.thm17:window_headline",
    ),
    Experiment(
        "window_memory", "HO Theorems 17/26", "thm17",
        "memory for 99% accuracy grows with W·d, not with n",
        MEMORY_PRESETS, window_memory_sweep, window_memory_measure, window_memory_summary,
        "plots.window:window_memory_figure", headline="reductions.thm17:window_memory_headline",
    ),
]
