"""HO Corollary 9 and Theorem 1: how many bits ``d`` dimensions carry, measured.

Corollary 9 (docs/theory.md §4) says that for ``d = o(log n)`` any ``(1±η)``-approximation needs
``Ω(d · e^d)`` bits; no proof is printed, and the intended argument runs Theorem 6's reduction with
only the ``n'`` nearly orthogonal keys ``d`` dimensions hold, so "``e^d``" means ``e^{Θ(d)}``. This
module measures the constant in the exponent.

1. **The reduction at bounded query norm** (:class:`BoundedNormReduction`). Alice streams ``n'``
   triples ``(0, k_l, x_{l,:})`` with keys from a codebook in the unit ball
   (:mod:`reductions.codes`); Bob queries ``q = r k_i / ||k_i||`` (so ``||q|| = r``, Theorem 15's
   regime) with a zero key and value. Bob knows the public keys, so he knows the softmax weights of
   his own query: ``w_i`` on the spike and ``R_i`` on the other stored keys. A bit ``x_ij = 0`` gives
   an output in ``[0, R_i]`` and ``x_ij = 1`` one in ``[w_i, w_i + R_i]``; under ``(1±η)`` these
   widen to ``[0, (1+η) R_i]`` and ``[(1-η) w_i, ...]``. Bob's threshold is the middle of that
   worst-case gap when it exists, and otherwise the middle of the typical case (other bits
   average ``R_i/2``): ``((1+η) R_i + (1-η) w_i)/2`` resp. ``(R_i + (1-η) w_i)/2``. Both are
   ``(w_i + R_i)/2`` at ``η = 0``. (The paper's decoder is the same with ``w_i, R_i`` replaced by
   their worst-case bounds, eqs. 13 and 15.)
2. **The worst (1±η)-approximation**: :class:`caches.adversary.AdversarialApproximation` with
   Bob's per-row threshold (:meth:`BoundedNormReduction.query_thresholds`): a coordinate whose
   allowed interval contains the threshold is output as the threshold itself (hidden from every
   decoder), any other at the end of its interval nearest the threshold. The capacity curve
   reports the flipped decoder's accuracy ``1 - accuracy`` beside Bob's: failing must mean
   chance, not inverted bits.
3. **Capacity** (:func:`capacity_search`): the largest ``n'`` on a geometric grid such that Bob
   decodes at least 99% of the ``n' d`` bits there and at every smaller grid point. Capacity is a
   property of the reduction (one query per row, a threshold per coordinate): exact real outputs
   carry unbounded information, so only this decoder makes "capacity" meaningful for exact caches.
4. **Limits.** With ``||q|| <= r`` and ``||k|| <= 1`` every score lies in ``[-r, r]``, so the
   worst-case gap needs ``n' < 1 + e^{2r}(1-η)/(1+η)`` whatever the codebook (certificate below):
   at a fixed ``r`` the reduction saturates, and an ``e^{Θ(d)}`` capacity needs ``r`` to grow with
   ``d``. The experiment therefore measures at ``r = r_per_d · d`` and shows fixed ``r`` beside it.
5. **Experiment** ``cor9``: ``ln n'`` against ``d`` for three codebooks, exact and ``(1±η)``, with
   the fitted slope ``c`` (``n' ≈ e^{c d}``), Lemma 3's promise, coherence against the Welch bound,
   and Theorem 1's lower bound ``(1 - H_2(0.01)) · d · min(n, n'(d))`` beside the measured memory
   of the exact, quantized and SubGen caches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.adversary import AdversarialApproximation
from caches.exact import ExactCache
from caches.params import ParameterError, check_choice, check_int, check_real
from caches.quantized import QuantizedCache
from caches.subgen import SubGenCache
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.fano import min_memory_ratio
from protocols.game import score, trial_input
from protocols.reduction import Reduction
from protocols.stats import line_fit
from reductions.certify import claim
from reductions.codes import (
    CODE_KINDS,
    coherence,
    lemma3_log_capacity,
    max_inner_product,
    public_code,
    welch_bound,
)
from reductions.monotone import exp_increasing, log_increasing
from reductions.tactics import Cited, Identity, Implies, eta_in_open_unit, ge, gt
from reductions.spike import SUCCESS_ACCURACY

__all__ = [
    "BoundedNormReduction",
    "capacity_search",
    "fit_exponent",
    "worst_case_cap",
    "unit_ball_stream",
    "run_cor9",
]

#: Memory a cache that decodes 99% of N bits must have, per bit (HO Theorem 5 / Fano): 1 - H_2(0.01).
FANO_99 = float(min_memory_ratio(SUCCESS_ACCURACY))


# --- 1. the reduction -------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundedNormReduction(Reduction):
    """HO Theorem 6's reduction with ``n`` codebook keys in ``R^d`` and queries of norm ``r``.

    ``codebook`` is one of :data:`reductions.codes.CODE_KINDS`; ``"packed"`` is optimised with
    repulsion sharpness ``β = 2r`` (the decoder's noise energy). ``eta`` is the ``(1±η)`` slack Bob's
    threshold allows for.
    """

    n: int
    d: int
    r: float
    eta: float = 0.0
    codebook: str = "packed"
    public_seed: int = 0

    def __post_init__(self) -> None:
        check_int("n", self.n, 1)
        check_int("d", self.d, 1)
        check_real("r", self.r, 0.0, low_open=True)
        check_real("eta", self.eta, 0.0, 1.0, high_open=True)
        check_choice("codebook", self.codebook, CODE_KINDS)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.d)

    @property
    def keys(self) -> np.ndarray:
        if self.n == 1:
            return np.eye(1, self.d)
        beta = 2.0 * self.r if self.codebook == "packed" else 0.0
        return public_code(self.codebook, self.n, self.d, self.public_seed, beta)

    @property
    def directions(self) -> np.ndarray:
        keys = self.keys
        return keys / np.linalg.norm(keys, axis=1, keepdims=True)

    def alice_stream(self, x):
        keys = self.keys
        return np.zeros_like(keys), keys, np.asarray(x, dtype=np.float64)

    def bob_queries(self, rows):
        queries = self.r * self.directions[np.asarray(rows)]
        return queries, np.zeros_like(queries), np.zeros_like(queries)

    def rows_of(self, Q) -> np.ndarray:
        """Which row a query ``r u_i`` asks for: ``argmax_l <q, u_l>`` over the key directions."""
        return np.argmax(np.asarray(Q, dtype=np.float64) @ self.directions.T, axis=1)

    def weights(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """``(w_i, R_i)``: softmax weight of Bob's query on key ``i`` and on the other stored keys."""
        rows = np.asarray(rows)
        scores = self.bob_queries(rows)[0] @ self.keys.T
        top = np.maximum(scores.max(axis=1), 0.0)  # Bob's own key is 0: score 0
        weights = np.exp(scores - top[:, None])
        total = weights.sum(axis=1) + np.exp(-top)
        spike = weights[np.arange(rows.size), rows] / total
        return spike, weights.sum(axis=1) / total - spike

    def thresholds(self, rows) -> np.ndarray:
        """Bob's threshold per row: middle of the worst-case gap, else of the typical case."""
        spike, rest = self.weights(rows)
        eta = self.eta
        gap = (1 + eta) * rest < (1 - eta) * spike
        return np.where(gap, 0.5 * ((1 + eta) * rest + (1 - eta) * spike), 0.5 * (rest + (1 - eta) * spike))

    def query_thresholds(self, Q) -> np.ndarray:
        """Bob's threshold for each query row of ``Q`` (the row it asks for, :meth:`rows_of`).

        What :class:`caches.adversary.AdversarialApproximation` aims at: the public rule, no state.
        """
        return self.thresholds(self.rows_of(Q))

    def decode(self, outputs, rows):
        return (np.asarray(outputs) > self.thresholds(rows)[:, None]).astype(np.uint8)


# --- 2. capacity ------------------------------------------------------------------------------


def capacity_grid(ratio: float, max_n: int) -> list[int]:
    """Distinct integers ``2, ceil(2·ratio), ...`` up to ``max_n``."""
    grid, value = [], 2.0
    while value <= max_n:
        n = math.ceil(value - 1e-9)
        if not grid or n > grid[-1]:
            grid.append(n)
        value *= ratio
    return grid


def game_accuracy(reduction: BoundedNormReduction, seed: int, trial: int, bob) -> tuple[float, BoundedNormReduction]:
    """Alice streams one instance into the exact cache; Bob decodes every row (through ``bob``).

    With ``eta > 0`` Bob sees the worst ``(1±η)`` approximation of the exact outputs.
    """
    reduction, x = trial_input(reduction, seed, trial)
    exact = ExactCache("float64")
    message = bob.alice(reduction, exact, x)
    cache = exact if reduction.eta == 0 else AdversarialApproximation(exact, reduction.eta, reduction)
    return score(bob, reduction, cache, message, x).accuracy, reduction


def capacity_search(d: int, r: float, eta: float, codebook: str, *, seed: int, bob, trials: int = 1,
                    grid_ratio: float = 1.15, max_n: int = 4096) -> dict:
    """Largest ``n'`` on :func:`capacity_grid` decoded at >= 99% there and at every smaller grid point.

    Returns ``{"capacity", "first_failure", "censored", "curve": [{"n", "accuracy", "coherence",
    "max_inner"}, ...]}``; ``censored`` means the search reached ``max_n`` without a failure.
    """
    capacity, failure, curve = 1, None, []
    for n in capacity_grid(grid_ratio, max_n):
        accuracies, shown = [], None
        for trial in range(trials):
            accuracy, reduction = game_accuracy(BoundedNormReduction(n, d, r, eta, codebook), seed, trial, bob)
            accuracies.append(accuracy)
            shown = shown or reduction
        accuracy = float(np.mean(accuracies))
        curve.append({"n": n, "accuracy": accuracy, "flipped_accuracy": 1.0 - accuracy,
                      "coherence": coherence(shown.keys), "max_inner": max_inner_product(shown.keys)})
        if accuracy < SUCCESS_ACCURACY:
            failure = n
            break
        capacity = n
    return {"capacity": capacity, "first_failure": failure, "censored": failure is None, "curve": curve}


def fit_exponent(ds, capacities, censored=None) -> dict | None:
    """Least-squares ``ln n' = c d + b`` over the uncensored points; ``None`` with fewer than 2."""
    censored = censored or [False] * len(ds)
    pts = [(d, math.log(n)) for d, n, cut in zip(ds, capacities, censored) if not cut and n >= 1]
    fit = line_fit([p[0] for p in pts], [p[1] for p in pts])
    if fit is None:
        return None
    return {"c": fit[0], "intercept": fit[1], "points": len(pts)}


def worst_case_cap(r: float, eta: float = 0.0) -> float:
    """``1 + e^{2r} (1-η)/(1+η)``: above it no codebook in the unit ball has a worst-case gap at ``||q|| <= r``."""
    return 1.0 + math.exp(min(2.0 * r, 700.0)) * (1 - eta) / (1 + eta)


# --- 3. certificates --------------------------------------------------------------------------




def _score_bound_certificates(r) -> list:
    """``||q||² <= r², ||k||² <= 1  =>  -r <= <q, k> <= r`` in ``R^d`` for symbolic ``d`` (from ``||q ∓ r k||² >= 0``)."""
    i = sp.Symbol("i", integer=True)
    d = sp.Symbol("d", integer=True, positive=True)
    q, k, y = sp.IndexedBase("q", real=True), sp.IndexedBase("k", real=True), sp.IndexedBase("y", real=True)
    Qn, Kn, P = (sp.Sum(e, (i, 1, d)) for e in (q[i] ** 2, k[i] ** 2, q[i] * k[i]))
    qq, kk, qk = sp.symbols("Qn Kn P", real=True)
    return [
        Identity(sp.Sum((q[i] - r * k[i]) ** 2, (i, 1, d)), Qn - 2 * r * P + r**2 * Kn,
                 note="||q - r k||² expanded, symbolic d"),
        Identity(sp.Sum((q[i] + r * k[i]) ** 2, (i, 1, d)), Qn + 2 * r * P + r**2 * Kn,
                 note="||q + r k||² expanded, symbolic d"),
        Implies(ge(sp.Sum(y[i] ** 2, (i, 1, d)), 0), note="a sum of real squares is >= 0 (y = q ∓ r k)"),
        Implies(sp.And(qk >= -r, qk <= r),
                [qq <= r**2, kk <= 1, kk >= 0, qq - 2 * r * qk + r**2 * kk >= 0, qq + 2 * r * qk + r**2 * kk >= 0],
                where={qq: "||q||^2", kk: "||k||^2", qk: "<q, k>"}, engine="z3",
                note="every score <q, k> lies in [-r, r]"),
    ]


@claim(
    name="bounded query norm caps the reduction",
    source="HO Corollary 9 / Theorem 15 regime (suite's own)",
    statement="If ||q|| <= r (r > 0) and every key has norm <= 1 (any d), every score <q, k_l> lies in [-r, r]; "
    "so the worst-case gap (1+η)R_i < (1-η)w_i (η in [0, 1)) of the reduction with n' >= 1 stored keys (and "
    "Bob's zero key) implies n' < 1 + e^{2r}(1-η)/(1+η), whatever the keys.",
    relied_on=True,
)
def _check_cap():
    r = sp.Symbol("r", positive=True)
    s = sp.Symbol("s", real=True)
    l = sp.Symbol("l", integer=True)
    m = sp.Symbol("m", integer=True, nonnegative=True)  # n' - 1 other stored keys
    mp = sp.Symbol("m", integer=True, positive=True)
    w = sp.IndexedBase("w", nonnegative=True)  # e^{s_l} = e^{-r}(1 + w_l), w_l = e^{s_l + r} - 1 >= 0
    rho, Z = sp.symbols("rho Z", positive=True)
    eta, wi, SW, W, R, spike, rest = sp.symbols("eta u_i SW W R spike rest", real=True)
    n = m + 1
    return [
        *_score_bound_certificates(r),
        *exp_increasing(),
        Identity(sp.exp(-r) * (1 + (sp.exp(s + r) - 1)), sp.exp(s),
                 note="a score s >= -r has weight e^s = e^{-r}(1 + w), w = e^{s+r} - 1 >= 0 (exp lemma)"),
        Identity(sp.exp(r) / (1 + (sp.exp(r - s) - 1)), sp.exp(s),
                 note="the spike's score s <= r has weight e^s = e^r/(1 + u_i), u_i = e^{r-s} - 1 >= 0 (exp lemma)"),
        Identity(sp.Sum(sp.exp(-r) * (1 + w[l]), (l, 1, m)), (m + sp.Sum(w[l], (l, 1, m))) * sp.exp(-r),
                 note="the other n' - 1 weights sum to e^{-r}(n' - 1 + Σ w_l)"),
        Implies(ge(sp.Sum(w[l], (l, 1, mp)), 0), note="Σ w_l >= 0 for m = n' - 1 >= 1 terms"),
        Identity(sp.Sum(w[l], (l, 1, 0)), 0, note="and the empty sum is 0 (n' = 1)"),
        Identity(sp.exp(-r) * sp.exp(r), 1, note="e^{-r} = 1/rho with rho = e^r"),
        Implies(n < 1 + rho**2 * (1 - eta) / (1 + eta),
                [sp.Eq(W * (1 + wi), rho), wi >= 0, sp.Eq(R * rho, m + SW), SW >= 0, sp.Eq(spike * Z, W),
                 sp.Eq(rest * Z, R), (1 + eta) * rest < (1 - eta) * spike, eta >= 0, eta < 1],
                where={rho: sp.exp(r), W: "e^{<q,k_i>}", R: "Σ_{l≠i} e^{<q,k_l>}", SW: "Σ_{l≠i} w_l",
                       Z: "softmax normaliser (Bob's zero key included)", spike: "w_i", rest: "R_i"},
                engine="z3", note="(1+η)(n'-1)e^{-r} <= (1+η)R < (1-η)W <= (1-η)e^r"),
    ]


@claim(
    name="Corollary 9: Omega(d e^{cd}) bits from Lemma 3 and Theorem 8",
    source="HO Corollary 9 (docs/theory.md §4)",
    statement="For ε in (0, 1), c = (ε² - ε³)/12 > 0. Lemma 3's printed requirement d >= 12 ln n'/(ε² - ε³) "
    "holds iff ln n' <= c d, and the corrected d >= 4 ln(4 n'^3)/(ε² - ε³) iff ln n' <= c d - (ln 4)/3; so when "
    "x = e^{cd}/4^{1/3} >= 1, n' = floor(x) >= x/2 keys are admissible and n' d >= d e^{cd}/(2·4^{1/3}). "
    "Cited: Lemma 3 gives such keys, Theorem 8's reduction (ε in (0, 1/2), n >= n') makes any (1±η)-"
    "approximation carry those n' d bits of INDEX, Theorem 5 makes that cost Ω(n' d) = Ω(d e^{cd}) bits.",
    relied_on=True,
)
def _check_cor9_bound():
    u, eps = eta_in_open_unit()
    epsilon = sp.Symbol("epsilon")
    g, L, L4, x, f, c = sp.symbols("g L L4 x f c", real=True)
    d = sp.Symbol("d", positive=True)
    N = sp.Symbol("N", positive=True)
    cp, dp = sp.symbols("c d", positive=True)
    printed, corrected = d >= 12 * L / g, d >= 4 * (L4 + 3 * L) / g
    lemma = {g: epsilon**2 - epsilon**3, L: sp.log(sp.Symbol("n'")), L4: sp.log(4)}
    return [
        Implies(gt((eps**2 - eps**3) / 12, 0), where={epsilon: eps}, note="c > 0 on (0, 1)"),
        Implies(L <= g * d / 12, [printed, g > 0], where=lemma, engine="z3", note="printed requirement => ln n' <= cd"),
        Implies(printed, [L <= g * d / 12, g > 0], where=lemma, engine="z3", note="ln n' <= cd => printed requirement"),
        Identity(sp.log(4 * N**3), sp.log(4) + 3 * sp.log(N), note="ln(4 n'^3) = ln 4 + 3 ln n' (N = n')"),
        Implies(L <= g * d / 12 - L4 / 3, [corrected, g > 0], where=lemma, engine="z3",
                note="corrected requirement => ln n' <= cd - ln(4)/3"),
        Implies(corrected, [L <= g * d / 12 - L4 / 3, g > 0], where=lemma, engine="z3",
                note="ln n' <= cd - ln(4)/3 => corrected requirement"),
        Identity(sp.log(sp.exp(cp * dp) / 4 ** sp.Rational(1, 3)), cp * dp - sp.log(4) / 3,
                 note="ln x = cd - ln(4)/3, so x itself meets the corrected requirement"),
        *log_increasing(),
        Implies(sp.And(f >= x / 2, f * d >= x * d / 2), [x >= 1, f <= x, x < f + 1, f >= 1],
                where={x: sp.exp(c * d) / 4 ** sp.Rational(1, 3), f: "floor(x) (an integer > x - 1 >= 0, so >= 1)"},
                engine="z3", note="floor(x) >= x/2 for x >= 1; floor(x) <= x keeps ln n' <= ln x (log lemma)"),
        Cited("Lemma 3 (constant 4 kept, docs/theory.md §2): if d >= 4 ln(4 n'^3)/(ε² - ε³), n' JL keys in R^d "
              "have all pairwise inner products within ±ε and squared norms within 1 ± ε", "HO Lemma 3 / Lemma 22"),
        Cited("Theorem 8's reduction on n' such keys (ε in (0, 1/2), query norm C > [ln n' + ln((1+η)/(1-η))]/"
              "(1-2ε)) lets Bob read every one of the n' d bits from any (1±η)-approximation", "HO Theorem 8"),
        Cited("one-way INDEX on N bits needs Ω(N) bits of message", "HO Theorem 5"),
    ]


# --- 4. experiment ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cor9Config(ExperimentConfig):
    """Experiment ``cor9``: capacity n'(d) and Theorem 1's bound beside caches (quick preset = the defaults)."""

    d_values: list = param([2, 4, 6, 8, 10, 12], low=2, high=64, doc="dimensions d of the capacity search")
    r_per_d: float = param(0.5, low=0.0, high=8.0, low_open=True, doc="query-norm bound r / d")
    etas: list = param([0.1], low=0.0, high=1.0, low_open=True, high_open=True,
                       doc="approximation factors η (η = 0 is always run)")
    codebooks: list = param(["gaussian", "random", "packed"], choices=CODE_KINDS, doc="codebooks compared")
    r_fixed: list = param([2.0], low=0.0, high=20.0, low_open=True, doc="fixed query-norm bounds r")
    trials: int = param(1, low=1, doc="games per capacity probe")
    grid_ratio: float = param(1.25, low=1.0, high=4.0, low_open=True, doc="ratio between probed n'")
    max_n: int = param(1024, low=2, high=8192, doc="largest n' probed (the packed codebook holds two n x n matrices)")
    coherence_d: int = param(8, low=1, high=64, doc="dimension of the coherence measurement")
    coherence_n: list = param([16, 32, 64, 128, 256], low=2, high=1 << 14, doc="codebook sizes of the coherence measurement")
    theorem1_d: list = param([2, 4], low=1, high=64, doc="dimensions of Theorem 1's bound vs caches")
    theorem1_log2_n: list = param([1, 2, 3, 4, 6, 8, 10, 12, 14], low=1, high=20, doc="log2 n of the memory curves")
    subgen: dict = param({"delta": 0.5, "t": 8, "s": 32}, doc="SubGen cache parameters {delta, t, s}")

    def check(self) -> None:
        sub = self.subgen
        if set(sub) != {"delta", "t", "s"}:
            raise ParameterError(f"subgen must be an object with keys delta, t, s, got {sub!r}")
        try:
            SubGenCache(sub["delta"], sub["t"], sub["s"])  # validates
        except ParameterError as error:
            raise ParameterError(f"subgen.{error}") from None


COR9_PRESETS = {
    "quick": Cor9Config(),
    "paper": Cor9Config(
        d_values=[2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24], r_fixed=[2.0, 3.0], trials=2, grid_ratio=1.15,
        max_n=4096, coherence_n=[16, 32, 64, 128, 256, 512, 1024], theorem1_d=[2, 3, 4, 5],
        theorem1_log2_n=[1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16]),
}


def cor9_steps(config: dict) -> int:
    regimes = 1 + len(config["etas"])
    return len(config["d_values"]) * (len(config["codebooks"]) * regimes + len(config["r_fixed"])) + 2


def unit_ball_stream(n: int, d: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """``n`` keys uniform in the unit ball of ``R^d`` and standard Gaussian values, from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    keys = rng.standard_normal((n, d))
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    keys *= rng.random((n, 1)) ** (1.0 / d)
    return keys, rng.standard_normal((n, d))


def _memory_curve(make, ns: list[int], d: int, seed) -> list[int]:
    """Memory in bits of a fresh ``make()`` after each prefix length in ``ns`` of one unit-ball stream."""
    keys, values = unit_ball_stream(max(ns), d, seed)
    cache, done, out = make(), 0, []
    for n in ns:
        cache.extend(np.zeros((n - done, d)), keys[done:n], values[done:n])
        done = n
        out.append(cache.memory_bits)
    return out


def run_cor9(config: dict, seed: int, bob, progress=None) -> dict:
    """Capacity of ``d`` dimensions (HO Corollary 9) and Theorem 1's lower bound beside real caches."""
    tick = progress or (lambda _k: None)
    search = dict(seed=seed, bob=bob, trials=config["trials"], grid_ratio=config["grid_ratio"],
                  max_n=config["max_n"])
    regimes = [0.0, *config["etas"]]
    rho = config["r_per_d"]
    points, trials, series = [], [], []
    for codebook in config["codebooks"]:
        for eta in regimes:
            rows = []
            for d in config["d_values"]:
                r = rho * d
                found = capacity_search(d, r, eta, codebook, **search)
                rows.append(_capacity_row(d, r, eta, codebook, found, config["trials"]))
                trials.extend({"codebook": codebook, "eta": eta, "d": d, "r": r, **step} for step in found["curve"])
                tick(1)
            series.append(_series(codebook, eta, "r_per_d", rho, rows))
            points.extend(rows)
    fixed = []
    best_kind = "packed" if "packed" in config["codebooks"] else config["codebooks"][-1]
    for r in config["r_fixed"]:
        rows = []
        for d in config["d_values"]:
            found = capacity_search(d, r, 0.0, best_kind, **search)
            rows.append(_capacity_row(d, r, 0.0, best_kind, found, config["trials"]))
            tick(1)
        fixed.append({**_series(best_kind, 0.0, "r_fixed", r, rows), "worst_case_cap": worst_case_cap(r)})
    coherence_panel = _coherence_panel(config, seed)
    tick(1)
    theorem1 = _theorem1(config, series, seed)
    tick(1)
    lemma3 = {
        "d": config["d_values"],
        "log_n_printed": [lemma3_log_capacity(d, rho * d, "printed") for d in config["d_values"]],
        "log_n_corrected": [lemma3_log_capacity(d, rho * d, "corrected") for d in config["d_values"]],
    }
    lemma3_c = _lemma3_slope(config["d_values"], lemma3["log_n_printed"])
    for s in series:
        s["lemma3_ratio"] = None if s["fit"] is None or not lemma3_c else s["fit"]["c"] / lemma3_c
    summary = {
        "experiment": "cor9",
        "r_per_d": rho,
        "d_values": config["d_values"],
        "etas": regimes,
        "codebooks": config["codebooks"],
        "success_accuracy": SUCCESS_ACCURACY,
        "series": series,
        "fixed_r": fixed,
        "lemma3": {**lemma3, "c": lemma3_c},
        "worst_case_cap": {"d": config["d_values"],
                           "log_n": [math.log(worst_case_cap(rho * d)) for d in config["d_values"]]},
        "coherence": coherence_panel,
        "theorem1": theorem1,
        "points": points,
    }
    return {"summary": summary, "trials": trials}


def _capacity_row(d, r, eta, codebook, found, trials: int) -> dict:
    n = found["capacity"]
    last = next((c for c in found["curve"] if c["n"] == n), None)
    return {
        "cache": "ExactCache(dtype='float64')" if eta == 0 else "AdversarialApproximation(ExactCache)",
        "family": "ExactCache" if eta == 0 else "AdversarialApproximation",
        "codebook": codebook, "eta": eta, "d": d, "r": r,
        "capacity": n, "log_capacity": math.log(n), "censored": found["censored"],
        "first_failure": found["first_failure"],
        "coherence": None if last is None else last["coherence"],
        "max_inner": None if last is None else last["max_inner"],
        "welch": welch_bound(n, d) if n >= 2 else None,
        "lemma3_log_n": lemma3_log_capacity(d, r),
        # the INDEX game at capacity: n' d bits decoded at >= 99% from a float64 exact cache
        "memory_bits": 8 * (9 + 2 * 8 * n * d), "bits_encoded": n * d,
        "memory_ratio": (8 * (9 + 2 * 8 * n * d)) / (n * d),
        "accuracy": None if last is None else last["accuracy"],
        "flipped_accuracy": None if last is None else last["flipped_accuracy"],
        "trials": trials,
        "fano_max_accuracy": 1.0,
        "lower_bound_bits": FANO_99 * n * d,
    }


def _series(codebook, eta, mode, value, rows) -> dict:
    fit = fit_exponent([r["d"] for r in rows], [r["capacity"] for r in rows], [r["censored"] for r in rows])
    return {"codebook": codebook, "eta": eta, "mode": mode, "r_value": value,
            "d": [r["d"] for r in rows], "capacity": [r["capacity"] for r in rows],
            "censored": [r["censored"] for r in rows],
            "coherence": [r["coherence"] for r in rows], "welch": [r["welch"] for r in rows],
            "fit": fit}


def _lemma3_slope(ds, log_ns) -> float | None:
    pairs = [(d, v) for d, v in zip(ds, log_ns) if d > 0]
    if not pairs:
        return None
    return float(np.mean([v / d for d, v in pairs]))


def _coherence_panel(config: dict, seed: int) -> dict:
    """Signed maximum inner product and coherence of each codebook's directions at one ``d``.

    ``"gaussian"`` and ``"random"`` share their directions (the same Gaussian rows, scaled vs
    normalised), so their values coincide.
    """
    d = config["coherence_d"]
    r = config["r_per_d"] * d
    ns = [n for n in config["coherence_n"] if n >= 2]
    signed, absolute = {}, {}
    for kind in config["codebooks"]:
        beta = 2.0 * r if kind == "packed" else 0.0
        codes = [public_code(kind, n, d, int(np.random.default_rng([seed, n, d]).integers(2**31)), beta) for n in ns]
        signed[kind] = [max_inner_product(keys) for keys in codes]
        absolute[kind] = [coherence(keys) for keys in codes]
    return {"d": d, "n": ns, "max_inner": signed, "coherence": absolute, "welch": [welch_bound(n, d) for n in ns]}


def _theorem1(config: dict, series: list[dict], seed: int) -> dict:
    """Theorem 1's ``d · min(n, e^{cd})`` with the measured ``c``, beside measured cache memory."""
    approximate = [s for s in series if s["eta"] > 0 and s["fit"] is not None] or [s for s in series if s["fit"]]
    best = max(approximate, key=lambda s: s["fit"]["c"], default=None)
    ns = [2**v for v in config["theorem1_log2_n"]]
    sub = config["subgen"]
    curves = []
    for d in config["theorem1_d"]:
        log_cap = None if best is None else best["fit"]["c"] * d + best["fit"]["intercept"]
        cap = None if log_cap is None else max(1.0, math.exp(log_cap))
        curves.append({
            "d": d,
            "n": ns,
            "capacity": cap,
            "lower_bound_bits": [None if cap is None else FANO_99 * d * min(n, cap) for n in ns],
            "exact_bits": _memory_curve(lambda: ExactCache("float32"), ns, d, [seed, d, 1]),
            "quantized_bits": _memory_curve(lambda: QuantizedCache(bits=2), ns, d, [seed, d, 1]),
            "subgen_bits": _memory_curve(lambda: SubGenCache(sub["delta"], sub["t"], sub["s"], seed),
                                         ns, d, [seed, d, 1]),
        })
    return {
        "c": None if best is None else best["fit"]["c"],
        "intercept": None if best is None else best["fit"]["intercept"],
        "from": None if best is None else {"codebook": best["codebook"], "eta": best["eta"]},
        "fano_factor": FANO_99,
        "subgen": sub,
        "curves": curves,
    }


def cor9_headline(summary: dict) -> str:
    """``barriers report``'s line: the fitted capacity exponent c (n′ ≈ e^{cd}) per codebook at
    ‖q‖ = d/2 with its 99% bootstrap interval over the d grid (each capacity is one search on one
    drawn codebook), the largest capacity (single draw), Lemma 3's c (exact) and the fixed-‖q‖ series
    against the proved cap 1 + e^{2r} (exact)."""
    from fractions import Fraction

    from protocols.headline import exact, fitted_slope

    def c_of(series):  # the points fit_exponent uses: ln n' against d, censored ones left out
        censored = series.get("censored") or [False] * len(series["d"])
        rows = [(d, math.log(n)) for d, n, cut in zip(series["d"], series["capacity"], censored) if not cut and n >= 1]
        return fitted_slope([d for d, _ in rows], [v for _, v in rows], log=False)

    parts = []
    exact_series = [s for s in summary.get("series") or [] if not s.get("eta")]
    if exact_series:
        best = max(exact_series, key=lambda s: max(s["capacity"]))
        top = max(best["capacity"])
        r_per_d = Fraction(summary.get("r_per_d", 0.5)).limit_denominator(100)
        parts.append(f"at ‖q‖ = d·{r_per_d}, η = 0, n′ ≈ e^(cd) with c = "
                     + ", ".join(f"{c_of(s)} ({s['codebook']})" for s in exact_series)
                     + f" (99% bootstrap over d); largest n′ = {top} at d = {best['d'][best['capacity'].index(top)]} "
                     f"({best['codebook']}, single draw)")
    lemma3 = (summary.get("lemma3") or {}).get("c")
    if lemma3 is not None:
        parts.append(f"Lemma 3 promises c = {exact(lemma3, 3)}")
    for s in summary.get("fixed_r") or []:
        parts.append(f"at fixed ‖q‖ = {s['r_value']:g} the {s['codebook']} code holds "
                     f"{min(s['capacity'])}–{max(s['capacity'])} keys "
                     f"for d = {min(s['d'])}..{max(s['d'])} (single draw each), under the proved cap 1 + e^(2r) = "
                     f"{exact(s['worst_case_cap'], 1)}")
    return "; ".join(parts) or "see figure"


EXPERIMENTS = [
    Experiment(
        "cor9", "HO Corollary 9, Theorem 1", "cor9",
        "capacity n'(d) of the reduction at ||q|| <= r per codebook, fitted e^{cd}, Theorem 1's bound vs caches",
        COR9_PRESETS, run_cor9, cor9_steps, "plots.lowdim:cor9_figure", headline="reductions.cor9:cor9_headline",
    ),
]
