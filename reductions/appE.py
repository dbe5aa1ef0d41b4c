"""HO Appendix E and Algorithm 2: lazy Gumbel sampling, and attention in ``O(sqrt(n))`` memory at d = 1.

Read beside the paper (THEORY §4, "The case d = 1" and "Algorithm 2"):

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
  rate ``alpha``), the measured ``E|T|`` against the ``n/k`` bound, and score reads per sample vs
  ``n`` at ``k = sqrt(n)`` (fitted slope).
* ``scalar``: the d = 1 cache's memory vs ``n`` (fitted slope), its error and bias, median-of-means
  tails, and the INDEX game at ``d = 1`` (Theorem 6's reduction with scalar keys) beside the exact
  cache and the Fano frontier.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp

from caches.attention import softmax
from caches.codec import HEADER_BYTES
from caches.exact import ExactCache
from caches.lazy_gumbel import sample_softmax
from caches.params import ParameterError, check_int, check_real
from caches.scalar import ScalarGumbelCache
from protocols.experiment import Experiment
from protocols.fano import frontier_curve
from protocols.game import play
from reductions.certify import claim, proved
from reductions.thm6 import ExactOutputReduction

# --- statistics ----------------------------------------------------------------------------------


def chi_square_pvalue(statistic: float, dof: int) -> float:
    """Upper tail ``P(chi^2_dof >= statistic)`` (regularized incomplete gamma, mpmath)."""
    if dof < 1:
        raise ParameterError(f"dof must be >= 1, got {dof}")
    return float(mpmath.gammainc(dof / 2.0, statistic / 2.0, mpmath.inf, regularized=True))


def chi_square_test(counts: np.ndarray, probabilities: np.ndarray, min_expected: float = 5.0) -> dict:
    """Pearson's goodness-of-fit test of ``counts`` against ``probabilities``.

    Cells with expected count below ``min_expected`` are pooled into one cell (dropped if the pool
    itself is empty), the usual validity condition for the chi-square approximation.
    """
    counts = np.asarray(counts, dtype=np.float64)
    expected = np.asarray(probabilities, dtype=np.float64) * counts.sum()
    keep = expected >= min_expected
    observed = np.r_[counts[keep], counts[~keep].sum()]
    wanted = np.r_[expected[keep], expected[~keep].sum()]
    if wanted[-1] < min_expected:  # pool too small: fold it into the smallest kept cell
        smallest = int(np.argmin(wanted[:-1]))
        observed[smallest] += observed[-1]
        wanted[smallest] += wanted[-1]
        observed, wanted = observed[:-1], wanted[:-1]
    statistic = float(np.sum((observed - wanted) ** 2 / wanted))
    dof = max(1, observed.size - 1)
    return {"statistic": statistic, "dof": dof, "p_value": chi_square_pvalue(statistic, dof), "cells": int(observed.size)}


def fit_slope(xs, ys) -> float | None:
    """Least-squares slope of ``log y`` against ``log x`` (``None`` with fewer than 2 points)."""
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y and x > 0 and y > 0]
    if len(pairs) < 2:
        return None
    lx, ly = np.array(pairs).T
    return float(np.polyfit(lx, ly, 1)[0])


# --- certificates --------------------------------------------------------------------------------

_x = sp.Symbol("x", real=True)
_u = sp.Symbol("u", positive=True)


def _gumbel_cdf(t):
    return sp.exp(-sp.exp(-t))


def _over_u(expr) -> sp.Expr:
    """Substitute ``u = e^{-x}`` (``dx = -du/u``): ``∫_R g(x) dx = ∫_0^∞ g(-ln u)/u du``."""
    return sp.simplify(expr.subs(_x, -sp.log(_u)) / _u)


@claim(
    name="Gumbel-max identity",
    source="HO eq. 42, Algorithm 2 (LG)",
    statement="P(argmax_l (Z_l + G_l) = j) = e^{Z_j} / Σ_l e^{Z_l} for i.i.d. G_l ~ Gumbel(0,1)",
    relied_on=True,
)
def _check_gumbel_max():
    z = sp.Symbol("z", real=True)
    rest = sp.Symbol("S", positive=True)  # Σ_{l≠j} e^{Z_l}
    density = sp.diff(_gumbel_cdf(_x - z), _x)  # of Z_j + G_j
    integrand = density * sp.exp(-sp.exp(-_x) * rest)  # Π_{l≠j} P(Z_l + G_l <= x)
    value = sp.simplify(sp.integrate(_over_u(integrand), (_u, 0, sp.oo)))
    if sp.simplify(value - sp.exp(z) / (sp.exp(z) + rest)) != 0:
        raise AssertionError(f"integral gave {value}")
    return proved(
        "P(j wins) = ∫ f(x - Z_j) Π_{l≠j} F(x - Z_l) dx with F(t) = exp(-e^{-t}); Π_{l≠j} F = exp(-e^{-x} S), "
        f"S = Σ_{{l≠j}} e^{{Z_l}}; with u = e^{{-x}} sympy integrates to {value}"
    )


@claim(
    name="Algorithm 2 tail count and truncated Gumbel",
    source="HO Algorithm 2, steps 3-4",
    statement="a tail Gumbel exceeds B with probability 1 - exp(-e^{-B}) (so the count is Binomial(n-k, ·)), "
    "and G = -log(-log U), U ~ Unif[exp(-e^{-B}), 1], has the law of G | G > B",
    relied_on=True,
)
def _check_tail_law():
    B = sp.Symbol("B", real=True)
    F = _gumbel_cdf
    p = 1 - F(B)
    if sp.simplify(p - (1 - sp.exp(-sp.exp(-B)))) != 0:
        raise AssertionError("tail probability")
    derivative = sp.simplify(sp.diff(F(_x), _x))
    if not (derivative.is_positive or sp.simplify(derivative - sp.exp(-_x - sp.exp(-_x))) == 0):
        raise AssertionError(f"F' = {derivative} has no proved sign")
    # U uniform on [F(B), 1]: P(-log(-log U) <= x) = P(U <= F(x)) = (F(x) - F(B)) / (1 - F(B)) for x >= B,
    # which is P(G <= x | G > B). Check the conditional CDF is 0 at B and 1 at infinity.
    conditional = (F(_x) - F(B)) / (1 - F(B))
    if sp.simplify(conditional.subs(_x, B)) != 0 or sp.limit(conditional, _x, sp.oo) != 1:
        raise AssertionError("conditional CDF endpoints")
    return proved(
        "P(G > B) = 1 - F(B) = 1 - exp(-e^{-B}); tail Gumbels are i.i.d., so the count is Binomial(n-k, 1-F(B)) "
        "and given the count the exceeding set is uniform; F' = exp(-x - e^{-x}) > 0, so -log(-log U) <= x iff "
        "U <= F(x) and P = (F(x) - F(B))/(1 - F(B)) = P(G <= x | G > B). Exactness: an undrawn tail l has "
        "Z_l <= S_min and G_l <= B, so Z_l + G_l <= S_min + B = M and cannot win"
    )


@claim(
    name="Algorithm 2 expected tail size",
    source="HO Appendix E.1, LG",
    statement="E|T| <= (n - k)/k < n/k, with equality (n-k)/(k+1) when all scores are equal",
    relied_on=True,
)
def _check_tail_size():
    k = sp.Symbol("k", positive=True)
    cdf_max = sp.exp(-k * sp.exp(-_x))  # max of k standard Gumbels: Gumbel(ln k)
    mean_exp = sp.simplify(sp.integrate(_over_u(sp.exp(-_x) * sp.diff(cdf_max, _x)), (_u, 0, sp.oo)))
    flat = sp.simplify(sp.integrate(_over_u((1 - sp.exp(-sp.exp(-_x))) * sp.diff(cdf_max, _x)), (_u, 0, sp.oo)))
    if sp.simplify(mean_exp - 1 / k) != 0 or sp.simplify(flat - 1 / (k + 1)) != 0:
        raise AssertionError(f"E[e^-X] = {mean_exp}, flat tail probability = {flat}")
    return proved(
        "B = M - S_min >= max_{l in S} G_l =: X ~ Gumbel(ln k) since Z_l >= S_min on S; "
        f"1 - exp(-e^{{-B}}) <= e^{{-B}} <= e^{{-X}} and sympy gives E[e^{{-X}}] = {mean_exp}, so "
        f"E|T| <= (n-k)/k; with equal scores B = X exactly and E[1 - exp(-e^{{-X}})] = {flat}"
    )


@claim(
    name="k + n/k is smallest at k = sqrt(n)",
    source="HO Appendix E.1, kNN §3",
    statement="min_{k>0} (k + n/k) = 2 sqrt(n), at k = sqrt(n)",
    relied_on=True,
)
def _check_balance():
    k, n = sp.symbols("k n", positive=True)
    cost = k + n / k
    critical = sp.solve(sp.diff(cost, k), k)
    if critical != [sp.sqrt(n)] or sp.simplify(cost.subs(k, sp.sqrt(n)) - 2 * sp.sqrt(n)) != 0:
        raise AssertionError(f"critical points {critical}")
    if not sp.simplify(sp.diff(cost, k, 2)).is_positive:
        raise AssertionError("second derivative sign")
    return proved("d/dk (k + n/k) = 1 - n/k^2 vanishes only at k = sqrt(n), second derivative 2n/k^3 > 0; value 2 sqrt(n)")


# --- experiment: gumbel --------------------------------------------------------------------------

SCORE_FAMILIES = ("gaussian", "heavy", "flat", "spike")
#: Cap on the expected tail entries drawn per (n, k) point of the tail-size measurement.
TAIL_ELEMENTS = 1_000_000

GUMBEL_PRESETS = {
    "quick": {"n": 64, "k_values": [1, 8], "families": list(SCORE_FAMILIES), "draws": 20000, "alpha": 0.001,
              "tail_n_values": [256, 1024, 4096, 16384], "tail_draws": 2000,
              "cost_n_values": [256, 1024, 4096, 16384, 65536], "cost_draws": 1000},
    "paper": {"n": 256, "k_values": [1, 4, 16, 64], "families": list(SCORE_FAMILIES), "draws": 200000,
              "alpha": 0.001, "tail_n_values": [256, 1024, 4096, 16384, 65536], "tail_draws": 20000,
              "cost_n_values": [256, 1024, 4096, 16384, 65536, 262144], "cost_draws": 10000},
}


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


def validate_gumbel(config: dict) -> dict:
    n = check_int("n", config["n"], 2)
    for k in config["k_values"]:
        check_int("k_values[]", k, 1, n)
    for f in config["families"]:
        if f not in SCORE_FAMILIES:
            raise ParameterError(f"families[] must be one of {', '.join(SCORE_FAMILIES)}, got {f!r}")
    check_int("draws", config["draws"], 100)
    check_real("alpha", config["alpha"], 0.0, 1.0, low_open=True, high_open=True)
    for key in ("tail_n_values", "cost_n_values"):
        for v in config[key]:
            check_int(f"{key}[]", v, 4)
    check_int("tail_draws", config["tail_draws"], 10)
    check_int("cost_draws", config["cost_draws"], 10)
    return config


def run_gumbel(config: dict, seed: int, bob=None, progress=None) -> dict:
    """Algorithm 2: exactness (chi-square), ``E|T|`` vs ``(n-k)/k``, reads vs ``n`` at ``k = sqrt(n)``."""
    config = validate_gumbel(config)
    n, alpha = config["n"], config["alpha"]
    exactness, trials = [], []
    for f_index, family in enumerate(config["families"]):
        scores = score_family(family, n, np.random.default_rng([seed, 0, f_index]))
        probabilities = softmax(scores)
        for k in config["k_values"]:
            rng = np.random.default_rng([seed, 1, f_index, k])
            draws = sample_softmax(scores[None], k, rng, samples=config["draws"])
            counts = np.bincount(draws.index.reshape(-1), minlength=n)
            test = chi_square_test(counts, probabilities)
            exactness.append({
                "family": family, "k": k, "n": n, "draws": config["draws"], **test, "passed": test["p_value"] >= alpha,
                "mean_tail": float(draws.tail_count.mean()), "tail_bound": (n - k) / k,
                "expected": probabilities.tolist(), "observed": (counts / config["draws"]).tolist(),
            })
            trials.append({"part": "exactness", "family": family, "k": k, "n": n, **test})
        if progress:
            progress(1)

    tail = []
    for n_t in config["tail_n_values"]:
        root = math.isqrt(n_t)
        for k in sorted({1, max(1, root // 4), root, min(n_t - 1, 4 * root)}):
            # at most ~TAIL_ELEMENTS tail entries per point: small k costs n/k per draw
            n_draws = max(100, min(config["tail_draws"], TAIL_ELEMENTS * k // n_t))
            for family in ("gaussian", "flat"):
                rng = np.random.default_rng([seed, 2, n_t, k, family == "flat"])
                scores = score_family(family, n_t, rng)
                draws = sample_softmax(scores[None], k, rng, samples=n_draws)
                mean = float(draws.tail_count.mean())
                se = float(draws.tail_count.std(ddof=1) / math.sqrt(n_draws))
                row = {"family": family, "n": n_t, "k": k, "mean_tail": mean, "tail_se": se,
                       "bound": (n_t - k) / k, "z_above_bound": (mean - (n_t - k) / k) / se if se > 0 else None,
                       "flat_exact": (n_t - k) / (k + 1), "draws": n_draws}
                tail.append(row)
                trials.append({"part": "tail", **row})
        if progress:
            progress(1)

    cost = []
    for n_c in config["cost_n_values"]:
        k = math.isqrt(n_c - 1) + 1
        for family in ("gaussian", "flat"):
            rng = np.random.default_rng([seed, 3, n_c, family == "flat"])
            scores = score_family(family, n_c, rng)
            draws = sample_softmax(scores[None], k, rng, samples=config["cost_draws"])
            reads = draws.reads_per_draw
            row = {"family": family, "n": n_c, "k": k, "reads_per_sample": float(reads.mean()),
                   "reads_p99": float(np.quantile(reads, 0.99)), "draws": config["cost_draws"]}
            cost.append(row)
            trials.append({"part": "cost", **row})
        if progress:
            progress(1)

    slopes = {family: fit_slope([r["n"] for r in cost if r["family"] == family],
                                [r["reads_per_sample"] for r in cost if r["family"] == family])
              for family in ("gaussian", "flat")}
    points = [
        {"family": r["family"], "k": r["k"], "n": r["n"], "p_value": r["p_value"], "passed": r["passed"],
         "statistic": r["statistic"], "dof": r["dof"], "trials": r["draws"]}
        for r in exactness
    ]
    summary = {
        "experiment": "gumbel", "n": n, "alpha": alpha, "points": points, "exactness": exactness,
        "all_passed": all(r["passed"] for r in exactness),
        "tail": tail, "tail_max_ratio": max(r["mean_tail"] / r["bound"] for r in tail if r["bound"] > 0),
        "tail_max_z_above_bound": max((r["z_above_bound"] for r in tail if r["z_above_bound"] is not None), default=None),
        "cost": cost, "cost_slope": slopes,
    }
    return {"summary": summary, "trials": trials}


# --- experiment: scalar (d = 1) -------------------------------------------------------------------

SCALAR_PRESETS = {
    "quick": {"n_values": [256, 1024, 4096, 16384, 65536], "queries": [-2.0, -0.5, 0.5, 2.0], "seeds": 40,
              "samples": 16, "groups": 5, "mom_n": 4096, "mom_groups": [1, 3, 5, 9], "mom_seeds": 100,
              "mom_eps": 0.1, "game_n_values": [256, 1024], "game_trials": 1},
    "paper": {"n_values": [256, 1024, 4096, 16384, 65536, 262144, 1048576], "queries": [-3.0, -1.0, -0.3, 0.3, 1.0, 3.0],
              "seeds": 200, "samples": 16, "groups": 5, "mom_n": 16384, "mom_groups": [1, 3, 5, 9, 15],
              "mom_seeds": 400, "mom_eps": 0.1, "game_n_values": [256, 1024, 4096], "game_trials": 3},
}


def scalar_stream(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``N(0, 1)`` and positive values ``Unif[0.5, 1.5]`` (so relative error is meaningful)."""
    return rng.standard_normal((n, 1)), rng.uniform(0.5, 1.5, (n, 1))


def exact_scalar_attention(q: float, keys: np.ndarray, values: np.ndarray) -> float:
    """``Attn`` over ``keys`` plus a current token with key 0 and value 0 (Bob's probe token)."""
    scores = np.r_[q * keys.reshape(-1), 0.0]
    return float(softmax(scores) @ np.r_[values.reshape(-1), 0.0])


def validate_scalar(config: dict) -> dict:
    for v in config["n_values"]:
        check_int("n_values[]", v, 4)
    for q in config["queries"]:
        check_real("queries[]", q)
    check_int("seeds", config["seeds"], 2)
    check_int("samples", config["samples"], 1)
    check_int("groups", config["groups"], 1, 255)
    check_int("mom_n", config["mom_n"], 4)
    for g in config["mom_groups"]:
        check_int("mom_groups[]", g, 1, 255)
    check_int("mom_seeds", config["mom_seeds"], 2)
    check_real("mom_eps", config["mom_eps"], 0.0, low_open=True)
    for v in config["game_n_values"]:
        check_int("game_n_values[]", v, 2)
    check_int("game_trials", config["game_trials"], 1)
    return config


def _estimates(n: int, config: dict, seed: int, groups: int, seeds: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Estimates ``(seeds, queries)`` from independent caches on one stream, the exact values, stats."""
    keys, values = scalar_stream(n, np.random.default_rng([seed, 10, n]))
    queries = np.asarray(config["queries"], dtype=np.float64)
    exact = np.array([exact_scalar_attention(q, keys, values) for q in queries])
    estimates = np.empty((seeds, queries.size))
    stats = {"draws": 0, "overflow": 0, "reads": 0, "memory_bits": []}
    zeros = np.zeros((queries.size, 1))
    for s in range(seeds):
        cache = ScalarGumbelCache(samples=config["samples"], groups=groups, seed=int(seed * 100003 + s))
        cache.extend(keys * 0, keys, values)
        estimates[s] = cache.probe(queries[:, None], zeros, zeros)[:, 0]
        for key in ("draws", "overflow", "reads"):
            stats[key] += cache.stats[key]
        stats["memory_bits"].append(cache.memory_bits)
    return estimates, exact, stats


def run_scalar(config: dict, seed: int, bob, progress=None) -> dict:
    """The d = 1 algorithm: memory vs n, accuracy, bias, median of means, INDEX at d = 1."""
    config = validate_scalar(config)
    memory, trials = [], []
    for n in config["n_values"]:
        estimates, exact, stats = _estimates(n, config, seed, config["groups"], config["seeds"])
        relative = np.abs(estimates - exact) / np.abs(exact)
        unbiased, exact_1, _ = _estimates(n, config, seed + 1, 1, config["seeds"])  # groups=1: a plain mean
        bias_z = (unbiased.mean(axis=0) - exact_1) / (unbiased.std(axis=0, ddof=1) / math.sqrt(config["seeds"]))
        row = {
            "n": n, "memory_bits": float(np.mean(stats["memory_bits"])), "exact_memory_bits": 8 * (HEADER_BYTES + 16 * n), "index_bits": n, "relative_error_mean": float(relative.mean()),
            "relative_error_p90": float(np.quantile(relative, 0.9)), "bias_z_max": float(np.max(np.abs(bias_z))),
            "overflow_rate": stats["overflow"] / max(1, stats["draws"]),
            "reads_per_query": stats["reads"] / (config["seeds"] * len(config["queries"])),
        }
        memory.append(row)
        trials.append({"part": "memory", **row})
        if progress:
            progress(1)

    mom = []
    for groups in config["mom_groups"]:
        estimates, exact, _ = _estimates(config["mom_n"], config, seed + 2, groups, config["mom_seeds"])
        relative = np.abs(estimates - exact) / np.abs(exact)
        row = {"groups": groups, "samples_per_group": config["samples"], "n": config["mom_n"],
               "fail_rate": float(np.mean(relative > config["mom_eps"])), "eps": config["mom_eps"],
               "relative_error_mean": float(relative.mean())}
        mom.append(row)
        trials.append({"part": "median_of_means", **row})
        if progress:
            progress(1)

    points = []
    caches = [ScalarGumbelCache(samples=config["samples"], groups=config["groups"], seed=seed), ExactCache("float64")]
    for n in config["game_n_values"]:
        reduction = ExactOutputReduction(n, 1, C=2 * math.log(n))
        for cache in caches:
            point, outcomes = play(reduction, cache, trials=config["game_trials"], seed=seed, bob=bob)
            points.append({**point, "n": n, "d": 1})
            trials.extend({"part": "index_game", "cache": point["cache"], "n": n, "trial": o.trial,
                           "memory_bits": o.memory_bits, "accuracy": o.correct / o.bits_encoded} for o in outcomes)
        if progress:
            progress(1)

    ratios = np.geomspace(1e-3, 1.0, 100)
    summary = {
        "experiment": "scalar", "d": 1, "samples": config["samples"], "groups": config["groups"],
        "points": points, "memory": memory,
        "memory_slope": fit_slope([r["n"] for r in memory], [r["memory_bits"] for r in memory]),
        "exact_memory_slope": fit_slope([r["n"] for r in memory], [r["exact_memory_bits"] for r in memory]),
        "theorem1_bits_at_d1": math.e,  # d·min(n, e^d) at d = 1, up to the theorem's constant
        "median_of_means": mom,
        "frontier": {"memory_ratio": ratios.tolist(), "max_accuracy": np.asarray(frontier_curve(ratios)).tolist()},
    }
    return {"summary": summary, "trials": trials}


EXPERIMENTS = [
    Experiment(
        "gumbel", "HO Algorithm 2 (LG)", "appE",
        "lazy Gumbel sampling: chi-square exactness, tail size vs n/k, reads vs n at k = sqrt(n)",
        GUMBEL_PRESETS, run_gumbel,
        lambda c: len(c["families"]) + len(c["tail_n_values"]) + len(c["cost_n_values"]),
        "plots.scalar:gumbel_figure", uses_game=False,
    ),
    Experiment(
        "scalar", "HO Appendix E, Theorem 1", "appE",
        "the d = 1 algorithm: O(sqrt(n)) memory, unbiased estimates, median of means, INDEX at d = 1",
        SCALAR_PRESETS, run_scalar,
        lambda c: len(c["n_values"]) + len(c["mom_groups"]) + len(c["game_n_values"]),
        "plots.scalar:scalar_figure",
    ),
]
