"""HO Theorem 8: the Ω(nd) bound survives ``(1±η)``-approximate outputs.

The stream and query are Theorem 6's (:class:`reductions.thm6.ExactOutputReduction` with
``eta > 0``). An approximation may move each coordinate by ``η|y|``, so Bob needs
``(1+η)δ < (1-η)Δ``: exactly ``C > [ln n + ln((1+η)/(1-η))] / (1 - 2ε)``. The print says this
"resolves to ``C ≈ Ω(ln n - ln((1-η)/(1+η)))``", which drops the ``1/(1-2ε)`` factor: as a
concrete C it does not suffice (certificate below).

The adversary (:class:`caches.adversary.AdversarialApproximation`) wraps the exact cache and
returns the worst allowed output against every decoder: Bob's threshold τ itself wherever
``τ in [y - η|y|, y + η|y|]`` (the coordinate is hidden), else the nearest end of that interval,
never across τ.

Experiment ``threshold``: accuracy vs C for several η, the exact thresholds marked. Above the
threshold decoding must succeed; below ``ln n + ln(η/(1-η))`` it must fail, because there the
spike is too light for a ``(1±η)`` output to reveal (:func:`hiding_limit_C`). "Fail" means
*chance*, not accuracy 0: an adversary that pushed outputs across τ would invert the bits, and
a Bob who flips his answers would decode them all. So every point and trial reports Bob's
accuracy, the flipped decoder's (``1 - accuracy``, from the same decoded bits) and the measured
fraction of coordinates hidden; below the hiding limit both accuracies sit near 1/2. The exact
threshold moves with ε, which is measured on each trial's public codebook: the summary gives ε
and every threshold as the median over the trials' codebooks with their [min, max].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.adversary import AdversarialApproximation
from caches.exact import ExactCache
from reductions.certify import claim
from reductions.elementary import at, exp_sign_certificates
from reductions.tactics import Cited, Counterexample, Identity, Implies, eta_in_open_unit, ge, gt, le, lt
from reductions.jl import CODEBOOKS
from reductions.spike import (
    SPREAD_NOTE,
    c_curves,
    c_sweep_trial,
    median_interval,
    spread_shown,
    sweep_c_grid,
    threshold_C,
    threshold_certificates,
    threshold_spread,
    trial_eps,
)
from reductions.thm6 import ExactOutputReduction
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment


def printed_threshold_C(n: int, eta: float) -> float:  # noqa: N802
    """The printed form read as a concrete C: ``ln n - ln((1-η)/(1+η))`` (no ``1/(1-2ε)``)."""
    return math.log(n) - math.log((1 - eta) / (1 + eta))


def hiding_limit_C(n: int, eta: float) -> float | None:  # noqa: N802
    """Where the adversary starts to hide the spike: ``ln n + ln(η/(1-η))`` (``None`` at η = 0).

    The suite's own estimate, not the paper's. With nearly orthogonal unit keys the spike weight
    is ``ξ ≈ e^C/(e^C + n)`` and the rest of a column sums to ``R ≈ (1-ξ)/2``. The adversary
    confuses ``x_ij = 0`` (output ``R``) with ``x_ij = 1`` (output ``R + ξ``) once
    ``(1+η)R >= (1-η)(R + ξ)``, i.e. ``ξ/(1-ξ) <= η/(1-η)``, i.e. ``C <= ln n + ln(η/(1-η))``.
    Tests assert failure comfortably below it.
    """
    if eta == 0:
        return None
    return math.log(n) + math.log(eta / (1 - eta))


def adversary_for(reduction: ExactOutputReduction) -> AdversarialApproximation:
    """The worst ``(1±η)`` approximation of the exact cache against every decoder, at Bob's threshold."""
    return AdversarialApproximation(ExactCache("float64"), reduction.eta, reduction.threshold)


# --- certificates --------------------------------------------------------------------------


@claim(
    name="Theorem 8 exact threshold",
    source="HO Theorem 8",
    statement="(1+η)δ(C) < (1-η)Δ(C) iff C > [ln n + ln((1+η)/(1-η))]/(1-2ε), both directions, for every n > 0 "
    "(so n >= 2), C > 0, η in (0,1) and ε in (0,1/2)",
    relied_on=True,
)
def _check_exact_threshold():
    return threshold_certificates()


@claim(
    name="Theorem 8 printed asymptotic form as a concrete C",
    source="HO Theorem 8 proof [sic]",
    statement="C = ln n - ln((1-η)/(1+η)) gives (1+η)δ < (1-η)Δ",
    relied_on=False,
)
def _check_printed_form():
    n, eta, eps = sp.symbols("n eta epsilon", positive=True)
    C = sp.log(n) - sp.log((1 - eta) / (1 + eta))
    big, small = sp.exp(C * (1 - eps)), n * sp.exp(C * eps)
    printed = lt((1 + eta) * small / (big + small), (1 - eta) * big / (big + small))
    return Counterexample(printed, {n: 2, eta: sp.Rational(1, 2), eps: sp.Rational(1, 10)},
                          note="n = 2, η = 1/2, ε = 1/10: C = ln 6 and (1-η)Δ/((1+η)δ) = 6^{-1/5} < 1; "
                               "the 1/(1-2ε) factor is needed (the Ω hides it)")


@claim(
    name="Theorem 8 decoding needs nonnegative outputs",
    source="HO Theorem 8 (proof), footnote 1",
    statement="Each output coordinate of the reduction is a softmax average of bits, so y in [0, 1]. For y >= 0 "
    "and η in (0,1): |x - y| <= η|y| iff (1-η)y <= x <= (1+η)y, so x <= (1+η)δ when y <= δ (bit 0) and "
    "x >= (1-η)Δ when y >= Δ (bit 1), and any τ strictly between decodes. For y < 0 the scaling bound fails: "
    "x = (1-η)y is a (1±η)-approximation of y with x > (1+η)y, so signed outputs would need other bounds.",
    relied_on=True,
)
def _check_nonnegative_outputs():
    u, eta = eta_in_open_unit("u")
    x, y, A, R, delta, Delta, tau = sp.symbols("x y A R delta Delta tau", real=True)
    y_neg = -sp.Symbol("v", positive=True)
    where = {sp.Symbol("eta"): eta}
    approx = [le(x - y, eta * y), le(y - x, eta * y)]  # |x - y| <= η|y| for y >= 0 (|a| <= b iff a <= b, -a <= b)
    return [
        Implies(sp.And(ge(A / (A + R), 0), le(A / (A + R), 1)), hypotheses=[ge(A, 0), gt(R, 0)], engine="z3",
                note="y = A/(A+R) with A, R >= 0 the softmax weights of the 1-bits and the rest: y in [0, 1]"),
        Implies(sp.And(le((1 - eta) * y, x), le(x, (1 + eta) * y)), hypotheses=[ge(y, 0), *approx], where=where,
                engine="z3", note="y >= 0: approximation => (1-η)y <= x <= (1+η)y"),
        Implies(sp.And(*approx), hypotheses=[ge(y, 0), le((1 - eta) * y, x), le(x, (1 + eta) * y)], where=where,
                engine="z3", note="and back"),
        Implies(le(x, (1 + eta) * delta), hypotheses=[ge(y, 0), le(y, delta), *approx], where=where, engine="z3",
                note="bit 0: x <= (1+η)δ"),
        Implies(ge(x, (1 - eta) * Delta), hypotheses=[ge(y, Delta), gt(Delta, 0), *approx], where=where,
                engine="z3", note="bit 1: x >= (1-η)Δ"),
        Identity(sp.Abs((1 - eta) * y_neg - y_neg), eta * sp.Abs(y_neg), where={**where, y: y_neg},
                 note="y = -v < 0: x = (1-η)y has |x - y| = η|y|, so it is allowed ..."),
        Implies(gt((1 - eta) * y_neg, (1 + eta) * y_neg), where={**where, y: y_neg}, engine="sympy",
                note="... and exceeds (1+η)y"),
    ]


@claim(
    name="footnote 1 approximation as printed",
    source="HO footnote 1 [sic]",
    statement="With the printed definition |x_i - y_i| <= η y_i (no absolute value on the right), the exact "
    "output x = y is a (1±η)-approximation of every real y, η in (0, 1).",
    relied_on=False,
)
def _check_footnote_printed():
    x, y, eta = sp.symbols("x y eta", real=True)
    return Counterexample(le(sp.Abs(x - y), eta * y), {x: -1, y: -1, eta: sp.Rational(1, 2)},
                          note="y = -1, x = y, η = 1/2: |x - y| = 0 > -1/2 = η y. Since |x - y| >= 0 > η y, no x "
                               "at all satisfies the printed form when y < 0")


@claim(
    name="footnote 1 approximation with |y_j|",
    source="HO footnote 1 (corrected, docs/theory.md §0)",
    statement="With |x_j - y_j| <= η|y_j|, η in (0, 1): x = y approximates every y; for y >= 0 the definition "
    "coincides with the printed one; for y < 0 the printed one has no solution x at all.",
    relied_on=True,
)
def _check_footnote_corrected():
    u, eta = eta_in_open_unit("u")
    x, y = sp.symbols("x y", real=True)
    y_pos = sp.Symbol("y", nonnegative=True)
    where = {sp.Symbol("eta"): eta}
    return [
        Implies(ge(eta * sp.Abs(y), at(sp.Abs(x - y), x, y)), where=where, engine="sympy",
                note="x = y: |x - y| = 0 <= η|y|"),
        Identity(eta * sp.Abs(y_pos, evaluate=False), eta * y_pos, where=where,
                 note="|y| = y for y >= 0: same as printed"),
        Implies(sp.Not(sp.And(le(x - y, eta * y), le(y - x, eta * y))), hypotheses=[lt(y, 0)], where=where,
                engine="z3", note="y < 0: |x - y| <= η y has no solution (its two halves sum to 0 <= 2ηy)"),
    ]


@claim(
    name="Theorem 1 from Theorem 8 and Corollary 9",
    source="HO Theorem 1",
    statement="With C_u > 1 (Theorem 6), n >= 1 and d >= 2: n <= e^{d/C_u} iff d >= C_u ln n, and then also "
    "n <= e^d; so min{n, e^{d/C_u}} = n in Theorem 8's regime (Ω(nd), certified above) and = e^{d/C_u} < n "
    "otherwise, where Corollary 9 (cited: Theorem 8 on e^{d/C_u} keys) gives Ω(d e^{d/C_u}). Together: "
    "memory >= κ d min{n, e^{d/C_u}} for some κ > 0, i.e. Ω(d min{n, e^{Θ(d)}}); the printed e^d holds with "
    "e^{d/C_u} in its place.",
    relied_on=True,
)
def _check_theorem1():
    c, L, d, n, N1, B, kappa = sp.symbols("C_u L d n N1 B kappa", real=True)  # L = ln n, N1 = e^{d/C_u}
    lnN1 = sp.Symbol("ell", real=True)  # ln N1 = d / C_u
    regime = ge(d, c * L)
    base = [gt(c, 1), ge(L, 0), ge(d, 2)]
    return [
        Cited("Theorem 8: memory >= κ n d when d >= C_u ln n",
              "claims 'Theorem 8 exact threshold', 'Theorem 6 assembly: INDEX on n d bits' (reductions.thm6/thm8)"),
        Cited("Corollary 9: memory >= κ d e^{d/C_u} when d < C_u ln n (Theorem 8 on e^{d/C_u} <= n keys, "
              "zero-value padding to n steps)", "HO Corollary 9 (no proof printed; docs/theory.md §4)"),
        *exp_sign_certificates(),
        Implies(sp.And(sp.Implies(regime, le(L, lnN1)), sp.Implies(le(L, lnN1), regime)),
                hypotheses=[*base, sp.Eq(lnN1, d / c)], engine="z3",
                note="d >= C_u ln n iff ln n <= d/C_u = ln e^{d/C_u}, i.e. (exp increasing) iff n <= e^{d/C_u}"),
        Implies(le(L, d), hypotheses=[*base, regime], engine="z3",
                note="d >= C_u ln n => ln n <= d, so n <= e^d as well"),
        Implies(gt(L, lnN1), hypotheses=[*base, sp.Eq(lnN1, d / c), lt(d, c * L)], engine="z3",
                note="d < C_u ln n => ln n > d/C_u, so e^{d/C_u} < n"),
        Implies(sp.Or(sp.And(le(n, N1), ge(B, kappa * d * n)), sp.And(lt(N1, n), ge(B, kappa * d * N1))),
                hypotheses=[gt(kappa, 0), gt(d, 0), sp.Implies(le(n, N1), ge(B, kappa * n * d)),
                            sp.Implies(lt(N1, n), ge(B, kappa * d * N1))], engine="z3",
                note="both regimes: B >= κ d min{n, e^{d/C_u}}"),
    ]


# --- experiment: threshold -----------------------------------------------------------------

@dataclass(frozen=True)
class ThresholdConfig(ExperimentConfig):
    """Experiment ``threshold``: accuracy vs C for each η (quick preset = the defaults)."""

    n: int = param(512, low=2, doc="keys (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    etas: list = param([0.0, 0.1, 0.3, 0.5], low=0.0, high=1.0, high_open=True, doc="approximation factors η")
    c_points: int = param(14, low=2, doc="values of C per η")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    trials: int = param(3, low=1, doc="instances (public codebooks) per point")


THRESHOLD_PRESETS = {
    "quick": ThresholdConfig(),
    "paper": ThresholdConfig(n=2048, d=256, etas=[0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7], c_points=32, trials=3),
}


def threshold_base(config: dict) -> ExactOutputReduction:
    """The sweep's reduction before its public seed and C are set (HO Theorem 8's stream and query)."""
    return ExactOutputReduction(config["n"], config["d"], C=1.0, codebook=config["codebook"])


def threshold_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per trial: its exact message serves every ``(η, C)``; the C grid, fixed here from
    the trials' public codebooks (:func:`reductions.spike.sweep_c_grid`), travels with it."""
    n = config["n"]
    grid = sweep_c_grid(threshold_base(config), seed, config["trials"], n, config["etas"], threshold_C,
                        0.25 * math.log(n), config["c_points"])
    return [{"trial": trial, "C": grid} for trial in range(config["trials"])]


def threshold_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """Bob's accuracy at every ``(η, C)`` against the adversarial ``(1±η)`` approximation of one
    trial's exact message (:func:`reductions.spike.c_sweep_trial`)."""
    n, d = config["n"], config["d"]
    return c_sweep_trial(
        players, threshold_base(config), ExactCache("float64"), seed, unit["trial"], config["etas"], unit["C"],
        lambda r, C, eta: ExactOutputReduction(n, d, C, eta, r.codebook, r.public_seed), adversary_for, np.arange(n))


def threshold_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Accuracy vs C per η (HO Theorem 8), the exact threshold at each trial's measured ε (median and
    [min, max] over the trials' codebooks), the printed form and the hiding limit."""
    n, d = config["n"], config["d"]
    grid = list(dict.fromkeys(row["C"] for row in rows))
    eps_values = trial_eps(rows)
    eps, eps_interval = median_interval(eps_values)
    curves = c_curves(rows, config["etas"], grid)
    for curve in curves:
        eta = curve["eta"]
        theorem, interval = threshold_spread(n, eps_values, eta)
        curve.update(theorem_threshold=theorem, printed_threshold=printed_threshold_C(n, eta),
                     necessary_threshold=hiding_limit_C(n, eta), theorem_threshold_interval=interval)
    memory_bits, first_seed = rows[0]["memory_bits"], rows[0]["public_seed"]
    points = [
        {"cache": repr(adversary_for(ExactOutputReduction(n, d, curve["C"][k], curve["eta"], config["codebook"],
                                                          first_seed))),
         "family": "AdversarialApproximation", "eta": curve["eta"], "C": curve["C"][k],
         "memory_bits": memory_bits, "bits_encoded": n * d, "memory_ratio": memory_bits / (n * d),
         "accuracy": curve["accuracy"][k], "flipped_accuracy": curve["flipped_accuracy"][k],
         "hidden_fraction": curve["hidden_fraction"][k], "trials": config["trials"], "fano_max_accuracy": 1.0}
        for curve in curves for k in range(len(grid))
    ]
    return {"experiment": "threshold", "n": n, "d": d, "eps_measured": eps, "codebook": config["codebook"],
            "curves": curves, "points": points, "trials": config["trials"], "eps_interval": eps_interval,
            "note": SPREAD_NOTE}


def threshold_headline(summary: dict) -> str:
    """``barriers report``'s line: the exact thresholds at the smallest and largest η (median [min, max]
    over the trials' public codebooks, or "single draw" for one); below the hiding limit (η > 0) the
    highest accuracy of Bob and of the flipped decoder; at or above every trial's exact threshold
    Bob's lowest; accuracies with their 99% Wilson interval over the point's n·d·trials bits (or
    "single draw" where the counts are missing)."""
    from protocols.headline import percent, point_interval

    def shown(point: dict, key: str) -> str:
        interval = point_interval(point)
        if interval is None:
            return f"{100 * point[key]:.1f}% (single draw, no interval)"
        low, high = interval if key == "accuracy" else (1.0 - interval[1], 1.0 - interval[0])
        return percent(point[key], low, high)

    curves = summary.get("curves") or []
    hidden, decoded = [], []
    for curve in curves:
        members = [p for p in summary.get("points") or [] if p.get("eta") == curve["eta"]]
        above = (curve.get("theorem_threshold_interval") or [curve.get("theorem_threshold")])[-1]
        for point in members:
            point = {**point, "flipped_accuracy": 1.0 - point["accuracy"]}
            if curve.get("necessary_threshold") is not None and point["C"] < curve["necessary_threshold"]:
                hidden.append(point)
            if above is not None and point["C"] >= above:
                decoded.append(point)
    parts = []
    marked = sorted((c for c in curves if c.get("theorem_threshold") is not None and c.get("theorem_threshold_interval")),
                    key=lambda c: c["eta"])
    if marked and summary.get("eps_interval"):
        ends = [spread_shown(c["theorem_threshold"], c["theorem_threshold_interval"]) for c in (marked[0], marked[-1])]
        span = ends[0] if len(marked) == 1 else f"{ends[0]} at the smallest η to {ends[1]} at the largest"
        draws = summary.get("trials") or 1
        parts.append(f"exact threshold C* = [ln n + ln((1+η)/(1−η))]/(1−2ε) {span}, at the measured "
                     f"ε = {spread_shown(summary['eps_measured'], summary['eps_interval'], 3)} "
                     + (f"(median [min, max] over the {draws} trials' public codebooks)" if draws > 1
                        else "(one trial's public codebook)"))
    if hidden:
        bob = max(hidden, key=lambda p: p["accuracy"])
        flipped = max(hidden, key=lambda p: p["flipped_accuracy"])
        parts.append(f"below the hiding limit ln n + ln(η/(1−η)) ({len(hidden)} points, η > 0): "
                     f"Bob at most {shown(bob, 'accuracy')}, flipped decoder at most {shown(flipped, 'flipped_accuracy')}")
    if decoded:
        worst = min(decoded, key=lambda p: p["accuracy"])
        every = " of every trial's codebook" if (summary.get("trials") or 1) > 1 else ""
        parts.append(f"at or above the exact threshold{every} ({len(decoded)} points): "
                     f"Bob at least {shown(worst, 'accuracy')}")
    trials = sorted({p.get("trials") for p in hidden + decoded if p.get("trials")})
    if not hidden and not decoded:
        return "see figure"
    return "; ".join(parts) + f" (99% Wilson over n·d bits × {'/'.join(map(str, trials)) or '?'} instance(s) per point)"


EXPERIMENTS = [
    Experiment(
        "threshold", "HO Theorem 8", "thm8",
        "accuracy vs C for the worst (1±η) approximation, exact thresholds marked",
        THRESHOLD_PRESETS, threshold_sweep, threshold_measure, threshold_summary, "plots.figures:threshold_figure",
        headline="reductions.thm8:threshold_headline",
    ),
]
