"""Experiments ``budget_c`` and ``designed_memory``: where the ``budget`` ranking holds, and what it costs.

``budget`` (:mod:`reductions.budget`) plays the zoo at HO Theorem 6's query scale
``C = 2 ln n/(1-2ε)``. That scale is generous: the spike's margin over the other keys,
``C(1-2ε) - ln n`` (docs/theory.md §3), is ``ln n`` there, and a compressor that blurs the scores
(SimHash angles, a 16-dimensional sign sketch) still leaves the spike on top. Exact attention needs
far less. Two experiments approach the lower bound from below:

* ``budget_c``: the same game for a representative subset of the zoo at three values of C (the
  paper's; 5% above eq. 16's threshold ``ln n/(1-2ε)``; the smallest C on a grid at which exact
  attention decodes every bit of every trial). The last is fixed before any game from the public
  codebooks alone: the smallest grid C at which exact attention decodes *every* instance on each
  trial's codebook (worst case over Alice's bits, :func:`certain_for_every_instance`), which Bob
  could compute himself; the game then plays :class:`caches.exact.ExactCache` (float64) there like
  every other cache. Units ``(C label, cache, trial)``. With ``exact_grid`` (paper preset) the exact
  cache is also played at every grid C below it, one message per trial (units ``("grid", exact,
  trial)``), which gives the smallest C at which the trials' own instances decode.
* ``designed_memory``: the memory :class:`caches.designed.HashedBitsCache` needs for 99% accuracy as
  ``n`` grows (smallest-memory member whose pooled 99% Wilson lower bound reaches the target),
  against ``n·d`` and ``n·d + n log2 n``, with the slope of log memory on log n.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from caches.designed import HashedBitsCache
from caches.exact import ExactCache
from caches.params import ParameterError
from caches.spec import build
from caches.zoo import families, family_of, zoo_caches
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows, score, trial_input, trial_rows
from reductions.budget import check_codebook, family_table
from reductions.jl import CODEBOOKS
from reductions.spike import SUCCESS_ACCURACY, c_grid, decision_threshold, paper_C, threshold_C
from reductions.thm6 import ExactOutputReduction

# --- budget_c --------------------------------------------------------------------------------

#: The reference whose decoding defines the smallest working C; always played.
REFERENCE = ExactCache("float64")
#: The three query scales, in the order of the summary and the figure's panels.
C_LABELS = ("paper", "threshold", "smallest")
C_TITLES = {"paper": "paper's C", "threshold": "just above eq. 16", "smallest": "smallest working C"}
BUDGET_C_FAMILIES = ["ExactCache", "QuantizedCache", "QJLCache", "HashedBitsCache", "WindowCache"]


@dataclass(frozen=True)
class BudgetCConfig(ExperimentConfig):
    """Experiment ``budget_c``: accuracy vs memory at three query scales C (quick preset = the defaults)."""

    n: int = param(512, low=2, doc="keys (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(1, low=1, doc="instances per cache and C")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    families: list = param(["ExactCache", "QJLCache", "HashedBitsCache"],
                           doc="zoo families played, a non-empty list of family names (paper: also KIVI and window)")
    max_ratio: float = param(1.6, low=0.0, low_open=True,
                             doc="members whose budget exceeds max_ratio·n·d are dropped (exact float64 always plays)")
    min_ratio: float = param(1.0, low=0.0,
                             doc="members whose budget is below min_ratio·n·d are dropped (0: none)")
    above_threshold: float = param(0.05, low=0.0, low_open=True, high=1.0,
                                   doc="the 'threshold' C is (1 + above_threshold) × eq. 16's threshold")
    grid_low: float = param(0.5, low=0.0, low_open=True, doc="smallest grid C, in units of ln n")
    grid_high: float = param(2.0, low=0.0, low_open=True, doc="largest grid C, in units of ln n")
    grid_points: int = param(24, low=2, high=256, doc="grid values of C (evenly spaced in log C)")
    report_ratio: float = param(1.6, low=0.0, low_open=True,
                                doc="the headline's best accuracy per family is over members with ratio <= this")
    rows: int | None = param(None, doc="rows Bob decodes per trial, a uniform sample (null: all n rows)")
    exact_grid: bool = param(False, doc="also play exact float64 at every grid C below the smallest working C "
                                        "(the smallest C at which these instances decode, a diagnostic)")

    def check(self) -> None:
        if not self.families:
            raise ParameterError("families must be a non-empty list of family names")
        families(self.families)
        if self.min_ratio > self.max_ratio:
            raise ParameterError(f"min_ratio ({self.min_ratio}) must not exceed max_ratio ({self.max_ratio})")
        if self.grid_high <= self.grid_low:
            raise ParameterError(f"grid_high ({self.grid_high}) must exceed grid_low ({self.grid_low})")
        if self.rows is not None and not 1 <= self.rows <= self.n:
            raise ParameterError(f"rows must be in [1, n={self.n}], got {self.rows}")

    def check_before_run(self) -> None:
        check_codebook(ExactOutputReduction(self.n, self.d, codebook=self.codebook))


BUDGET_C_PRESETS = {
    "quick": BudgetCConfig(),
    "paper": BudgetCConfig(n=2048, trials=2, families=BUDGET_C_FAMILIES, max_ratio=3.0,
                           min_ratio=0.0, exact_grid=True),
}


def budget_c_players(config: dict) -> list:
    """The exact float64 reference, then every member of the chosen families with a budget between
    ``min_ratio`` and ``max_ratio`` times ``n·d``."""
    n, d = config["n"], config["d"]
    playing = [REFERENCE]
    for cache in zoo_caches(n, d, config["families"]):
        if repr(cache) != repr(REFERENCE) and \
                config["min_ratio"] * n * d <= cache.budget_bits(n, d) <= config["max_ratio"] * n * d:
            playing.append(cache)
    return playing


def certain_for_every_instance(reduction: ExactOutputReduction, C: float) -> bool:
    """Whether exact attention at query scale ``C`` decodes every bit of *every* instance on this
    public codebook, computed from the codebook alone (no game data, no cache).

    Bob's row ``i`` has scores ``s_l = C <k_i, k_l>`` over Alice's keys and 0 on his own token (value
    0), so ``Z_i = 1 + Σ_l e^{s_l}``. Whatever Alice's bits, a 1 at ``(i, j)`` gives an output at least
    ``e^{s_i}/Z_i`` (every other row 0 in column j) and a 0 at most ``(Z_i - 1 - e^{s_i})/Z_i`` (every
    other row 1); both must lie on the right side of Bob's threshold (docs/theory.md §3).
    """
    import numpy as np

    keys = reduction.keys
    tau = decision_threshold(C, reduction.eps, reduction.n)
    for start in range(0, keys.shape[0], 1024):
        scores = C * keys[start:start + 1024] @ keys.T
        top = np.maximum(scores.max(axis=1), 0.0)
        weights = np.exp(scores - top[:, None])
        own = np.exp(-top)
        spike = weights[np.arange(weights.shape[0]), np.arange(start, start + weights.shape[0])]
        total = weights.sum(axis=1) + own
        if not (np.all(spike / total > tau) and np.all((total - own - spike) / total < tau)):
            return False
    return True


def query_scales(config: dict, seed: int) -> dict:
    """:func:`scales_for` of the config's fields (computed once per configuration and seed)."""
    return dict(scales_for(config["n"], config["d"], config["codebook"], config["trials"], config["grid_low"],
                           config["grid_high"], config["grid_points"], config["above_threshold"], seed))


@functools.lru_cache(maxsize=8)
def scales_for(n: int, d: int, codebook: str, trials: int, grid_low: float, grid_high: float, grid_points: int,
               above_threshold: float, seed: int) -> dict:
    """The paper's C and the eq. 16 point at the trials' largest measured ε (so each holds for every
    trial's codebook), and the smallest C of the grid (multiples of ``ln n``) at which exact attention
    decodes every instance on every trial's public codebook (:func:`certain_for_every_instance`)."""
    base = ExactOutputReduction(n, d, codebook=codebook)
    reductions = [check_codebook(trial_input(base, seed, t)[0]) for t in range(trials)]
    eps = max(r.eps for r in reductions)
    grid = c_grid(grid_low * math.log(n), grid_high * math.log(n), grid_points)
    smallest = next((C for C in grid if all(certain_for_every_instance(r, C) for r in reductions)), None)
    return {"eps_max": eps, "paper": paper_C(n, eps),
            "threshold": (1 + above_threshold) * threshold_C(n, eps, 0.0),
            "eq16_threshold": threshold_C(n, eps, 0.0), "grid": grid, "smallest": smallest}


def budget_c_sweep(config: dict, seed: int) -> list[dict]:
    """Units ``(C label, cache, trial)``, each carrying its C (fixed from the public codebooks)."""
    scales = query_scales(config, seed)
    units = [{"C_label": label, "C": scales[label], "cache": frozen_spec(cache), "trial": trial}
             for label in C_LABELS if scales[label] is not None
             for cache in budget_c_players(config) for trial in range(config["trials"])]
    below = [C for C in scales["grid"] if scales["smallest"] is None or C < scales["smallest"]]
    if config.get("exact_grid") and below:  # one message of Alice per trial, Bob at every C below
        units += [{"C_label": "grid", "C": below, "cache": frozen_spec(REFERENCE), "trial": trial}
                  for trial in range(config["trials"])]
    return units


def budget_c_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One game of HO Theorem 6's INDEX at the unit's C: the unit's cache on the unit's trial (a
    "grid" unit: Alice's message once, Bob at each of its C values)."""
    if isinstance(unit["C"], list):
        return grid_measure(config, unit, seed, players)
    reduction = ExactOutputReduction(config["n"], config["d"], C=float(unit["C"]), codebook=config["codebook"])
    check_codebook(trial_input(reduction, seed, unit["trial"])[0])
    cache = build(unit["cache"])
    outcome = play_trial(reduction, cache, seed, unit["trial"], players, config.get("rows"))
    return [{"C_label": unit["C_label"], "C": float(unit["C"]), **row} for row in outcome_rows(cache, [outcome])]


def grid_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """The reference's message for the unit's trial, scored by Bob at every C of the unit."""
    n, d = config["n"], config["d"]
    reduction, x = trial_input(ExactOutputReduction(n, d, codebook=config["codebook"]), seed, unit["trial"])
    cache = build(unit["cache"])
    message = players.alice(reduction, cache, x)
    sample = trial_rows(n, config.get("rows"), seed, unit["trial"])
    rows = []
    for C in unit["C"]:
        scaled = ExactOutputReduction(n, d, C=float(C), codebook=config["codebook"], public_seed=reduction.public_seed)
        result = score(players, scaled, cache, message, x, sample)
        rows.append({"C_label": "grid", "C": float(C), "cache": repr(cache), "trial": unit["trial"],
                     "public_seed": reduction.public_seed, "memory_bits": result.memory_bits, "bits_encoded": x.size,
                     "bits_decoded": result.total, "rows_decoded": n if sample is None else len(sample),
                     "correct": result.correct, "accuracy": result.accuracy})
    return rows


def measured_smallest_C(rows: list[dict], smallest: float | None) -> float | None:
    """The smallest C (grid rows below ``smallest``, then ``smallest`` itself) at which the reference
    decoded every bit asked in every trial, and at every larger grid C measured."""
    cells: dict[float, list[dict]] = {}
    for row in rows:
        if row["cache"] == repr(REFERENCE) and (row["C_label"] == "grid" or row["C"] == smallest):
            cells.setdefault(row["C"], []).append(row)
    found = None
    for C in sorted(cells, reverse=True):
        if not all(r["correct"] == r["bits_decoded"] for r in cells[C]):
            break
        found = C
    return found


def budget_c_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per C (paper, just above eq. 16, smallest working): the points and the family table."""
    n, d = config["n"], config["d"]
    scales = query_scales(config, seed)
    smallest = scales["smallest"]
    caches = {repr(c): c for c in budget_c_players(config)}
    chosen = {"paper": scales["paper"], "threshold": scales["threshold"], "smallest": smallest}
    panels, all_points = [], []
    for label in C_LABELS:
        C = chosen[label]
        here = [r for r in rows if r["C_label"] == label and C is not None and r["C"] == C]
        points = points_from_rows(here)
        for point in points:
            family = family_of(caches[point["cache"]])
            point.update(C=C, C_label=label, kind=family.kind if family else None,
                         label=family.display if family else point["family"])
        panels.append({"C_label": label, "C": C, "title": C_TITLES[label], "points": points,
                       "families": family_table(points)})
        all_points += points
    return {
        "experiment": "budget_c",
        "n": n, "d": d, "codebook": config["codebook"], "bits_encoded": n * d,
        "success_accuracy": SUCCESS_ACCURACY,
        "report_ratio": config["report_ratio"],
        "eps_max": scales["eps_max"],
        "eq16_threshold_C": scales["eq16_threshold"],
        "C_values": chosen,
        "C_note": ("paper: 2 ln n/(1-2ε); threshold: (1 + {:g}) × ln n/(1-2ε) (eq. 16's threshold, just above it); "
                   "both at the largest measured ε of the trials' codebooks; smallest: the smallest C of the grid "
                   "at which exact attention decodes every bit of every possible instance on each trial's public "
                   "codebook (worst case over Alice's bits, from the codebook alone); the game then measures "
                   "ExactCache(float64) there").format(config["above_threshold"]),
        "grid": scales["grid"],
        "measured_smallest_C": measured_smallest_C(rows, smallest) if config.get("exact_grid") else None,
        "exact_grid": [{"C": C, "correct": sum(r["correct"] for r in rows if r["C_label"] == "grid" and r["C"] == C),
                        "bits": sum(r["bits_decoded"] for r in rows if r["C_label"] == "grid" and r["C"] == C)}
                       for C in sorted({r["C"] for r in rows if r["C_label"] == "grid"})],
        "panels": panels,
        "points": all_points,
    }


def best_point(points: list[dict], family: str, ratio: float) -> dict | None:
    """The most accurate point of ``family`` with memory ratio <= ``ratio`` (None if none fits)."""
    fitting = [p for p in points if p["family"] == family and p["memory_ratio"] <= ratio]
    return max(fitting, key=lambda p: (p["accuracy"], -p["memory_ratio"])) if fitting else None


def budget_c_headline(summary: dict) -> str:
    """Per C: the designed cache's and QJL's best accuracy within the report ratio (actual ratio
    shown, 99% Wilson), and the exact cache's accuracy."""
    from protocols.headline import percent

    ratio = summary.get("report_ratio", 1.6)
    parts = []
    for panel in summary.get("panels") or []:
        if panel.get("C") is None:
            parts.append(f"{panel['title']}: no grid C decodes every bit exactly")
            continue
        shown = []
        for family, name in (("HashedBitsCache", "designed"), ("QJLCache", "QJL")):
            p = best_point(panel["points"], family, ratio)
            if p is not None:
                shown.append(f"{name} {percent(p['accuracy'], p['accuracy_low'], p['accuracy_high'])} "
                             f"at ratio {p['memory_ratio']:.2f} (exact)")
        exact = [p for p in panel["points"] if p["cache"] == repr(REFERENCE)]
        if exact:
            p = exact[0]
            shown.append(f"exact {percent(p['accuracy'], p['accuracy_low'], p['accuracy_high'])}")
        name = {"paper": "paper's C", "threshold": "just above eq. 16's threshold, C",
                "smallest": "smallest working C"}.get(panel["C_label"], panel["title"])
        parts.append(f"{name} = {panel['C']:.2f} (exact): " + ", ".join(shown))
    text = f"best accuracy within memory ratio ≤ {ratio:g} (exact) with 99% Wilson intervals: " + "; ".join(parts)
    if summary.get("measured_smallest_C") is not None:
        text += (f"; on these instances exact attention already decodes every bit from C = "
                 f"{summary['measured_smallest_C']:.2f} (exact)")
    return text


# --- designed_memory -------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignedMemoryConfig(ExperimentConfig):
    """Experiment ``designed_memory``: the designed cache's memory for 99% accuracy as n grows."""

    ns: list = param([256, 512, 1024], low=2, doc="key counts n")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(1, low=1, doc="instances per n and member")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    hash_offsets: list = param([4, 5, 6], low=0, high=48,
                               doc="SimHash widths ceil(log2 n) + offset tried at every n")
    parities: list = param([0], low=0, high=31, doc="covering-code parity bits per 32 value bits tried")
    rows: int | None = param(None, doc="rows Bob decodes per trial at most: a uniform sample of min(rows, n) "
                                       "(null: all n rows)")

    def check(self) -> None:
        for name in ("ns", "hash_offsets", "parities"):
            values = getattr(self, name)
            if not values or len(set(values)) != len(values):
                raise ParameterError(f"{name} must be a non-empty list of distinct values, got {values!r}")
        if self.rows is not None and self.rows < 1:
            raise ParameterError(f"rows must be at least 1, got {self.rows}")

    def check_before_run(self) -> None:
        for n in self.ns:
            check_codebook(ExactOutputReduction(n, self.d, codebook=self.codebook))


DESIGNED_MEMORY_PRESETS = {
    "quick": DesignedMemoryConfig(),
    "paper": DesignedMemoryConfig(ns=[256, 512, 1024, 2048, 4096, 8192, 16384], d=256, trials=2, rows=4096,
                                  hash_offsets=[4, 5, 6, 7, 8], parities=[0]),
}


def designed_members_for(config: dict, n: int) -> list[HashedBitsCache]:
    """The HashedBitsCache configurations tried at ``n``: every hash width and parity of the config."""
    bits = math.ceil(math.log2(n))
    return [HashedBitsCache(hash_bits=bits + k, parity=r, group_size=min(64, n))
            for k in config["hash_offsets"] for r in config["parities"]]


def designed_memory_sweep(config: dict, seed: int) -> list[dict]:
    """Units ``(n, member, trial)``."""
    return [{"n": n, "cache": frozen_spec(cache), "trial": trial} for n in config["ns"]
            for cache in designed_members_for(config, n) for trial in range(config["trials"])]


def designed_memory_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One game of HO Theorem 6's INDEX at the paper's C for the unit's n, member and trial."""
    reduction = ExactOutputReduction(unit["n"], config["d"], codebook=config["codebook"])
    check_codebook(trial_input(reduction, seed, unit["trial"])[0])
    cache = build(unit["cache"])
    rows = config.get("rows")
    outcome = play_trial(reduction, cache, seed, unit["trial"], players,
                         None if rows is None or rows >= unit["n"] else rows)
    return [{"n": unit["n"], **row} for row in outcome_rows(cache, [outcome])]


def designed_memory_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per n: every member's point and the smallest memory whose pooled 99% Wilson lower bound
    reaches the success accuracy; ratios to n·d and n·d + n log2 n; fitted slope of log memory."""
    from protocols.headline import fitted_slope

    d = config["d"]
    per_n, points = [], []
    for n in config["ns"]:
        members = points_from_rows([r for r in rows if r["n"] == n])
        for p in members:
            p.update(n=n, label="designed")
        points += members
        passing = [p for p in members if p["accuracy_low"] >= SUCCESS_ACCURACY]
        best = min(passing, key=lambda p: p["memory_bits"]) if passing else None
        reference = n * d + n * math.log2(n)
        cheapest = min((p["memory_bits"] for p in members), default=None)
        per_n.append({"n": n, "members": len(members),
                      "cheapest_member_passes": best is not None and best["memory_bits"] == cheapest,
                      "memory_bits": best["memory_bits"] if best else None,
                      "cache": best["cache"] if best else None,
                      "accuracy": best["accuracy"] if best else None,
                      "accuracy_low": best["accuracy_low"] if best else None,
                      "accuracy_high": best["accuracy_high"] if best else None,
                      "ratio_nd": best["memory_bits"] / (n * d) if best else None,
                      "ratio_nd_nlogn": best["memory_bits"] / reference if best else None})
    found = [r for r in per_n if r["memory_bits"] is not None]
    return {
        "experiment": "designed_memory",
        "d": d, "codebook": config["codebook"], "success_accuracy": SUCCESS_ACCURACY,
        "per_n": per_n,
        "slope": fitted_slope([r["n"] for r in found], [r["memory_bits"] for r in found], seed=seed),
        "points": points,
    }


def designed_memory_headline(summary: dict) -> str:
    """Per n the memory for 99% (pooled 99% Wilson lower bound) over n·d and over n·d + n log2 n,
    and the fitted slope of log memory on log n with its bootstrap interval."""
    from protocols.headline import spread

    rows = summary.get("per_n") or []
    found = [r for r in rows if r.get("memory_bits") is not None]
    missing = [str(r["n"]) for r in rows if r.get("memory_bits") is None]
    if not found:
        return "no member of the designed cache reaches the success target at any n"
    ns = f"n = {found[0]['n']}..{found[-1]['n']}"
    text = (f"designed cache's smallest memory whose 99% Wilson lower bound reaches the 99% target (exact) at {ns}: "
            f"{spread([r['ratio_nd'] for r in found], 'exact')} × n·d, "
            f"{spread([r['ratio_nd_nlogn'] for r in found], 'exact')} × (n·d + n log2 n); "
            f"slope of log memory on log n {summary.get('slope', 'n/a')} (99% bootstrap)")
    edge = [str(r["n"]) for r in found if r.get("cheapest_member_passes")]
    text += f"; the cheapest member tried already passes at n = {', '.join(edge)} (an upper bound there)" if edge else ""
    return text + (f"; no member reaches the target at n = {', '.join(missing)}" if missing else "")


EXPERIMENTS = [
    Experiment(
        "budget_c", "HO Theorems 5-6", "budget",
        "INDEX-game accuracy vs memory for a zoo subset at the paper's C, just above eq. 16, and the smallest working C",
        BUDGET_C_PRESETS, budget_c_sweep, budget_c_measure, budget_c_summary, "plots.budget_limits:budget_c_figure",
        headline="reductions.budget_limits:budget_c_headline",
    ),
    Experiment(
        "designed_memory", "HO Theorems 5-6", "budget",
        "memory the designed cache needs for 99% INDEX accuracy as n grows, against n·d and n·d + n log2 n",
        DESIGNED_MEMORY_PRESETS, designed_memory_sweep, designed_memory_measure, designed_memory_summary,
        "plots.budget_limits:designed_memory_figure", headline="reductions.budget_limits:designed_memory_headline",
    ),
]
