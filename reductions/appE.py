"""HO Appendix E and Algorithm 2: lazy Gumbel sampling, and attention in ``O(sqrt(n))`` memory at d = 1.

Read beside the paper (docs/theory.md §4, "The case d = 1" and "Algorithm 2"):

1. **Gumbel-max.** ``argmax_l (Z_l + G_l)`` with i.i.d. standard Gumbels is a sample of
   ``softmax(Z)`` (HO eq. 42; certificate below).
2. **Algorithm 2** (:mod:`caches.lazy_gumbel`). Only the top-``k`` Gumbels and the tail Gumbels
   above the cutoff ``B = M - S_min`` are drawn; their number is ``Binomial(n - k, 1 - exp(-e^{-B}))``
   and each is a Gumbel conditioned on ``> B`` (certificates: tail count, truncated Gumbel, the
   cutoff argument). ``E|T| <= (n - k)/k`` (certificate), so a sample reads ``O(k + n/k)`` scores.
3. **d = 1** (:class:`caches.scalar.ScalarGumbelCache`). The top scores of a scalar query are the
   largest or the smallest keys, so the top and bottom ``sqrt(t)`` keys and a uniform reservoir
   make Algorithm 2 work in ``O(sqrt(n))`` memory; the estimate is unbiased and boosted by median
   of means. HO Theorem 1 asks ``Ω(d·min{n, e^d}) = Ω(1)`` bits at ``d = 1``: no contradiction.

Experiments (``make appE``):

* ``gumbel``: exactness of Algorithm 2 against the softmax (chi-square, fixed seed, false-alarm
  rate ``alpha``; a test with fewer than 2 cells of expected count ``>= 5`` is reported "not
  testable", never as a pass), the measured ``E|T|`` against the ``n/k`` bound, and score reads per
  sample vs ``n`` at ``k = sqrt(n)`` (fitted slope).
* ``scalar``: the d = 1 cache's memory vs ``n`` (fitted slope), its error and bias, median-of-means
  tails, and the INDEX game at ``d = 1`` (Theorem 6's reduction with scalar keys) beside the exact
  cache and the Fano frontier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from caches.attention import softmax
from caches.codec import HEADER_BYTES
from caches.exact import ExactCache
from caches.lazy_gumbel import sample_softmax
from caches.params import ParameterError
from caches.scalar import ScalarGumbelCache
from caches.spec import build
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows
from protocols.stats import fit_slope
from reductions.certify import claim
from reductions.tactics import Identity, Implies, ge, gt, le, lt
from reductions.thm6 import ExactOutputReduction

# --- statistics ----------------------------------------------------------------------------------


def chi_square_pvalue(statistic: float, dof: int) -> float:
    """Upper tail ``P(chi^2_dof >= statistic)`` (regularized incomplete gamma, mpmath)."""
    if dof < 1:
        raise ParameterError(f"dof must be >= 1, got {dof}")
    return float(mpmath.gammainc(dof / 2.0, statistic / 2.0, mpmath.inf, regularized=True))


def chi_square_test(counts: np.ndarray, probabilities: np.ndarray, min_expected: float = 5.0) -> dict:
    """Pearson's goodness-of-fit test of ``counts`` against ``probabilities``.

    Cells with expected count below ``min_expected`` are pooled into one cell, which is folded into
    the smallest kept cell if its own expected count is below ``min_expected`` too: every cell
    tested has expected count ``>= min_expected``, the usual validity condition for the chi-square
    approximation. With fewer than 2 such cells (one cell holds almost all the probability, or too
    few draws) there is nothing to test: ``testable`` is ``False`` and ``statistic``/``p_value`` are
    ``None``, never a vacuous ``p = 1``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(probabilities, dtype=np.float64) * counts.sum()
    keep = expected >= min_expected
    observed, wanted = counts[keep], expected[keep]
    pool_observed, pool_wanted = counts[~keep].sum(), expected[~keep].sum()
    if pool_wanted >= min_expected:
        observed, wanted = np.r_[observed, pool_observed], np.r_[wanted, pool_wanted]
    elif observed.size:  # pool too small: fold it into the smallest kept cell
        smallest = int(np.argmin(wanted))
        observed[smallest] += pool_observed
        wanted[smallest] += pool_wanted
    if observed.size < 2:
        return {"statistic": None, "dof": 0, "p_value": None, "cells": int(observed.size), "testable": False}
    statistic = float(np.sum((observed - wanted) ** 2 / wanted))
    dof = observed.size - 1
    return {"statistic": statistic, "dof": dof, "p_value": chi_square_pvalue(statistic, dof),
            "cells": int(observed.size), "testable": True}


def chi_square_status(test: dict, alpha: float) -> str:
    """``"passed"`` (``p >= alpha``), ``"failed"``, or ``"not testable"`` (fewer than 2 cells)."""
    if not test["testable"]:
        return "not testable"
    return "passed" if test["p_value"] >= alpha else "failed"


# --- certificates --------------------------------------------------------------------------------
# Each check builds its goals as reductions.tactics certificates; the runner re-verifies them.
# Integrals over R are certified by an antiderivative (its derivative is an Identity) and its two
# limits at ±∞ (Identities of sympy Limits); "f' > 0 on an interval, so f is increasing" is the
# mean value theorem applied to a certified derivative sign.

_x = sp.Symbol("x", real=True)


def _gumbel_cdf(t):
    """The standard Gumbel CDF ``F(t) = exp(-e^{-t})``."""
    return sp.exp(-sp.exp(-t))


def _gumbel_density(t):
    """The standard Gumbel density ``f(t) = exp(-t - e^{-t})``."""
    return sp.exp(-t - sp.exp(-t))






def _integral_over_R(antiderivative, integrand, value, note: str) -> list:
    """``∫_R integrand dx = value``: ``G' = integrand``, ``G(+∞) = value``, ``G(-∞) = 0``."""
    return [
        Identity(sp.diff(antiderivative, _x), integrand, note=f"{note}: G' is the integrand"),
        Identity(sp.Limit(antiderivative, _x, sp.oo), value, note=f"{note}: G(+oo)"),
        Identity(sp.Limit(antiderivative, _x, -sp.oo), 0, note=f"{note}: G(-oo) = 0"),
    ]


@claim(
    name="Gumbel-max identity",
    source="HO eq. 42, Algorithm 2 (LG)",
    statement="for real scores Z_1..Z_n (n >= 2) and i.i.d. G_l ~ Gumbel(0,1) (CDF F(t) = exp(-e^{-t}), density "
    "f = F'): P(argmax_l (Z_l + G_l) = j) = ∫_R f(x - Z_j) Π_{l≠j} F(x - Z_l) dx (independence, no ties a.s.) "
    "= e^{Z_j} / Σ_l e^{Z_l}. Proved: f = F'; Π_{l≠j} F(x - Z_l) = exp(-e^{-x} S) with S = Σ_{l≠j} e^{Z_l} "
    "(induction on the number of factors); the integral by an antiderivative and its limits",
    relied_on=True,
)
def _check_gumbel_max():
    z, z_new = sp.symbols("z z_new", real=True)  # Z_j, and the score of the factor added in the induction step
    S = sp.Symbol("S", positive=True)  # Σ_{l≠j} e^{Z_l} (or, in the induction, of the factors so far)
    C = sp.exp(z) + S  # Σ_l e^{Z_l}
    antiderivative = sp.exp(z) / C * sp.exp(-C * sp.exp(-_x))
    integrand = _gumbel_density(_x - z) * sp.exp(-sp.exp(-_x) * S)
    return [
        Identity(sp.diff(_gumbel_cdf(_x), _x), _gumbel_density(_x), note="f = F'"),
        Identity(_gumbel_cdf(_x - z_new), sp.exp(-sp.exp(-_x) * sp.exp(z_new)),
                 note="induction base: one factor F(x - Z) = exp(-e^{-x} e^{Z})"),
        Identity(sp.exp(-sp.exp(-_x) * S) * _gumbel_cdf(_x - z_new), sp.exp(-sp.exp(-_x) * (S + sp.exp(z_new))),
                 note="induction step: exp(-e^{-x} S) F(x - Z) = exp(-e^{-x} (S + e^{Z}))"),
        *_integral_over_R(antiderivative, integrand, sp.exp(z) / (sp.exp(z) + S),
                          "∫ f(x - Z_j) exp(-e^{-x} S) dx = e^{Z_j}/(e^{Z_j} + S)"),
    ]


@claim(
    name="Algorithm 2 tail count and truncated Gumbel",
    source="HO Algorithm 2, steps 3-4",
    statement="for every real B: G = -log(-log U) with U ~ Unif(0,1) has CDF F(x) = exp(-e^{-x}) (the map is "
    "increasing on (0,1) with inverse F), so P(G > B) = 1 - exp(-e^{-B}) > 0 and the number of the n-k i.i.d. "
    "tail Gumbels above B is Binomial(n-k, 1 - exp(-e^{-B})); -log(-log U) with U ~ Unif[exp(-e^{-B}), 1] has "
    "CDF (F(x) - F(B))/(1 - F(B)) on x >= B, the law of G | G > B (same CDF, same density f/(1 - F(B))); and an "
    "undrawn tail score (Z_l <= S_min, G_l <= B = M - S_min) has Z_l + G_l <= M, so cannot win",
    relied_on=True,
)
def _check_tail_law():
    B = sp.Symbol("B", real=True)
    w = sp.Symbol("w", positive=True)  # U = 1/(1+w) covers exactly U in (0, 1); also w = e^{-B} below
    U = 1 / (1 + w)
    uu = sp.Symbol("U", positive=True)

    def phi(t):  # Algorithm 2's transform, unevaluated so the goal shows it
        return -sp.log(-sp.log(t, evaluate=False), evaluate=False)

    F = _gumbel_cdf
    g = 1 - sp.exp(-w)  # 1 - F(B) with w = e^{-B} > 0
    conditional = (F(_x) - F(B)) / (1 - F(B))
    z, g_l, s_min, M = sp.symbols("Z_l G_l S_min M", real=True)
    return [
        Identity(phi(F(_x)), _x, note="phi(F(x)) = x for every real x"),
        Identity(sp.exp(-sp.exp(-phi(U), evaluate=False), evaluate=False), U, where={uu: U},
                 note="F(phi(U)) = U for every U in (0, 1)"),
        Implies(gt(sp.diff(phi(uu), uu).subs(uu, U), 0), where={uu: U},
                note="phi' = -1/(U log U) > 0 on (0, 1): phi is increasing, so phi(U) <= x iff U <= F(x)"),
        Implies(gt(sp.diff(F(_x), _x), 0), note="F' > 0: F is increasing"),
        Identity(1 - sp.Subs(F(_x), _x, B), 1 - sp.exp(-sp.exp(-B)),
                 note="P(G > B) = 1 - P(U <= F(B)) = 1 - exp(-e^{-B})"),
        Identity(sp.Subs(g, w, sp.exp(-B)), 1 - F(B), note="1 - F(B) = g(w) := 1 - e^{-w} at w = e^{-B} > 0"),
        Identity(sp.Subs(g, w, 0), 0, note="g(0) = 0"),
        Implies(gt(sp.diff(g, w), 0), note="g' > 0, so g > 0 on w > 0: 1 - F(B) > 0 for every real B"),
        Identity(sp.Subs(conditional, _x, B), 0, note="the conditional CDF starts at 0 at x = B"),
        Identity(sp.Limit(conditional, _x, sp.oo), 1, note="and tends to 1"),
        Identity(sp.diff(conditional, _x), _gumbel_density(_x) / (1 - F(B)),
                 note="its density is f(x)/P(G > B), the density of G given G > B"),
        Implies(le(z + g_l, M), [le(z, s_min), le(g_l, B), sp.Eq(B, M - s_min)], engine="z3",
                note="undrawn tail scores cannot beat M"),
    ]


@claim(
    name="Algorithm 2 expected tail size",
    source="HO Appendix E.1, LG",
    statement="E|T| <= (n - k)/k < n/k for every k in [1, n), with equality (n-k)/(k+1) when all scores are equal. "
    "Proved: B >= X = max_{l in S} G_l (X has CDF F^k); 1 - exp(-e^{-B}) <= e^{-B} <= e^{-X}; E[e^{-X}] = 1/k; "
    "flat scores give B = X and E[1 - exp(-e^{-X})] = 1/(k+1); E|T| = (n-k) E[1 - exp(-e^{-B})]",
    relied_on=True,
)
def _check_tail_size():
    k, n = sp.symbols("k n", positive=True)
    w = sp.Symbol("w", nonnegative=True)
    b = sp.Symbol("b", real=True)
    z, g_l, s_min, M, B = sp.symbols("Z_l G_l S_min M B", real=True)
    cdf_max = sp.exp(-k * sp.exp(-_x))
    h = w - 1 + sp.exp(-w)  # h >= 0 is 1 - e^{-w} <= w
    mean_exp = (sp.exp(-_x) + 1 / k) * sp.exp(-k * sp.exp(-_x))
    flat = sp.exp(-k * sp.exp(-_x)) - k / (k + 1) * sp.exp(-(k + 1) * sp.exp(-_x))
    return [
        Implies(ge(B, g_l), [ge(M, z + g_l), ge(z, s_min), sp.Eq(B, M - s_min)], engine="z3",
                note="every top-k Gumbel is <= B, so B >= X"),
        Identity(sp.Pow(_gumbel_cdf(_x), k, evaluate=False), cdf_max, note="X, the max of k i.i.d. Gumbels, has CDF F^k = exp(-k e^{-x})"),
        Identity(sp.Subs(h, w, 0), 0, note="h(w) = w - 1 + e^{-w}: h(0) = 0"),
        Identity(sp.Subs(sp.diff(h, w), w, 0), 0, note="h'(0) = 0"),
        Implies(gt(sp.diff(h, w, 2), 0), note="h'' = e^{-w} > 0, so h' >= 0 and h >= 0 on w >= 0: 1 - e^{-w} <= w"),
        Implies(lt(sp.diff(sp.exp(-b), b), 0), note="e^{-b} decreases, so B >= X gives e^{-B} <= e^{-X}"),
        *_integral_over_R(mean_exp, sp.exp(-_x) * sp.diff(cdf_max, _x), 1 / k, "E[e^{-X}] = 1/k"),
        *_integral_over_R(flat, (1 - _gumbel_cdf(_x)) * sp.diff(cdf_max, _x), 1 / (k + 1),
                          "flat scores: E[1 - exp(-e^{-X})] = 1/(k+1)"),
        Implies(lt((n - k) / k, n / k), note="(n - k)/k < n/k"),
    ]


@claim(
    name="k + n/k is smallest at k = sqrt(n)",
    source="HO Appendix E.1, kNN §3",
    statement="for n > 0: k + n/k >= 2 sqrt(n) for every k > 0, with equality exactly at k = sqrt(n)",
    relied_on=True,
)
def _check_balance():
    k, m = sp.symbols("k m", positive=True)  # m = sqrt(n)
    n = sp.Symbol("n", positive=True)
    cost = k + m**2 / k
    return [
        Identity(cost - 2 * m, (k - m) ** 2 / k, where={m: sp.sqrt(n)}, note="k + n/k - 2 sqrt(n) = (k - sqrt n)^2/k"),
        Implies(ge((k - m) ** 2 / k, 0), where={m: sp.sqrt(n)}),
        Implies(gt((k - m) ** 2 / k, 0), [sp.Ne(k, m)], engine="z3", where={m: sp.sqrt(n)},
                note="strict away from k = sqrt(n)"),
        Identity(sp.Subs(cost, k, m), 2 * m, where={m: sp.sqrt(n)}, note="value 2 sqrt(n) at k = sqrt(n)"),
    ]


@claim(
    name="d = 1 top scores are the largest or smallest keys",
    source="HO Appendix E",
    statement="for scalar q and keys a >= b: q a >= q b if q >= 0 and q a <= q b if q <= 0, so the top-k scores "
    "of q are those of the k largest keys when q > 0 and of the k smallest when q < 0 (all equal at q = 0)",
    relied_on=True,
)
def _check_scalar_top():
    q, a, b = sp.symbols("q a b", real=True)
    return [
        Implies(ge(q * a, q * b), [ge(a, b), ge(q, 0)], engine="z3"),
        Implies(le(q * a, q * b), [ge(a, b), le(q, 0)], engine="z3"),
    ]


# --- experiment: gumbel --------------------------------------------------------------------------

SCORE_FAMILIES = ("gaussian", "heavy", "flat", "spike")
#: Cap on the expected tail entries drawn per (n, k) point of the tail-size measurement.
TAIL_ELEMENTS = 1_000_000


def score_family(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Test scores: Gaussian (sd 2), heavy-tailed (Student t, 2 dof), all equal, or one spike."""
    if kind == "gaussian":
        return 2.0 * rng.standard_normal(n)
    if kind == "heavy":
        return 1.5 * rng.standard_t(2.0, n)
    if kind == "flat":
        return np.zeros(n)
    if kind == "spike":
        scores = 0.5 * rng.standard_normal(n)
        scores[rng.integers(n)] = 6.0
        return scores
    raise ParameterError(f"score family must be one of {', '.join(SCORE_FAMILIES)}, got {kind!r}")


@dataclass(frozen=True)
class GumbelConfig(ExperimentConfig):
    """Experiment ``gumbel``: Algorithm 2's exactness, tail size and reads (quick preset = the defaults)."""

    n: int = param(64, low=2, doc="scores per chi-square test")
    k_values: list = param([1, 8], low=1, doc="top-k sizes tested (each <= n)")
    families: list = param(list(SCORE_FAMILIES), choices=SCORE_FAMILIES, doc="score families")
    draws: int = param(20000, low=100, doc="samples per chi-square test")
    alpha: float = param(0.001, low=0.0, high=1.0, low_open=True, high_open=True,
                         doc="false-alarm rate of each chi-square test")
    tail_n_values: list = param([256, 1024, 4096, 16384], low=4, doc="n values of the tail-size measurement")
    tail_draws: int = param(2000, low=10, doc="samples per tail-size point")
    cost_n_values: list = param([256, 1024, 4096, 16384, 65536], low=4, doc="n values of the reads-vs-n fit")
    cost_draws: int = param(1000, low=10, doc="samples per reads-vs-n point")

    def check(self) -> None:
        for k in self.k_values:
            if k > self.n:
                raise ParameterError(f"k_values[] must be <= n = {self.n}, got {k}")


GUMBEL_PRESETS = {
    "quick": GumbelConfig(),
    "paper": GumbelConfig(n=256, k_values=[1, 4, 16, 64], draws=200000,
                          tail_n_values=[256, 1024, 4096, 16384, 65536], tail_draws=20000,
                          cost_n_values=[256, 1024, 4096, 16384, 65536, 262144], cost_draws=10000),
}


def _exactness_scores(config: dict, family: str, seed: int) -> np.ndarray:
    """The scores of ``family``'s chi-square tests, from ``default_rng([seed, 0, family's index])``."""
    return score_family(family, config["n"], np.random.default_rng([seed, 0, config["families"].index(family)]))


def tail_k_values(n: int) -> list[int]:
    """The ``k`` of the tail-size measurement at ``n``: 1, ``sqrt(n)/4``, ``sqrt(n)``, ``4 sqrt(n)`` (below ``n``)."""
    root = math.isqrt(n)
    return sorted({1, max(1, root // 4), root, min(n - 1, 4 * root)})


def gumbel_sweep(config: dict, seed: int) -> list[dict]:
    """Units: a chi-square test per (family, k); a tail-size point per (n, k, family); a reads point
    per (n, family) at ``k = sqrt(n)``."""
    return ([{"part": "exactness", "family": family, "k": k} for family in config["families"] for k in config["k_values"]]
            + [{"part": "tail", "n": n, "k": k, "family": family} for n in config["tail_n_values"]
               for k in tail_k_values(n) for family in ("gaussian", "flat")]
            + [{"part": "cost", "n": n, "family": family} for n in config["cost_n_values"] for family in ("gaussian", "flat")])


def gumbel_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """One measurement of Algorithm 2 (HO Appendix E.1): the sample counts of a chi-square test against
    the softmax, the mean tail size ``E|T|`` against ``(n-k)/k``, or the score reads per sample."""
    family, part = unit["family"], unit["part"]
    if part == "exactness":
        n, k, draws_n = config["n"], unit["k"], config["draws"]
        scores = _exactness_scores(config, family, seed)
        rng = np.random.default_rng([seed, 1, config["families"].index(family), k])
        draws = sample_softmax(scores[None], k, rng, samples=draws_n)
        counts = np.bincount(draws.index.reshape(-1), minlength=n)
        test = chi_square_test(counts, softmax(scores))
        status = chi_square_status(test, config["alpha"])
        return [{"part": part, "family": family, "k": k, "n": n, "draws": draws_n, **test, "status": status,
                 "passed": status == "passed", "mean_tail": float(draws.tail_count.mean()), "tail_bound": (n - k) / k,
                 "counts": counts.tolist()}]
    if part == "tail":
        n, k = unit["n"], unit["k"]
        # at most ~TAIL_ELEMENTS tail entries per point: small k costs n/k per draw
        n_draws = max(100, min(config["tail_draws"], TAIL_ELEMENTS * k // n))
        rng = np.random.default_rng([seed, 2, n, k, family == "flat"])
        draws = sample_softmax(score_family(family, n, rng)[None], k, rng, samples=n_draws)
        mean = float(draws.tail_count.mean())
        se = float(draws.tail_count.std(ddof=1) / math.sqrt(n_draws))
        return [{"part": part, "family": family, "n": n, "k": k, "mean_tail": mean, "tail_se": se,
                 "bound": (n - k) / k, "z_above_bound": (mean - (n - k) / k) / se if se > 0 else None,
                 "flat_exact": (n - k) / (k + 1), "draws": n_draws}]
    n = unit["n"]
    k = math.isqrt(n - 1) + 1
    rng = np.random.default_rng([seed, 3, n, family == "flat"])
    draws = sample_softmax(score_family(family, n, rng)[None], k, rng, samples=config["cost_draws"])
    reads = draws.reads_per_draw
    return [{"part": part, "family": family, "n": n, "k": k, "reads_per_sample": float(reads.mean()),
             "reads_p99": float(np.quantile(reads, 0.99)), "draws": config["cost_draws"]}]


def gumbel_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Algorithm 2: exactness (chi-square, untestable rows apart), ``E|T|`` vs ``(n-k)/k``, reads vs ``n``
    at ``k = sqrt(n)`` (fitted slope)."""
    n, alpha = config["n"], config["alpha"]
    exactness = [{**{key: value for key, value in r.items() if key not in ("part", "counts")},
                  "expected": softmax(_exactness_scores(config, r["family"], seed)).tolist(),
                  "observed": (np.asarray(r["counts"]) / r["draws"]).tolist()}
                 for r in rows if r["part"] == "exactness"]
    tail = [{key: value for key, value in r.items() if key != "part"} for r in rows if r["part"] == "tail"]
    cost = [{key: value for key, value in r.items() if key != "part"} for r in rows if r["part"] == "cost"]
    slopes = {family: fit_slope([r["n"] for r in cost if r["family"] == family],
                                [r["reads_per_sample"] for r in cost if r["family"] == family])
              for family in ("gaussian", "flat")}
    points = [
        {"family": r["family"], "k": r["k"], "n": r["n"], "p_value": r["p_value"], "status": r["status"],
         "passed": r["passed"], "statistic": r["statistic"], "dof": r["dof"], "trials": r["draws"]}
        for r in exactness
    ]
    return {
        "experiment": "gumbel", "n": n, "alpha": alpha, "points": points, "exactness": exactness,
        # untestable rows are neither passes nor failures: counted apart, never folded into all_passed
        "chi_square_counts": {status: sum(r["status"] == status for r in exactness)
                              for status in ("passed", "failed", "not testable")},
        "all_passed": all(r["status"] != "failed" for r in exactness) and any(r["passed"] for r in exactness),
        "tail": tail, "tail_max_ratio": max(r["mean_tail"] / r["bound"] for r in tail if r["bound"] > 0),
        "tail_max_z_above_bound": max((r["z_above_bound"] for r in tail if r["z_above_bound"] is not None), default=None),
        "cost": cost, "cost_slope": slopes,
    }


# --- experiment: scalar (d = 1) -------------------------------------------------------------------


def scalar_stream(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``N(0, 1)`` and positive values ``Unif[0.5, 1.5]`` (so relative error is meaningful)."""
    return rng.standard_normal((n, 1)), rng.uniform(0.5, 1.5, (n, 1))


def exact_scalar_attention(q: float, keys: np.ndarray, values: np.ndarray) -> float:
    """``Attn`` over ``keys`` plus a current token with key 0 and value 0 (Bob's probe token)."""
    scores = np.r_[q * keys.reshape(-1), 0.0]
    return float(softmax(scores) @ np.r_[values.reshape(-1), 0.0])


@dataclass(frozen=True)
class ScalarConfig(ExperimentConfig):
    """Experiment ``scalar``: the d = 1 algorithm (quick preset = the defaults)."""

    n_values: list = param([256, 1024, 4096, 16384, 65536], low=4, doc="stream lengths n (memory vs n)")
    queries: list = param([-2.0, -0.5, 0.5, 2.0], doc="scalar queries q")
    seeds: int = param(40, low=2, doc="independent caches per n")
    samples: int = param(16, low=1, doc="Gumbel samples per group")
    groups: int = param(5, low=1, high=255, doc="median-of-means groups")
    mom_n: int = param(4096, low=4, doc="stream length of the median-of-means measurement")
    mom_groups: list = param([1, 3, 5, 9], low=1, high=255, doc="group counts compared")
    mom_seeds: int = param(100, low=2, doc="caches per group count")
    mom_eps: float = param(0.1, low=0.0, low_open=True, doc="relative-error threshold of the median-of-means tail")
    game_n_values: list = param([256, 1024], low=2, doc="n values of the INDEX game at d = 1")
    game_trials: int = param(1, low=1, doc="games per n")
    draws: int = param(3, low=1, high=100, doc="independent streams per n of the memory measurement (draw 0 "
                       "is the one the figure shows)")


SCALAR_PRESETS = {
    "quick": ScalarConfig(),
    "paper": ScalarConfig(n_values=[256, 1024, 4096, 16384, 65536, 262144, 1048576],
                          queries=[-3.0, -1.0, -0.3, 0.3, 1.0, 3.0], seeds=200, mom_n=16384,
                          mom_groups=[1, 3, 5, 9, 15], mom_seeds=400, game_n_values=[256, 1024, 4096],
                          game_trials=3, draws=5),
}


def _cache_rows(n: int, config: dict, stream_seed: int, groups: int, seeds: int, draw: int = 0) -> list[dict]:
    """Per independent cache on one stream (``default_rng([stream_seed, 10, n])``, for a ``draw`` >= 1
    ``default_rng([stream_seed, 10, n, draw])``): its estimates of every query, the exact values, its
    memory and its draw counters. Cache ``s`` has seed ``stream_seed·100003 + draw·seeds + s``."""
    keys, values = scalar_stream(n, np.random.default_rng([stream_seed, 10, n, draw] if draw else [stream_seed, 10, n]))
    queries = np.asarray(config["queries"], dtype=np.float64)
    exact = [exact_scalar_attention(q, keys, values) for q in queries]
    zeros = np.zeros((queries.size, 1))
    rows = []
    for s in range(seeds):
        cache = ScalarGumbelCache(samples=config["samples"], groups=groups,
                                  seed=int(stream_seed * 100003 + draw * seeds + s))
        cache.extend(keys * 0, keys, values)
        estimate = cache.probe(queries[:, None], zeros, zeros)[:, 0]
        rows.append({"groups": groups, "cache": s, "memory_bits": cache.memory_bits,
                     **{key: cache.stats[key] for key in ("draws", "overflow", "reads")},
                     "estimate": estimate.tolist(), "exact": exact})
    return rows


def _relative_errors(rows: list[dict]) -> np.ndarray:
    """``|estimate - exact| / |exact|``, one row per cache and one column per query."""
    estimates, exact = np.array([r["estimate"] for r in rows]), np.array(rows[0]["exact"])
    return np.abs(estimates - exact) / np.abs(exact)


def scalar_caches(config: dict, seed: int) -> list:
    """The caches of the INDEX game at ``d = 1``: the scalar Gumbel cache and the exact cache."""
    return [ScalarGumbelCache(samples=config["samples"], groups=config["groups"], seed=seed), ExactCache("float64")]


def scalar_sweep(config: dict, seed: int) -> list[dict]:
    """Units: the caches of one stream per n (median of means, and a plain mean for the bias), the caches
    of the median-of-means stream per group count, and one INDEX game per (n, cache, trial)."""
    return ([{"part": part, "n": n} for n in config["n_values"] for part in ("memory", "bias")]
            + [{"part": "memory", "n": n, "draw": draw} for draw in range(1, config.get("draws", 1))
               for n in config["n_values"]]
            + [{"part": "median_of_means", "groups": groups} for groups in config["mom_groups"]]
            + [{"part": "index_game", "n": n, "cache": frozen_spec(cache), "trial": t} for n in config["game_n_values"]
               for cache in scalar_caches(config, seed) for t in range(config["game_trials"])])


def scalar_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """HO Appendix E at d = 1: ``seeds`` independent caches on the stream of ``n`` (memory, error; with
    one group, the bias of the plain mean), ``mom_seeds`` caches with ``groups`` groups on the
    median-of-means stream, or one game of HO Theorem 6's INDEX reduction with scalar keys."""
    part = unit["part"]
    if part == "memory":
        draw = unit.get("draw", 0)
        rows = _cache_rows(unit["n"], config, seed, config["groups"], config["seeds"], draw)
        return [{"part": part, "n": unit["n"], **({"draw": draw} if draw else {}), **r} for r in rows]
    if part == "bias":  # groups=1: a plain mean, on its own stream
        return [{"part": part, "n": unit["n"], **r} for r in _cache_rows(unit["n"], config, seed + 1, 1, config["seeds"])]
    if part == "median_of_means":
        return [{"part": part, "n": config["mom_n"], **r}
                for r in _cache_rows(config["mom_n"], config, seed + 2, unit["groups"], config["mom_seeds"])]
    n, cache = unit["n"], build(unit["cache"])
    outcome = play_trial(ExactOutputReduction(n, 1, C=2 * math.log(n)), cache, seed, unit["trial"], players)
    return [{"part": part, "n": n, **row} for row in outcome_rows(cache, [outcome])]


def scalar_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Memory vs n (fitted slope) with error, bias and overflow; median-of-means failure rates; the
    INDEX points at d = 1 (the runner adds the Fano frontier)."""
    parts: dict[tuple, list[dict]] = {}
    for row in rows:
        parts.setdefault((row["part"], row["groups"] if row["part"] == "median_of_means" else row["n"],
                          row.get("draw", 0)), []).append(row)
    parts.update({key[:2]: value for key, value in parts.items() if key[2] == 0})
    draws = range(config.get("draws", 1))
    memory = []
    for n in config["n_values"]:
        caches, plain = parts["memory", n], parts["bias", n]
        repeated = [parts["memory", n, draw] for draw in draws]
        relative = _relative_errors(caches)
        unbiased, exact_1 = np.array([r["estimate"] for r in plain]), np.array(plain[0]["exact"])
        bias_z = (unbiased.mean(axis=0) - exact_1) / (unbiased.std(axis=0, ddof=1) / math.sqrt(config["seeds"]))
        memory.append({
            "n": n, "memory_bits": float(np.mean([r["memory_bits"] for r in caches])),
            "exact_memory_bits": 8 * (HEADER_BYTES + 16 * n), "index_bits": n,
            "relative_error_mean": float(relative.mean()), "relative_error_p90": float(np.quantile(relative, 0.9)),
            "bias_z_max": float(np.max(np.abs(bias_z))),
            "overflow_rate": sum(r["overflow"] for r in caches) / max(1, sum(r["draws"] for r in caches)),
            "reads_per_query": sum(r["reads"] for r in caches) / (config["seeds"] * len(config["queries"])),
            "draws": len(repeated),  # draw 0 (the stream above) first, then fresh streams
            "memory_bits_draws": [float(np.mean([r["memory_bits"] for r in rows])) for rows in repeated],
            "relative_error_mean_draws": [float(_relative_errors(rows).mean()) for rows in repeated],
        })
    mom = []
    for groups in config["mom_groups"]:
        relative = _relative_errors(parts["median_of_means", groups])
        mom.append({"groups": groups, "samples_per_group": config["samples"], "n": config["mom_n"],
                    "fail_rate": float(np.mean(relative > config["mom_eps"])), "eps": config["mom_eps"],
                    "relative_error_mean": float(relative.mean())})
    points = [{**point, "n": n, "d": 1} for n in config["game_n_values"]
              for point in points_from_rows(parts["index_game", n])]
    return {
        "experiment": "scalar", "d": 1, "samples": config["samples"], "groups": config["groups"],
        "points": points, "memory": memory,
        "memory_slope": fit_slope([r["n"] for r in memory], [r["memory_bits"] for r in memory]),
        "exact_memory_slope": fit_slope([r["n"] for r in memory], [r["exact_memory_bits"] for r in memory]),
        "theorem1_bits_at_d1": math.e,  # d·min(n, e^d) at d = 1, up to the theorem's constant
        "median_of_means": mom,
    }


def gumbel_headline(summary: dict) -> str:
    """``barriers report``'s line: how many chi-square tests pass (a count), the largest mean tail
    size over its bound (n−k)/k with a 99% normal interval from the draws' standard error, and the
    reads-per-sample exponent at k = √n (99% bootstrap over the n grid)."""
    from protocols.headline import fitted_slope
    from protocols.stats import Z_99

    parts = []
    tests = summary.get("points") or []
    if tests:
        parts.append(f"{sum(1 for p in tests if p.get('passed'))} of {len(tests)} chi-square tests "
                     f"({tests[0].get('trials')} draws each) pass at α = {summary.get('alpha')} (exact)")
    tail = summary.get("tail") or []
    if tail:
        worst = max(tail, key=lambda r: r["mean_tail"] / r["bound"])
        ratio, half = worst["mean_tail"] / worst["bound"], Z_99 * worst["tail_se"] / worst["bound"]
        parts.append(f"the mean tail size reaches at most {ratio:.3f} [{ratio - half:.3f}, {ratio + half:.3f}] times "
                     f"(n−k)/k (99% normal interval; {worst['family']}, n = {worst['n']}, k = {worst['k']})")
    cost = summary.get("cost") or []
    families = sorted({r["family"] for r in cost})
    if families:
        def slope(family):
            rows = [r for r in cost if r["family"] == family]
            return fitted_slope([r["n"] for r in rows], [r["reads_per_sample"] for r in rows])

        parts.append("reads per sample grow as " + ", ".join(f"n^{slope(f)} ({f})" for f in families)
                     + " at k = √n (99% bootstrap over the n grid)")
    return "; ".join(parts) or "see figure"


def scalar_headline(summary: dict) -> str:
    """``barriers report``'s line: the memory exponent (99% bootstrap over the n grid), the memory at
    the largest n (median [min, max] over the streams drawn there; the exact cache's is exact), the
    mean relative error (median [min, max] over every n and stream) and the INDEX accuracies at d = 1
    (99% Wilson)."""
    from protocols.headline import exact, fitted_slope, over_draws, percent, spread

    memory = summary.get("memory") or []
    parts = []
    if memory:
        last = max(memory, key=lambda r: r["n"])
        parts.append(f"memory grows as n^{fitted_slope([r['n'] for r in memory], [r['memory_bits'] for r in memory])} "
                     f"(99% bootstrap; exact cache n^"
                     f"{exact(fit_slope([r['n'] for r in memory], [r['exact_memory_bits'] for r in memory]))}): "
                     f"{over_draws([m / 1000 for m in last.get('memory_bits_draws') or [last['memory_bits']]], 0, ' kbit')}"
                     f" vs {last['exact_memory_bits'] / 1e6:.1f} Mbit (exact) at n = {last['n']:,}")
        if all(r.get("relative_error_mean_draws") for r in memory):
            errors = [100 * e for r in memory for e in r["relative_error_mean_draws"]]
            parts.append(f"mean relative error {over_draws(errors, 1, '%')} over the n grid "
                         f"({len(errors) // len(memory)} streams at each of {len(memory)} n)")
        else:  # a summary from before the repeated streams
            errors = [100 * r["relative_error_mean"] for r in memory]
            parts.append(f"mean relative error {spread(errors, 'single draw each', 1, '%')} over the n grid")
    points = summary.get("points") or []
    if points:
        best = max(points, key=lambda p: p["accuracy"])
        chance = all(p["accuracy_low"] <= 0.5 <= p["accuracy_high"] for p in points)
        shown = percent(best["accuracy"], best["accuracy_low"], best["accuracy_high"])
        parts.append(f"at d = 1 every cache, the exact one too, decodes at most {shown}"
                     + (" and every interval contains chance" if chance else ""))
    return "; ".join(parts) or "see figure"


EXPERIMENTS = [
    Experiment(
        "gumbel", "HO Algorithm 2 (LG)", "appE",
        "lazy Gumbel sampling: chi-square exactness, tail size vs n/k, reads vs n at k = sqrt(n)",
        GUMBEL_PRESETS, gumbel_sweep, gumbel_measure, gumbel_summary, "plots.scalar:gumbel_figure", headline="reductions.appE:gumbel_headline", uses_game=False,
    ),
    Experiment(
        "scalar", "HO Appendix E, Theorem 1", "appE",
        "the d = 1 algorithm: O(sqrt(n)) memory, unbiased estimates, median of means, INDEX at d = 1",
        SCALAR_PRESETS, scalar_sweep, scalar_measure, scalar_summary, "plots.scalar:scalar_figure", headline="reductions.appE:scalar_headline",
    ),
]
