"""The registry of experiments, gathered from every result module's ``EXPERIMENTS``.

``get_experiment(name)`` imports the result modules in order only until one declares ``name``
(``barriers run budget`` does not import the other results); ``EXPERIMENTS``, every experiment
by name, imports them all on first use and refuses two experiments of one name.
"""

from __future__ import annotations

import functools
import importlib

import reductions
from caches.params import ParameterError
from protocols.experiment import Experiment


@functools.lru_cache(maxsize=None)
def _declared_in(module_name: str) -> tuple[Experiment, ...]:
    return tuple(importlib.import_module(f"reductions.{module_name}").EXPERIMENTS)


def _collect() -> dict[str, Experiment]:
    found: dict[str, Experiment] = {}
    for module_name in reductions.EXPERIMENT_MODULES:
        for experiment in _declared_in(module_name):
            if experiment.name in found:
                raise RuntimeError(f"two experiments are named {experiment.name!r}")
            found[experiment.name] = experiment
    return found


def __getattr__(attribute: str):
    if attribute == "EXPERIMENTS":
        globals()["EXPERIMENTS"] = experiments = _collect()
        return experiments
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or a clear error listing the known ones."""
    for module_name in reductions.EXPERIMENT_MODULES:
        for experiment in _declared_in(module_name):
            if experiment.name == name:
                return experiment
    raise ParameterError(f"unknown experiment {name!r}; choose one of: {', '.join(_collect())}")
