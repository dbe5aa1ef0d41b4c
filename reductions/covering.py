"""Covering numbers of the unit ball: HO Lemma 13 (volume argument) and Lemma 14 (clusterability).

**Lemma 13.** ``N(B_2(1), ||·||_2, δ) <= (3/δ)^d`` for ``δ < 1``. Volume argument: a maximal
``δ``-separated set in the ball is a ``δ``-cover, and its ``δ/2``-balls are disjoint inside the
ball of radius ``1 + δ/2``, so it has at most ``((1 + δ/2)/(δ/2))^d = (1 + 2/δ)^d <= (3/δ)^d`` points.

**Lemma 14** (printed). Points with ``||x|| <= 1`` are ``(m, δ)``-clusterable (HO Definition 10:
``m`` clusters of diameter ``<= δ``) with ``m = ceil(e^d)`` and ``δ = e/3`` [sic twice, docs/theory.md §4]:
Lemma 13 at ``δ = e/3`` gives ``(9/e)^d``, not ``e^d`` (that needs ``δ = 3/e``), and a covering ball of
radius ``δ`` only bounds a cluster's diameter by ``2δ``. **Corrected:** cover with balls of radius
``δ/2`` (Lemma 13 at ``δ/2 <= 1``): ``(ceil((6/δ)^d), δ)``-clusterable for ``δ in (0, 2]``; at ``δ = e/3``
that is ``m = ceil((18/e)^d)``. The printed pair ``(ceil(e^d), 3/e)`` read as a *radius* gives diameter
``6/e > 2``, which every subset of the ball has anyway (one cluster suffices).

The measurement: greedy ``δ``-nets (:class:`caches.subgen.OnlineClustering` with no reservoir:
each point joins the nearest centre within ``δ`` or opens one) of dense uniform samples of the
ball. A greedy net is ``δ``-separated, so its size obeys the packing bound ``(1 + 2/δ)^d`` whatever
the sample; it covers the sample, and approaches a cover of the ball as the sample gets denser.
Experiment ``covering`` draws the net sizes against ``(3/δ)^d`` and the volume lower bound
``(1/δ)^d``, and Lemma 14's printed and corrected cluster counts and diameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.params import check_int
from caches.subgen import OnlineClustering
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from reductions.certify import claim
from reductions.monotone import power_increasing
from reductions.tactics import Cited, Counterexample, GridCheck, Identity, Implies, ge, gt

__all__ = [
    "LEMMA14_PRINTED_DELTA",
    "ball_sample",
    "greedy_net",
    "cluster_diameters",
    "lemma13_bound",
    "packing_bound",
    "volume_lower_bound",
    "corrected_clusters",
    "covering_sweep",
    "covering_measure",
    "covering_summary",
]

#: Lemma 14's printed cluster diameter ``δ = e/3``.
LEMMA14_PRINTED_DELTA = math.e / 3


def ball_sample(n: int, d: int, seed) -> np.ndarray:
    """``n`` points uniform in the unit ball of ``R^d`` from ``numpy.random.default_rng(seed)``."""
    n = check_int("n", n, 1)
    d = check_int("d", d, 1)
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((n, d))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points * rng.random((n, 1)) ** (1.0 / d)


def greedy_net(points, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy ``radius``-net of ``points`` in order: ``(centres, labels)`` (HO Lemma 13's cover).

    Each point joins its nearest centre within ``radius`` or becomes a centre; centres are pairwise
    more than ``radius`` apart and every point is within ``radius`` of its centre.
    """
    points = np.asarray(points, dtype=np.float64)
    net = OnlineClustering(points.shape[1], radius, 0)
    labels = net.add(points)
    return np.array(net.centres), labels


def cluster_diameters(points, labels, block_elements: int = 1 << 22) -> np.ndarray:
    """Largest pairwise distance inside each cluster (``0`` for singletons), in label order.

    Exact, in bounded memory: the squared distances ``|x|^2 + |y|^2 - 2 x.y`` of a cluster are
    formed a block of rows at a time against the rows from the block's first one on (the upper
    triangle), about ``block_elements`` entries per block, so a 40,000-point cluster never holds
    its ``n_c x n_c`` Gram matrix.
    """
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    out = np.zeros(int(labels.max()) + 1 if labels.size else 0)
    order = np.argsort(labels, kind="stable")
    bounds = np.r_[0, np.flatnonzero(np.diff(labels[order])) + 1, labels.size]
    for a, b in zip(bounds[:-1], bounds[1:]):
        members = points[order[a:b]]
        size = len(members)
        if size > 1:
            sq = np.einsum("ij,ij->i", members, members)
            rows = max(1, min(size, block_elements // size))
            best = 0.0
            for start in range(0, size, rows):
                stop = min(start + rows, size)
                block = members[start:stop] @ members[start:].T
                block *= -2.0
                block += sq[start:stop, None]
                block += sq[None, start:]
                best = max(best, float(block.max()))
            out[labels[order[a]]] = math.sqrt(max(0.0, best))
    return out


def lemma13_bound(d: int, delta: float) -> float:
    """HO Lemma 13: ``(3/δ)^d``."""
    return (3.0 / delta) ** d


def packing_bound(d: int, delta: float) -> float:
    """Volume bound on a ``δ``-separated set in the unit ball: ``(1 + 2/δ)^d``."""
    return (1.0 + 2.0 / delta) ** d


def volume_lower_bound(d: int, delta: float) -> float:
    """Any ``δ``-cover of the unit ball has at least ``(1/δ)^d`` balls (volume)."""
    return (1.0 / delta) ** d


def corrected_clusters(d: int, diameter: float) -> int:
    """Corrected Lemma 14: ``ceil((6/δ)^d)`` clusters of diameter ``<= δ`` (Lemma 13 at radius ``δ/2``)."""
    return math.ceil((6.0 / diameter) ** d - 1e-9)


# --- certificates ------------------------------------------------------------------------------

_DELTA = sp.Symbol("delta")
_VOLUME_CITE = Cited(
    "volume argument: a maximal δ-separated subset of the unit ball B_2(1) in R^d is a δ-cover, and the balls of "
    "radius δ/2 around its points are disjoint and lie in the ball of radius 1 + δ/2; comparing volumes "
    "(which scale as radius^d), N(B_2(1), ||.||_2, δ) <= ((1 + δ/2)/(δ/2))^d",
    "standard packing/covering duality (e.g. Vershynin, High-Dimensional Probability, §4.2)",
)





def _volume_ratio_certificates() -> list:
    """``((1 + δ/2)/(δ/2))^d = (1 + 2/δ)^d <= (3/δ)^d`` for ``δ = 1/(1+u)``, ``u >= 0`` (exactly ``δ in (0, 1]``)."""
    u = sp.Symbol("u", nonnegative=True)
    d = sp.Symbol("d", integer=True, positive=True)
    delta = 1 / (1 + u)
    w = u / (3 + 2 * u)  # 3/δ = (1 + 2/δ)(1 + w), w >= 0
    X, Y = sp.symbols("X Y", positive=True)
    return [
        Identity(((1 + delta / 2) / (delta / 2)) ** d, (1 + 2 / delta) ** d, where={_DELTA: delta},
                 note="((1+δ/2)/(δ/2))^d = (1 + 2/δ)^d"),
        Identity((3 / delta) ** d, (1 + 2 / delta) ** d * (1 + w) ** d, where={_DELTA: delta},
                 note="(3/δ)^d = (1 + 2/δ)^d (1 + w)^d with w = u/(3 + 2u) >= 0"),
        *power_increasing(),
        Implies(X * Y >= X, [Y >= 1], where={X: (1 + 2 / _DELTA) ** sp.Symbol("d"), Y: "(1 + w)^d >= 1 (power lemma)"},
                engine="z3", note="(1 + 2/δ)^d <= (3/δ)^d"),
    ]


def _diameter_certificates() -> list:
    """``||x - c|| <= ρ, ||y - c|| <= ρ  =>  ||x - y|| <= 2ρ`` in ``R^d`` (symbolic ``d``), and ``2ρ`` is attained."""
    i = sp.Symbol("i", integer=True)
    d = sp.Symbol("d", integer=True, positive=True)
    a, b, z = sp.IndexedBase("a", real=True), sp.IndexedBase("b", real=True), sp.IndexedBase("z", real=True)
    A, B, D, E = sp.symbols("A B D E", real=True)
    rho = sp.Symbol("rho", positive=True)
    square = lambda e: sp.Sum(e**2, (i, 1, d))  # noqa: E731
    return [
        Identity(square(a[i] + b[i]) + square(a[i] - b[i]), 2 * square(a[i]) + 2 * square(b[i]),
                 note="parallelogram law, symbolic d (a = x - c, b = c - y)"),
        Implies(ge(square(z[i]), 0), note="a sum of real squares is >= 0 (z = a - b)"),
        Implies(D <= 2 * rho, [sp.Eq(D**2 + E, 2 * A + 2 * B), E >= 0, A <= rho**2, B <= rho**2, D >= 0],
                where={D: "||x - y||", E: "||a - b||^2", A: "||x - c||^2", B: "||y - c||^2"}, engine="z3",
                note="||x - y||² <= 2||a||² + 2||b||² <= 4ρ²"),
        Identity(sp.Abs(rho - (-rho)), 2 * rho, note="c ± ρ e_1 are 2ρ apart: the bound is attained"),
    ]


@claim(
    name="Lemma 13 covering bound (volume argument)",
    source="HO Lemma 13",
    statement="N(B_2(1), ||.||_2, δ) <= (1 + 2/δ)^d <= (3/δ)^d for δ in (0, 1] and every integer d >= 1; for δ in "
    "[1, 3], (3/δ)^d >= 1 (one ball suffices); for δ > 3, (3/δ)^d < 1 <= N (the bound fails). The volume "
    "comparison is cited, the rest certified.",
    relied_on=True,
)
def _check_lemma13():
    w = sp.Symbol("w", positive=True)
    d = sp.Symbol("d", integer=True, positive=True)
    delta, Y, N = sp.symbols("delta Y N", real=True)
    return [
        _VOLUME_CITE,
        *_volume_ratio_certificates(),
        Implies(sp.And(3 / delta - 1 >= 0, 3 / delta - 1 <= 2), [delta >= 1, delta <= 3], engine="z3",
                note="δ in [1, 3] means 3/δ = 1 + w with w in [0, 2]: (3/δ)^d = (1 + w)^d >= 1 (power lemma)"),
        Implies(delta / 3 - 1 > 0, [delta > 3], engine="z3", note="δ > 3 means 3/δ = 1/(1 + w) with w = δ/3 - 1 > 0"),
        Identity((1 / (1 + w)) ** d, 1 / (1 + w) ** d, note="(1/(1+w))^d = 1/(1+w)^d"),
        Implies(1 / Y < N, [Y > 1, N >= 1], where={Y: "(1 + w)^d > 1 (power lemma, w > 0)", N: "a covering number"},
                engine="z3", note="(3/δ)^d = 1/(1+w)^d < 1 <= N for δ > 3"),
    ]


@claim(
    name="Lemma 13 volume ratio (1 + 2/δ)^d <= (3/δ)^d",
    source="HO Lemma 13",
    statement="For δ in (0, 1] and every integer d >= 1: ((1 + δ/2)/(δ/2))^d = (1 + 2/δ)^d <= (3/δ)^d "
    "(the algebra of Lemma 13's volume argument).",
    relied_on=True,
)
def _check_lemma13_ratio():
    return _volume_ratio_certificates()


@claim(
    name="Lemma 13 on dense samples",
    source="HO Lemma 13",
    statement="Greedy δ-nets of 3000 uniform samples of the unit ball (d in {1,2,3,4}, δ in {0.25, 0.5, 1}) are "
    "δ-separated, cover their sample within δ (float tolerance 1e-12) and have at most (1 + 2/δ)^d <= (3/δ)^d points.",
    relied_on=True,
)
def _check_lemma13_samples():
    size, gap, reach, d, delta = sp.symbols("N gap reach d delta", positive=True)
    points = []
    for dim in (1, 2, 3, 4):
        sample = ball_sample(3000, dim, [13, dim])
        for radius in (0.25, 0.5, 1.0):
            centres, labels = greedy_net(sample, radius)
            gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
            np.fill_diagonal(gaps, np.inf)
            far = np.linalg.norm(sample - centres[labels], axis=1).max()
            points.append({size: len(centres), gap: sp.Rational(float(gaps.min())) if len(centres) > 1 else 9,
                           reach: sp.Rational(float(far)), d: dim, delta: sp.Rational(radius)})
    return [
        GridCheck(size <= (1 + 2 / delta) ** d, points, note="net size <= packing bound at 12 (d, δ) samples"),
        GridCheck(gap > delta, points, note="centres pairwise more than δ apart"),
        GridCheck(reach <= delta + sp.Rational(1, 10**12), points, note="every sample point within δ of its centre"),
    ]


@claim(
    name="Lemma 14 as printed: Lemma 13 at δ = e/3 gives e^d clusters",
    source="HO Lemma 14 [sic]",
    statement="With δ = e/3, Lemma 13's bound (3/δ)^d equals e^d.",
    relied_on=False,
)
def _check_lemma14_count():
    d = sp.Symbol("d", integer=True, positive=True)
    printed = sp.Eq((3 / _DELTA) ** d, sp.exp(d))
    return [Counterexample(printed, {_DELTA: sp.E / 3, d: k}, note=f"(9/e)^{k} != e^{k}") for k in (1, 2, 3)]


@claim(
    name="Lemma 14 count corrected: Lemma 13 at δ = 3/e gives e^d clusters",
    source="HO Lemma 14, corrected (docs/theory.md §4)",
    statement="With δ = 3/e, Lemma 13's bound (3/δ)^d equals e^d for every d.",
    relied_on=False,
)
def _check_lemma14_count_corrected():
    d = sp.Symbol("d", real=True)
    return [Identity((3 / (3 / sp.E)) ** d, sp.exp(d), where={_DELTA: 3 / sp.E}, note="(3/(3/e))^d = e^d")]


@claim(
    name="Lemma 14 as printed: covering balls are clusters of diameter δ",
    source="HO Lemma 14 [sic]",
    statement="Any two points of the unit ball within δ = e/3 of a common centre (a ball of Lemma 13's δ-cover) "
    "are at most δ apart.",
    relied_on=False,
)
def _check_lemma14_diameter():
    x, y, c = sp.symbols("x y c", real=True)
    inside = sp.And(sp.Abs(x - c) <= _DELTA, sp.Abs(y - c) <= _DELTA, sp.Abs(x) <= 1, sp.Abs(y) <= 1)
    printed = sp.Implies(inside, sp.Abs(x - y) <= _DELTA)
    values = {x: sp.Rational(4, 5), y: sp.Rational(-4, 5), c: 0, _DELTA: sp.E / 3}
    return [Counterexample(printed, values, note="d = 1: ±4/5 lie within e/3 = 0.906 of 0 and are 8/5 apart")]


@claim(
    name="Lemma 14 diameter corrected: a ball of radius ρ has diameter <= 2ρ",
    source="HO Lemma 14, corrected (docs/theory.md §4)",
    statement="In R^d (any d >= 1), two points within ρ of a common centre are at most 2ρ apart, and 2ρ is "
    "attained; so clusters of diameter <= δ come from covering balls of radius δ/2.",
    relied_on=True,
)
def _check_lemma14_diameter_corrected():
    return _diameter_certificates()


@claim(
    name="Lemma 14 as printed: the statement in d <= 2",
    source="HO Lemma 14 (statement only)",
    statement="For d in {1, 2} the unit ball splits into ceil(e^d) sets of diameter <= e/3: d = 1, three "
    "intervals of length 2/3; d = 2, the disk of radius 9/20 and 7 annular sectors of angle 2π/7 (diameter "
    "<= 9/10). Cited: cos is even and decreasing on [0, π].",
    relied_on=False,
)
def _check_lemma14_small_d():
    x, y, lo, D, C = sp.symbols("x y lo D C", real=True)
    r1, r2 = sp.symbols("rho1 rho2", positive=True)
    f1, f2 = sp.symbols("phi1 phi2", real=True)
    a = sp.Rational(9, 20)
    return [
        Identity(sp.ceiling(sp.E, evaluate=False), 3, note="ceil(e) = 3"),
        Implies(sp.Or(x <= -sp.Rational(1, 3), sp.And(x >= -sp.Rational(1, 3), x <= sp.Rational(1, 3)),
                      x >= sp.Rational(1, 3)), [x >= -1, x <= 1], engine="z3",
                note="[-1, -1/3], [-1/3, 1/3], [1/3, 1] cover [-1, 1]"),
        Implies(sp.And(x - y <= sp.Rational(2, 3), y - x <= sp.Rational(2, 3)),
                [x >= lo, x <= lo + sp.Rational(2, 3), y >= lo, y <= lo + sp.Rational(2, 3)], engine="z3",
                note="an interval of length 2/3 has diameter 2/3"),
        Implies(gt(sp.E / 3, sp.Rational(9, 10)), note="e/3 > 9/10 > 2/3"),
        Identity(sp.ceiling(sp.E**2, evaluate=False), 8, note="ceil(e^2) = 8 = 1 disk + 7 sectors"),
        *_diameter_certificates(),
        Identity((r1 * sp.cos(f1) - r2 * sp.cos(f2)) ** 2 + (r1 * sp.sin(f1) - r2 * sp.sin(f2)) ** 2,
                 r1**2 + r2**2 - 2 * r1 * r2 * sp.cos(f1 - f2), note="law of cosines in polar coordinates"),
        Cited("cos is even and decreasing on [0, π], so |φ1 - φ2| <= 2π/7 gives cos(φ1 - φ2) >= cos(2π/7)",
              "elementary trigonometry"),
        Implies(gt(sp.cos(2 * sp.pi / 7), sp.Rational(31, 50)), note="cos(2π/7) > 0.62"),
        Implies(D <= sp.Rational(9, 10),
                [sp.Eq(D**2, r1**2 + r2**2 - 2 * r1 * r2 * C), D >= 0, C >= sp.Rational(31, 50),
                 r1 >= a, r1 <= 1, r2 >= a, r2 <= 1], where={C: sp.cos(f1 - f2)}, engine="z3",
                note="two points of a sector (radii in [9/20, 1], angles 2π/7 apart at most) are <= 9/10 apart; "
                "the disk of radius 9/20 has diameter <= 9/10 by the diameter lemma"),
    ]


@claim(
    name="Lemma 14 corrected",
    source="HO Lemma 14, corrected (docs/theory.md §4)",
    statement="Points in the unit ball are (ceil((6/δ)^d), δ)-clusterable for δ in (0, 2] and every d >= 1: a "
    "cover by balls of radius δ/2 <= 1 has at most (1 + 4/δ)^d <= (6/δ)^d balls (Lemma 13's volume argument, "
    "cited) and each ball has diameter <= δ; at δ = e/3, m = ceil((18/e)^d). Read as a radius, the printed "
    "(ceil(e^d), 3/e) gives diameter 6/e > 2, which the whole unit ball has anyway.",
    relied_on=True,
)
def _check_lemma14_corrected():
    delta = sp.Symbol("delta", positive=True)
    return [
        _VOLUME_CITE,
        Identity(3 / (delta / 2), 6 / delta, note="Lemma 13 at radius δ/2: 3/(δ/2) = 6/δ"),
        Identity(1 + 2 / (delta / 2), 1 + 4 / delta, note="(1 + 2/(δ/2)) = 1 + 4/δ"),
        *_volume_ratio_certificates(),
        *_diameter_certificates(),
        Identity(6 / (sp.E / 3), 18 / sp.E, note="6/(e/3) = 18/e"),
        Implies(gt(6 / sp.E, 2), note="6/e > 2 = diameter of the unit ball (diameter lemma, ρ = 1)"),
    ]


# --- experiment: covering ----------------------------------------------------------------------

@dataclass(frozen=True)
class CoveringConfig(ExperimentConfig):
    """Experiment ``covering``: greedy δ-nets and Lemma 14's clusters (quick preset = the defaults)."""

    d_values: list = param([1, 2, 3, 4], low=1, high=12, doc="dimensions d")
    deltas: list = param([0.25, 0.5, 1.0], low=0.0, high=2.0, low_open=True, doc="net radii δ")
    sample_sizes: list = param([2000, 8000], low=1, high=500_000, doc="ball-sample sizes (any order; run sorted)")
    seeds: int = param(1, low=1, high=50, doc="independent samples per (d, δ)")
    lemma14_draws: int = param(3, low=1, high=50, doc="independent samples per d for Lemma 14's clusters")


COVERING_PRESETS = {
    "quick": CoveringConfig(),
    "paper": CoveringConfig(d_values=[1, 2, 3, 4, 5], deltas=[0.2, 0.3, 0.5, 0.75, 1.0],
                            sample_sizes=[5000, 20000, 80000], seeds=2, lemma14_draws=5),
}


def _net_size_curve(d: int, radius: float, sizes: list[int], seed) -> list[int]:
    """Greedy-net size after each prefix length in ``sizes`` of one sample (the net only grows)."""
    points = ball_sample(max(sizes), d, seed)
    net, done, out = OnlineClustering(d, radius, 0), 0, []
    for n in sizes:
        net.add(points[done:n])
        done = n
        out.append(net.clusters)
    return out


def covering_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per greedy net (a dimension, a radius and a sample: Lemma 13) and one per dimension
    and sample (``lemma14_draws`` of them) for Lemma 14's printed and corrected clusters."""
    return ([{"part": "net", "d": d, "delta": delta, "seed_index": k} for d in config["d_values"]
             for delta in config["deltas"] for k in range(config["seeds"])]
            + [{"part": "lemma14", "d": d, "draw": k} for d in config["d_values"]
               for k in range(config["lemma14_draws"])])


def covering_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """A greedy ``δ``-net's size after each sample size (HO Lemma 13), or Lemma 14's clusters at ``δ = e/3``
    as printed (radius ``e/3``) and corrected (radius ``e/6``) with their largest diameters."""
    d = unit["d"]
    sizes = sorted(config["sample_sizes"])
    if unit["part"] == "net":
        delta, k = unit["delta"], unit["seed_index"]
        curve = _net_size_curve(d, delta, sizes, [seed, d, k, int(delta * 1000)])
        return [{"part": "net", "d": d, "delta": delta, "seed_index": k, "sample_size": n, "net_size": m}
                for n, m in zip(sizes, curve)]
    draw = unit.get("draw", 0)
    sample = ball_sample(sizes[-1], d, [seed, d, 14, draw])
    printed_centres, printed_labels = greedy_net(sample, LEMMA14_PRINTED_DELTA)
    fixed_centres, fixed_labels = greedy_net(sample, LEMMA14_PRINTED_DELTA / 2)
    return [{
        "part": "lemma14",
        "d": d,
        "draw": draw,
        "printed_m": math.ceil(math.e**d),
        "printed_lemma13": lemma13_bound(d, LEMMA14_PRINTED_DELTA),
        "printed_net": len(printed_centres),
        "printed_max_diameter": float(cluster_diameters(sample, printed_labels).max()),
        "corrected_m": corrected_clusters(d, LEMMA14_PRINTED_DELTA),
        "corrected_net": len(fixed_centres),
        "corrected_max_diameter": float(cluster_diameters(sample, fixed_labels).max()),
        "diameter": LEMMA14_PRINTED_DELTA,
    }]


def covering_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per ``(d, δ)``: the mean and largest final net size, the mean size per sample size, and the
    bounds ``(3/δ)^d``, ``(1 + 2/δ)^d`` and ``(1/δ)^d``; Lemma 14: per d the row of draw 0's sample
    as measured, with every draw's net sizes and largest diameters beside it (``*_draws``)."""
    sizes = sorted(config["sample_sizes"])
    curves: dict[tuple, dict[int, list[int]]] = {}
    for row in rows:
        if row["part"] == "net":
            curves.setdefault((row["d"], row["delta"]), {}).setdefault(row["seed_index"], []).append(row["net_size"])
    points = []
    for d in config["d_values"]:
        for delta in config["deltas"]:
            runs = list(curves[d, delta].values())
            final = [c[-1] for c in runs]
            points.append({
                "d": d, "delta": delta, "net_size": float(np.mean(final)), "net_size_max": max(final),
                "net_size_by_sample": [float(np.mean([c[j] for c in runs])) for j in range(len(sizes))],
                "lemma13": lemma13_bound(d, delta), "packing": packing_bound(d, delta),
                "volume": volume_lower_bound(d, delta),
            })
    lemma14_rows = [row for row in rows if row["part"] == "lemma14"]
    lemma14 = []
    for row in lemma14_rows:
        if row.get("draw", 0) != 0:
            continue
        first = {key: value for key, value in row.items() if key not in ("part", "draw")}
        same = sorted((r for r in lemma14_rows if r["d"] == row["d"]), key=lambda r: r.get("draw", 0))
        first["draws"] = len(same)
        for key in ("printed_net", "printed_max_diameter", "corrected_net", "corrected_max_diameter"):
            first[f"{key}_draws"] = [r[key] for r in same]
        lemma14.append(first)
    return {
        "experiment": "covering",
        "d_values": config["d_values"],
        "deltas": config["deltas"],
        "sample_sizes": sizes,
        "points": points,
        "lemma14": lemma14,
    }


def covering_headline(summary: dict) -> str:
    """``barriers report``'s line: greedy nets against the volume bound (1/δ)^d and Lemma 13's (3/δ)^d
    (net sizes are counts from one seeded sample each; the bounds exact), and Lemma 14's clusters:
    largest diameter, printed vs corrected radius, against e/3, over the independent samples per d:
    median [min, max] (k draws) and how many samples cross e/3."""
    import math
    from fractions import Fraction

    from protocols.headline import exact, over_draws, spread

    points = summary.get("points") or []
    parts = []
    if points:
        inside = sum(1 for p in points if p["volume"] <= p["net_size_max"] <= p["lemma13"])
        big = max(points, key=lambda p: (p["d"], -p["delta"]))
        parts.append(f"{inside} of {len(points)} greedy nets lie between (1/δ)^d and (3/δ)^d "
                     f"(d = {big['d']}, δ = {Fraction(big['delta']).limit_denominator(1000)}: "
                     f"{big['net_size_max']} of at most {int(big['lemma13']):,})")
    lemma14 = summary.get("lemma14") or []
    if lemma14:
        printed = {r["d"]: r.get("printed_max_diameter_draws") or [r["printed_max_diameter"]] for r in lemma14}
        corrected = {r["d"]: r.get("corrected_max_diameter_draws") or [r["corrected_max_diameter"]] for r in lemma14}
        low = min(printed, key=lambda d: float(np.median(printed[d])))
        high = max(printed, key=lambda d: float(np.median(printed[d])))
        samples = sum(len(v) for v in printed.values())
        above = sum(1 for v in printed.values() for x in v if x > math.e / 3)
        below = sum(1 for v in corrected.values() for x in v if x <= math.e / 3)
        # per sample index, the worst (largest) corrected diameter over d: a worst case within each draw
        draws = min(len(v) for v in corrected.values())
        worst = [max(v[k] for v in corrected.values()) for k in range(draws)]
        if all(len(v) == 1 for v in printed.values()):  # one sample per d
            parts.append(f"printed Lemma 14's clusters reach diameter "
                         f"{spread([v[0] for v in printed.values()], 'single draw each')} > e/3 = "
                         f"{exact(math.e / 3, 3)}; with radius e/6 at most {max(worst):.3f} (single draw)")
            return "; ".join(parts)
        parts.append(f"printed Lemma 14's clusters reach diameter {over_draws(printed[low])} (d = {low}) to "
                     f"{over_draws(printed[high])} (d = {high}) against e/3 = {exact(math.e / 3, 3)}, above it in "
                     f"{above} of {samples} samples; with radius e/6 the largest diameter over d is at most "
                     f"{over_draws(worst, 3)} (per draw the worst d; the high end is the worst draw), "
                     f"within e/3 in {below} of {samples} samples")
    return "; ".join(parts) or "see figure"


EXPERIMENTS = [
    Experiment(
        "covering", "HO Lemmas 13-14", "thm15",
        "greedy δ-nets of dense ball samples vs (3/δ)^d; Lemma 14 printed vs corrected",
        COVERING_PRESETS, covering_sweep, covering_measure, covering_summary, "plots.lowdim:covering_figure", headline="reductions.covering:covering_headline", uses_game=False,
    ),
]
