"""Experiment ``budget``: every cache of the zoo plays HO Theorem 6's INDEX game; accuracy vs memory.

The x-axis is the memory ratio ``memory_bits / (n·d)`` (``8·len(to_bytes())`` over the bits
Alice encoded), the y-axis the fraction of the ``n·d`` bits Bob decodes (with ``rows``, of the bits
of that many uniformly sampled rows per trial, INDEX's own question; points record
``rows_decoded``, :func:`protocols.game.play_trial`). Beside every point the
Fano frontier (HO Theorem 5, :mod:`protocols.fano`) bounds what any algorithm could reach with
that memory. A measured point above it would mean the harness leaked information to Bob.

The players are the families of :data:`caches.zoo.ZOO` at several budgets each (``families``
restricts them), or, with ``caches``, any importable class following the base-class contract
(``barriers run budget --cache package.module:ClassName --cache-arg name=value``). Per family the
summary reports the smallest memory ratio reaching 99% accuracy and the best accuracy within
ratios 1, 2 and 4.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from caches.base import StreamingAttention
from caches.params import ParameterError, check_int
from caches.spec import build, check_params, load_class
from caches.zoo import family_of, families, zoo_caches
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows, trial_input
from reductions.jl import CODEBOOKS
from reductions.spike import SUCCESS_ACCURACY
from reductions.thm6 import ExactOutputReduction

#: ``caches`` are plug-ins played beside the zoo (``only``: instead of it); ``kvpress`` adds every
#: runnable kvpress press at each of ``kvpress_ratios`` (:mod:`caches.kvpress`, extra ``kvpress``).
@dataclass(frozen=True)
class BudgetConfig(ExperimentConfig):
    """Experiment ``budget``: accuracy vs memory for the zoo (quick preset = the defaults).

    Before a run (:meth:`check_before_run`) it builds the plug-in ``caches``, lists the ``kvpress``
    presses and, up to :data:`PRECHECK_WORK`, checks that a codebook's measured ε is below 1/2
    (:func:`check_codebook`), so these fail before any game, without costing every import of the
    presets.
    """

    n: int = param(1024, low=2, doc="keys (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(2, low=1, doc="instances per cache")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    families: object = param(None, doc="zoo families played (null: all), a non-empty list of family names")
    caches: object = param(None, doc='plug-in caches, a non-empty list of {"class": "module:Class", "params": {...}}')
    only: bool = param(False, doc="drop the zoo: play only the plug-ins / presses")
    kvpress: bool = param(False, doc="add every runnable kvpress press")
    kvpress_ratios: list = param([0.25, 0.5, 0.75, 0.9], low=0.0, high=1.0, high_open=True,
                                 doc="compression ratios of the kvpress presses")
    rows: int | None = param(None, doc="rows Bob decodes per trial, a uniform sample, 1 <= rows <= n (null: all n rows)")

    def check(self) -> None:
        if self.rows is not None:
            object.__setattr__(self, "rows", check_int("rows", self.rows, 1, self.n))
        if self.families is not None:
            if not isinstance(self.families, list) or not self.families:
                raise ParameterError(f"families must be a non-empty list of family names, got {self.families!r}")
            families(self.families)
        if self.caches is not None and (not isinstance(self.caches, list) or not self.caches):
            raise ParameterError(f"caches must be a non-empty list of cache specs, got {self.caches!r}")
        if self.only and self.caches is None and not self.kvpress:
            raise ParameterError("only (--only) drops the zoo: give plug-ins with --cache (or presses with --kvpress)")

    def check_before_run(self) -> None:
        for spec in self.caches or []:
            plugin_cache(spec)
        if self.kvpress:
            kvpress_players(self.to_dict())
        if self.n * self.n * self.d <= PRECHECK_WORK:
            check_codebook(ExactOutputReduction(self.n, self.d, codebook=self.codebook))


#: Up to this many multiply-adds (n²·d) a run first measures ε of a codebook like the trials' (a few
#: seconds), so a size where ε ≥ 1/2 stops before any game; beyond it (the scale preset: minutes per
#: codebook) each trial's own codebook is checked by its first game (:func:`budget_measure`).
PRECHECK_WORK = 2**36


#: Memory ratios at which the summary reports each family's best accuracy.
REPORT_RATIOS = (1.0, 2.0, 4.0)


def default_caches(n: int, d: int = 128) -> list:
    """Every member of the zoo for ``n`` tokens of dimension ``d`` (kept for callers of the foundation)."""
    return zoo_caches(n, d)


def plugin_cache(spec) -> StreamingAttention:
    """Build a cache from ``{"class": "package.module:ClassName", "params": {...}}``, with clear errors."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str) or not isinstance(spec.get("params", {}), dict):
        raise ParameterError(f"caches: each entry must be {{'class': 'package.module:ClassName', 'params': {{...}}}}, got {spec!r}")
    path, params = spec["class"], dict(spec.get("params") or {})
    cls = load_class(path)
    if not issubclass(cls, StreamingAttention):
        raise ParameterError(f"{path} is not a StreamingAttention (subclass caches.base.StreamingAttention)")
    if not dataclasses.is_dataclass(cls):
        raise ParameterError(f"{path} must be a @dataclass whose fields are its public parameters")
    params = check_params(cls, params)  # unknown names, values not matching the field annotations
    try:
        return cls(**params)
    except ParameterError:
        raise
    except Exception as error:  # a constructor rejecting the arguments is a user mistake here
        raise ParameterError(f"{cls.__name__}(**{params!r}) failed: {error}") from None


def check_codebook(reduction: ExactOutputReduction) -> ExactOutputReduction:
    """HO Theorem 6's query scale C needs the measured ε of the public codebook below 1/2.

    ``budget`` always takes the theorem's C, so the error names what the user can change here:
    ``n``, ``d`` and ``codebook`` (the reduction's own message would suggest passing C).
    """
    if not reduction.eps < 0.5:
        raise ParameterError(
            f"the {reduction.codebook} codebook of n={reduction.n} keys at d={reduction.d} has measured "
            f"eps={reduction.eps:.3f}, but HO Theorem 6 needs eps < 1/2: increase d, decrease n or change codebook"
        )
    return reduction


def players(config: dict) -> list:
    """The caches a configuration plays: the zoo's members (unless ``only``), the plug-in ``caches``,
    and with ``kvpress`` every press that runs at this size (:func:`caches.kvpress.inventory`)."""
    playing = [] if config.get("only") else zoo_caches(config["n"], config["d"], config.get("families"))
    playing += [plugin_cache(spec) for spec in config.get("caches") or []]
    if config.get("kvpress"):
        playing += kvpress_players(config)[0]
    return playing


def kvpress_players(config: dict) -> tuple[list, dict]:
    """The kvpress presses that run at ``(n, d)`` and ``{press: why not}`` for the others."""
    try:
        from caches.kvpress import inventory
    except ImportError as error:  # the module itself imports no torch; this is a broken install
        raise ParameterError(f"kvpress: {error}") from None
    return inventory(config["n"], config["d"], config["kvpress_ratios"])


#: ``paper`` and ``scale`` take d = 256: with the normalized codebook at d = 128 the measured ε is
#: 0.476–0.488 at n = 16,384 (three draws), so C = 2 ln n/(1 − 2ε) is near 500 and a draw above 1/2
#: stops the run, and at n = 131,072 it is at least 0.508 (over the first 8,192 keys alone), where
#: HO Theorem 6 gives no C. Bob decodes a uniform sample of rows (INDEX's own question).
BUDGET_PRESETS = {
    "quick": BudgetConfig(),
    "paper": BudgetConfig(n=16384, d=256, trials=3, rows=2048),
    "scale": BudgetConfig(n=131072, d=256, trials=1, rows=1024,
                          families=["ExactCache", "QuantizedCache", "QJLCache", "HashedBitsCache"]),
}


def budget_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per cache and trial: the cache's frozen public parameters and the trial number."""
    return [{"cache": frozen_spec(cache), "trial": trial} for cache in players(config)
            for trial in range(config["trials"])]


def budget_measure(config: dict, unit: dict, seed: int, bob) -> list[dict]:
    """One game of HO Theorem 6's INDEX: the unit's cache on the unit's trial instance, whose
    public codebook must have ε < 1/2 (:func:`check_codebook`)."""
    reduction = ExactOutputReduction(config["n"], config["d"], codebook=config["codebook"])
    check_codebook(trial_input(reduction, seed, unit["trial"])[0])
    cache = build(unit["cache"])
    return outcome_rows(cache, [play_trial(reduction, cache, seed, unit["trial"], bob, config.get("rows"))])


def budget_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per cache: accuracy (99% Wilson) and memory, the Fano bound, the family table."""
    n, d = config["n"], config["d"]
    caches = {repr(cache): cache for cache in players(config)}
    points = points_from_rows(rows)
    for point in points:
        cache = caches[point["cache"]]
        family = family_of(cache)
        point.update(kind=family.kind if family else "plug-in", source=family.source if family else None,
                     label=family.display if family else point["family"],
                     budget_bits=cache.budget_bits(n, d), rows_decoded=config.get("rows") or n)
        if callable(getattr(cache, "result_fields", None)):  # e.g. a kvpress press: its family, "subset"
            point.update(cache.result_fields(n, d))
    summary = {
        "experiment": "budget",
        "n": n,
        "d": d,
        "codebook": config["codebook"],
        "bits_encoded": n * d,
        "success_accuracy": SUCCESS_ACCURACY,
        "report_ratios": list(REPORT_RATIOS),
        "points": points,
        "families": family_table(points),
    }
    if config.get("kvpress"):  # which presses played, and why the others could not
        from caches.kvpress import kvpress_version

        summary["kvpress"] = {"version": kvpress_version(), "ratios": list(config["kvpress_ratios"]),
                              "refused": kvpress_players(config)[1]}
    return summary


def family_table(points: list[dict]) -> list[dict]:
    """Per family (in order of appearance): the smallest memory ratio with accuracy >= 99% (None if
    no member gets there) and the best accuracy at memory ratio <= 1, 2, 4 (None if no member fits)."""
    table: dict[str, dict] = {}
    for p in points:
        row = table.setdefault(p["family"], {"family": p["family"], "label": p.get("label", p["family"]),
                                             "kind": p.get("kind"), "source": p.get("source"),
                                             "members": 0, "ratio_for_99": None, "best_accuracy": 0.0,
                                             "accuracy_within_ratio": {f"{r:g}": None for r in REPORT_RATIOS}})
        row["members"] += 1
        row["best_accuracy"] = max(row["best_accuracy"], p["accuracy"])
        if p["accuracy"] >= SUCCESS_ACCURACY:
            current = row["ratio_for_99"]
            row["ratio_for_99"] = p["memory_ratio"] if current is None else min(current, p["memory_ratio"])
        for r in REPORT_RATIOS:
            key = f"{r:g}"
            if p["memory_ratio"] <= r:
                best = row["accuracy_within_ratio"][key]
                row["accuracy_within_ratio"][key] = p["accuracy"] if best is None else max(best, p["accuracy"])
    return list(table.values())


def budget_headline(summary: dict) -> str:
    """``barriers report``'s line: per family, the best accuracy within memory ratio 1 (99% Wilson
    interval, Fano frontier at that memory) and the smallest memory ratio (exact: a byte count) whose
    99% lower bound reaches the success accuracy."""
    from protocols.headline import best_within_ratio, percent

    points = summary.get("points") or []
    within = [f"{label} {percent(p['accuracy'], p['accuracy_low'], p['accuracy_high'])} "
              f"(Fano frontier {100 * p['fano_max_accuracy']:.1f}%, exact)" for label, p in best_within_ratio(points, 1.0)]
    target = summary.get("success_accuracy", SUCCESS_ACCURACY)
    smallest: dict[str, float | None] = {}
    for p in points:
        label = str(p.get("label") or p.get("family"))
        ratio = p["memory_ratio"] if (p.get("accuracy_low") or 0.0) >= target else None
        if ratio is not None and (smallest.get(label) is None or ratio < smallest[label]):
            smallest[label] = ratio
        smallest.setdefault(label, None)
    reached = sorted((r, label) for label, r in smallest.items() if r is not None)
    never = [label for label, r in smallest.items() if r is None]
    parts = [f"at memory ratio ≤ 1 (99% Wilson): {', '.join(within) or 'no family'}",
             f"smallest memory ratio on the grid whose 99% Wilson lower bound reaches the target {100 * target:g}% (exact): "
             + ", ".join(f"{label} {r:.2f} (exact)" for r, label in reached)
             + (f"; never: {', '.join(never)}" if never else "")]
    return "; ".join(parts)


EXPERIMENTS = [
    Experiment(
        "budget", "HO Theorems 5-6", "budget",
        "INDEX-game accuracy vs memory for the whole cache zoo, with the Fano frontier",
        BUDGET_PRESETS, budget_sweep, budget_measure, budget_summary, "plots.figures:budget_figure", headline="reductions.budget:budget_headline",
    ),
]
