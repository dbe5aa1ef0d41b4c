"""The registry of experiments, gathered from every result module's ``EXPERIMENTS``."""

from __future__ import annotations

import importlib

import reductions
from caches.params import ParameterError
from protocols.experiment import Experiment


def _collect() -> dict[str, Experiment]:
    found: dict[str, Experiment] = {}
    for module_name in reductions.EXPERIMENT_MODULES:
        module = importlib.import_module(f"reductions.{module_name}")
        for experiment in module.EXPERIMENTS:
            if experiment.name in found:
                raise RuntimeError(f"two experiments are named {experiment.name!r}")
            found[experiment.name] = experiment
    return found


EXPERIMENTS = _collect()


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or a clear error listing the known ones."""
    if name not in EXPERIMENTS:
        raise ParameterError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
