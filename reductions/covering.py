"""Covering numbers of the unit ball: HO Lemma 13 (volume argument) and Lemma 14 (clusterability).

**Lemma 13.** ``N(B_2(1), ||·||_2, δ) <= (3/δ)^d`` for ``δ < 1``. Volume argument: a maximal
``δ``-separated set in the ball is a ``δ``-cover, and its ``δ/2``-balls are disjoint inside the
ball of radius ``1 + δ/2``, so it has at most ``((1 + δ/2)/(δ/2))^d = (1 + 2/δ)^d <= (3/δ)^d`` points.

**Lemma 14** (printed). Points with ``||x|| <= 1`` are ``(m, δ)``-clusterable (HO Definition 10:
``m`` clusters of diameter ``<= δ``) with ``m = ceil(e^d)`` and ``δ = e/3`` [sic twice, THEORY §4]:
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

import numpy as np
import sympy as sp

from caches.params import ParameterError, check_int, check_real
from caches.subgen import OnlineClustering
from protocols.experiment import Experiment
from reductions.certify import Verdict, claim, failed, proved, refuted, verified_on_grid

__all__ = [
    "LEMMA14_PRINTED_DELTA",
    "ball_sample",
    "greedy_net",
    "cluster_diameters",
    "lemma13_bound",
    "packing_bound",
    "volume_lower_bound",
    "corrected_clusters",
    "run_covering",
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


def cluster_diameters(points, labels) -> np.ndarray:
    """Largest pairwise distance inside each cluster (``0`` for singletons), in label order."""
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    out = np.zeros(int(labels.max()) + 1 if labels.size else 0)
    order = np.argsort(labels, kind="stable")
    bounds = np.r_[0, np.flatnonzero(np.diff(labels[order])) + 1, labels.size]
    for a, b in zip(bounds[:-1], bounds[1:]):
        members = points[order[a:b]]
        if len(members) > 1:
            gram = members @ members.T
            sq = np.diag(gram)
            out[labels[order[a]]] = math.sqrt(max(0.0, float(np.max(sq[:, None] + sq[None, :] - 2 * gram))))
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


@claim(
    name="Lemma 13 covering bound (volume argument)",
    source="HO Lemma 13",
    statement="N(B_2(1), ||.||_2, δ) <= (1 + 2/δ)^d <= (3/δ)^d for δ in (0, 1]; the bound (3/δ)^d also holds "
    "for δ in [1, 3] (one ball suffices) and fails for δ > 3.",
    relied_on=True,
)
def _check_lemma13() -> Verdict:
    delta = sp.symbols("delta", positive=True)
    u = sp.symbols("u", positive=True)
    # δ in (0, 1]  <=>  δ = 1/(1+u), u >= 0;  3/δ - (1 + 2/δ) = (1 - δ)/δ
    gap = sp.simplify((3 / delta - (1 + 2 / delta)).subs(delta, 1 / (1 + u)))
    ratio = sp.simplify(((1 + delta / 2) / (delta / 2)) - (1 + 2 / delta))
    above = sp.simplify(1 - (3 / delta).subs(delta, 3 + u))  # 1 - 3/(3+u) > 0: the bound drops below 1
    if not (gap.is_nonnegative and ratio == 0 and above.is_positive):
        return failed(f"residuals: gap {gap}, ratio {ratio}, above-3 value {above}")
    return proved(
        "the δ/2-balls around a maximal δ-separated set (which is a δ-cover) are disjoint inside the ball "
        "of radius 1+δ/2, so by volume (cited) there are at most ((1+δ/2)/(δ/2))^d points; sympy: "
        f"(1+δ/2)/(δ/2) - (1+2/δ) = {ratio} and, at δ = 1/(1+u), 3/δ - (1+2/δ) = {gap} >= 0. For δ in [1, 3] "
        f"N = 1 <= (3/δ)^d; for δ = 3+u, 1 - 3/δ = {above} > 0, so (3/δ)^d < 1 <= N: the bound fails above 3"
    )


@claim(
    name="Lemma 13 on dense samples",
    source="HO Lemma 13",
    statement="Greedy δ-nets of uniform samples of the unit ball are δ-separated covers of the sample "
    "with at most (1 + 2/δ)^d <= (3/δ)^d points.",
    relied_on=True,
)
def _check_lemma13_samples() -> Verdict:
    worst = (0.0, None)
    for d in (1, 2, 3, 4):
        points = ball_sample(3000, d, [13, d])
        for delta in (0.25, 0.5, 1.0):
            centres, labels = greedy_net(points, delta)
            gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
            np.fill_diagonal(gaps, np.inf)
            reach = np.linalg.norm(points - centres[labels], axis=1).max()
            if gaps.min() <= delta or reach > delta + 1e-12 or len(centres) > packing_bound(d, delta):
                return failed(f"d={d}, δ={delta}: separation {gaps.min():.4f}, reach {reach:.4f}, size {len(centres)}")
            ratio = len(centres) / lemma13_bound(d, delta)
            if ratio > worst[0]:
                worst = (ratio, (d, delta, len(centres)))
    return verified_on_grid(
        "3000 uniform points per d in {1,2,3,4}, δ in {0.25, 0.5, 1}: every greedy net is δ-separated, covers "
        "its sample within δ and has at most (1+2/δ)^d points; largest size/(3/δ)^d = "
        f"{worst[0]:.3f} at (d, δ, size) = {worst[1]}"
    )


@claim(
    name="Lemma 14 as printed: Lemma 13 at δ = e/3 gives e^d clusters",
    source="HO Lemma 14 [sic]",
    statement="With δ = e/3, Lemma 13's bound (3/δ)^d equals e^d.",
    relied_on=False,
)
def _check_lemma14_count() -> Verdict:
    base = sp.nsimplify(3 / (sp.E / 3))
    excess = sp.simplify(base - sp.E)
    if not (sp.simplify(base - 9 / sp.E) == 0 and excess.is_positive):
        return failed(f"3/(e/3) = {base}, excess {excess}")
    fixed = sp.simplify(3 / (3 / sp.E))
    values = {k: float((9 / sp.E) ** k) for k in (1, 2, 3)}
    return refuted(
        f"sympy: 3/(e/3) = 9/e and 9/e - e = {excess} > 0 (9 > e^2), so (3/δ)^d = (9/e)^d > e^d for every "
        f"d >= 1: d=1: {values[1]:.3f} > e; d=2: {values[2]:.2f} > e^2 = {math.e**2:.2f} (ceil 8); d=3: "
        f"{values[3]:.2f} > {math.e**3:.2f}. The count e^d needs δ = 3/e (3/(3/e) = {fixed})"
    )


@claim(
    name="Lemma 14 as printed: covering balls are clusters of diameter δ",
    source="HO Lemma 14 [sic]",
    statement="The balls of a δ-cover (δ = e/3) are clusters of diameter <= δ in the sense of Definition 10.",
    relied_on=False,
)
def _check_lemma14_diameter() -> Verdict:
    points = ball_sample(4000, 2, [14, 2])
    centres, labels = greedy_net(points, LEMMA14_PRINTED_DELTA)
    diameters = cluster_diameters(points, labels)
    worst = int(np.argmax(diameters))
    if not diameters[worst] > LEMMA14_PRINTED_DELTA:
        return failed(f"largest cluster diameter {diameters[worst]:.4f} is not above e/3")
    members = points[labels == worst]
    dist = np.linalg.norm(members[:, None] - members[None, :], axis=2)
    a, b = np.unravel_index(np.argmax(dist), dist.shape)
    return refuted(
        f"greedy e/3-net of 4000 uniform points in the unit disk (seed [14, 2]): {len(centres)} balls; the ball "
        f"around ({centres[worst][0]:.4f}, {centres[worst][1]:.4f}) holds ({members[a][0]:.4f}, {members[a][1]:.4f}) "
        f"and ({members[b][0]:.4f}, {members[b][1]:.4f}) at distance {dist[a, b]:.4f} > e/3 = "
        f"{LEMMA14_PRINTED_DELTA:.4f}. A radius-δ ball has diameter 2δ; clusters of diameter δ need radius δ/2"
    )


@claim(
    name="Lemma 14 as printed: the statement in d <= 2",
    source="HO Lemma 14 (statement only)",
    statement="For d in {1, 2} the unit ball splits into ceil(e^d) sets of diameter <= e/3.",
    relied_on=False,
)
def _check_lemma14_small_d() -> Verdict:
    # d = 1: [-1, 1] into 3 intervals of length 2/3 < e/3.  d = 2: a central disk of radius 9/20 and
    # 7 annular sectors of angle 2π/7 between radii 9/20 and 1: 8 = ceil(e^2) sets.
    third = sp.Rational(2, 3)
    rho, theta = sp.Rational(9, 20), 2 * sp.pi / 7
    chord = 2 * sp.sin(theta / 2)
    diagonal = sp.sqrt(rho**2 + 1 - 2 * rho * sp.cos(theta))
    pieces = [2 * rho, chord, diagonal, 1 - rho, 2 * rho * sp.sin(theta / 2)]
    target = sp.E / 3
    ok = bool(third < target) and all(bool(sp.N(p - target, 30) < 0) for p in pieces)
    if not (ok and sp.ceiling(sp.E) == 3 and sp.ceiling(sp.E**2) == 8):
        return failed(f"pieces {[float(p) for p in pieces]} vs e/3 = {float(target):.4f}")
    return proved(
        "d = 1: three intervals of length 2/3 < e/3 = 0.906 (ceil(e) = 3). d = 2: a disk of radius 9/20 "
        "(diameter 0.9) and 7 sectors of angle 2π/7 between radii 9/20 and 1, whose diameter is the largest "
        f"distance between corners: outer chord 2 sin(π/7) = {float(chord):.4f}, diagonal "
        f"{float(diagonal):.4f}, radial 0.55, all < e/3 (30-digit evaluation), 8 = ceil(e^2) sets. The "
        "statement is therefore true for d <= 2; for d >= 3 it is neither proved by the printed argument nor "
        "refuted here (a packing counterexample would need more than e^d points pairwise > e/3 apart, "
        "beyond known packing densities)"
    )


@claim(
    name="Lemma 14 corrected",
    source="HO Lemma 14, corrected (THEORY §4)",
    statement="Points in the unit ball are (ceil((6/δ)^d), δ)-clusterable for δ in (0, 2]; at δ = e/3, "
    "m = ceil((18/e)^d). Read as a radius, the printed (ceil(e^d), 3/e) gives diameter 6/e > 2 (trivial).",
    relied_on=True,
)
def _check_lemma14_corrected() -> Verdict:
    delta = sp.symbols("delta", positive=True)
    count = sp.simplify((3 / (delta / 2)) - 6 / delta)
    at_printed = sp.simplify(6 / (sp.E / 3) - 18 / sp.E)
    trivial = sp.N(6 / sp.E - 2, 30)
    if not (count == 0 and at_printed == 0 and trivial > 0):
        return failed(f"residuals {count}, {at_printed}, {trivial}")
    worst = 0.0
    for d in (1, 2, 3):
        points = ball_sample(3000, d, [15, d])
        for diameter in (0.5, LEMMA14_PRINTED_DELTA, 1.5):
            centres, labels = greedy_net(points, diameter / 2)
            diameters = cluster_diameters(points, labels)
            if diameters.max() > diameter + 1e-12 or len(centres) > corrected_clusters(d, diameter):
                return failed(f"d={d}, δ={diameter:.3f}: {len(centres)} clusters, diameter {diameters.max():.4f}")
            worst = max(worst, float(diameters.max() / diameter))
    return proved(
        f"Lemma 13 at radius δ/2 <= 1: sympy 3/(δ/2) - 6/δ = {count}; a radius-δ/2 ball has diameter <= δ "
        f"(triangle inequality); at δ = e/3, 6/δ - 18/e = {at_printed} (18/e = {18 / math.e:.3f}); 6/e - 2 = "
        f"{float(trivial):.4f} > 0. Sanity on 3000-point samples, d in {{1,2,3}}, δ in {{0.5, e/3, 1.5}}: greedy "
        f"radius-δ/2 clusters number <= ceil((6/δ)^d) with diameter <= δ (largest diameter/δ = {worst:.3f})"
    )


# --- experiment: covering ----------------------------------------------------------------------

COVERING_PRESETS = {
    "quick": {"d_values": [1, 2, 3, 4], "deltas": [0.25, 0.5, 1.0], "sample_sizes": [2000, 8000], "seeds": 1},
    "paper": {"d_values": [1, 2, 3, 4, 5], "deltas": [0.2, 0.3, 0.5, 0.75, 1.0],
              "sample_sizes": [5000, 20000, 80000], "seeds": 2},
}


def validate_covering(config: dict) -> dict:
    """Check a ``covering`` configuration; a clear error names the bad key."""
    ds = [check_int("d_values[]", d, 1, 12) for d in config["d_values"]]
    deltas = [check_real("deltas[]", x, 0.0, 2.0, low_open=True) for x in config["deltas"]]
    sizes = sorted(check_int("sample_sizes[]", n, 1, 500_000) for n in config["sample_sizes"])
    if not ds or not deltas or not sizes:
        raise ParameterError("d_values, deltas and sample_sizes must each list at least one value")
    check_int("seeds", config["seeds"], 1, 50)
    return {**config, "d_values": ds, "deltas": deltas, "sample_sizes": sizes}


def _net_size_curve(d: int, radius: float, sizes: list[int], seed) -> list[int]:
    """Greedy-net size after each prefix length in ``sizes`` of one sample (the net only grows)."""
    points = ball_sample(max(sizes), d, seed)
    net, done, out = OnlineClustering(d, radius, 0), 0, []
    for n in sizes:
        net.add(points[done:n])
        done = n
        out.append(net.clusters)
    return out


def run_covering(config: dict, seed: int, bob=None, progress=None) -> dict:
    """Greedy δ-nets of dense ball samples (Lemma 13) and Lemma 14's clusters, printed vs corrected."""
    config = validate_covering(config)
    sizes = config["sample_sizes"]
    points, trials = [], []
    for d in config["d_values"]:
        for delta in config["deltas"]:
            curves = [_net_size_curve(d, delta, sizes, [seed, d, k, int(delta * 1000)]) for k in range(config["seeds"])]
            for k, curve in enumerate(curves):
                trials.extend({"d": d, "delta": delta, "seed_index": k, "sample_size": n, "net_size": m}
                              for n, m in zip(sizes, curve))
            final = [c[-1] for c in curves]
            points.append({
                "d": d, "delta": delta, "net_size": float(np.mean(final)), "net_size_max": max(final),
                "net_size_by_sample": [float(np.mean([c[j] for c in curves])) for j in range(len(sizes))],
                "lemma13": lemma13_bound(d, delta), "packing": packing_bound(d, delta),
                "volume": volume_lower_bound(d, delta),
            })
        if progress:
            progress(1)
    lemma14 = []
    for d in config["d_values"]:
        sample = ball_sample(sizes[-1], d, [seed, d, 14])
        printed_centres, printed_labels = greedy_net(sample, LEMMA14_PRINTED_DELTA)
        fixed_centres, fixed_labels = greedy_net(sample, LEMMA14_PRINTED_DELTA / 2)
        lemma14.append({
            "d": d,
            "printed_m": math.ceil(math.e**d),
            "printed_lemma13": lemma13_bound(d, LEMMA14_PRINTED_DELTA),
            "printed_net": len(printed_centres),
            "printed_max_diameter": float(cluster_diameters(sample, printed_labels).max()),
            "corrected_m": corrected_clusters(d, LEMMA14_PRINTED_DELTA),
            "corrected_net": len(fixed_centres),
            "corrected_max_diameter": float(cluster_diameters(sample, fixed_labels).max()),
            "diameter": LEMMA14_PRINTED_DELTA,
        })
        if progress:
            progress(1)
    summary = {
        "experiment": "covering",
        "d_values": config["d_values"],
        "deltas": config["deltas"],
        "sample_sizes": sizes,
        "points": points,
        "lemma14": lemma14,
    }
    return {"summary": summary, "trials": trials}


EXPERIMENTS = [
    Experiment(
        "covering", "HO Lemmas 13-14", "thm15",
        "greedy δ-nets of dense ball samples vs (3/δ)^d; Lemma 14 printed vs corrected",
        COVERING_PRESETS, run_covering, lambda config: 2 * len(config["d_values"]),
        "plots.lowdim:covering_figure", uses_game=False,
    ),
]
