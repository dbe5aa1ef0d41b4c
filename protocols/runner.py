"""The one runner: an experiment declares a sweep of units; the runner measures and summarizes them.

An experiment (:class:`protocols.experiment.Experiment`) declares three functions:

* ``sweep(config, seed) -> list[dict]``: its units of work, plain data, in a fixed order. A unit is a
  configuration of one measurement (a cache and a trial; a dimension and a seed of a codebook).
* ``measure(config, unit, seed, players) -> list[dict]``: the trial rows of one unit. A unit's rows
  depend only on ``(config, unit, seed)`` (its draws come from ``default_rng([seed, ...])`` of the
  unit's own numbers), never on which units ran before it or where.
* ``summarize(config, rows, seed) -> dict``: the summary (results contract, :mod:`barriers.results`)
  from every unit's rows, in sweep order.

Because units are independent and every row passes through canonical JSON (:func:`canonical_rows`)
whether it was just measured or read back, the files are the same bytes for any number of workers
(:mod:`protocols.cluster`) and after any resume (:mod:`protocols.store`). Progress has
``len(sweep)`` steps. A summary whose points carry memory and accuracy gets the Fano frontier
(HO Theorem 5) built here, once, if the experiment did not give its own.
"""

from __future__ import annotations

import json
from typing import Callable, Iterable

from protocols.fano import frontier_for


def unit_key(unit: dict) -> str:
    """The unit's identity in the store: its canonical JSON."""
    return json.dumps(unit, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_rows(rows) -> list[dict]:
    """``rows`` as they read back from JSON: numpy scalars as Python numbers, tuples as lists,
    NaN and infinities as None (:func:`barriers.results.clean_json` semantics)."""
    if isinstance(rows, dict):
        rows = [rows]
    return json.loads(json.dumps(_clean(list(rows)), allow_nan=False))


def _clean(value):
    import math

    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def check_sweep(name: str, units: list[dict]) -> list[dict]:
    """Units must be plain-data dicts with distinct keys (the store and the workers rely on it)."""
    if not isinstance(units, list) or not units:
        raise RuntimeError(f"experiment {name!r}: sweep(config) must return a non-empty list of dicts")
    keys = set()
    for unit in units:
        if not isinstance(unit, dict):
            raise RuntimeError(f"experiment {name!r}: every unit of the sweep must be a dict, got {type(unit).__name__}")
        key = unit_key(unit)
        if key in keys:
            raise RuntimeError(f"experiment {name!r}: the sweep lists the unit {key} twice")
        keys.add(key)
    return units


def measure_unit(experiment, config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One unit's rows, canonical (what a worker returns and the store keeps)."""
    return canonical_rows(experiment.measure(config, unit, seed, players))


def run_sweep(experiment, config: dict, seed: int, players, progress: Callable[[int], object] | None = None,
              store=None, cluster=None, units: list[dict] | None = None) -> dict:
    """Every unit of ``experiment.sweep(config)`` measured, then summarized: ``{"summary", "trials"}``.

    ``store`` (:class:`protocols.store.TrialStore`) returns finished units and keeps each new one
    as it completes; ``cluster`` (:class:`protocols.cluster.Cluster`) measures the remaining units
    on its workers, else they are measured here with ``players``. ``units``: the sweep, when the
    caller has it already. A partial ``config`` (tests) is completed with the quick preset's values.
    """
    config = {**experiment.presets["quick"].to_dict(), **config}
    units = check_sweep(experiment.name, experiment.sweep(config, seed) if units is None else units)
    done: dict[str, list[dict]] = store.finished() if store is not None else {}
    missing = [unit for unit in units if unit_key(unit) not in done]
    if progress and len(missing) < len(units):
        progress(len(units) - len(missing))
    for unit, rows in _measured(experiment, config, missing, seed, players, cluster):
        if store is not None:
            store.put(unit_key(unit), rows)
        done[unit_key(unit)] = rows
        if progress:
            progress(1)
    rows = [row for unit in units for row in done[unit_key(unit)]]
    summary = experiment.summarize(config, rows, seed)
    points = summary.get("points") or []
    if points and "frontier" not in summary and all("fano_max_accuracy" in p for p in points):
        summary["frontier"] = frontier_for(points)
    return {"summary": summary, "trials": rows}


def _measured(experiment, config, units: list[dict], seed: int, players, cluster) -> Iterable[tuple[dict, list]]:
    if cluster is not None:
        yield from cluster.measure(experiment, config, units, seed)
        return
    for unit in units:
        yield unit, measure_unit(experiment, config, unit, seed, players)
