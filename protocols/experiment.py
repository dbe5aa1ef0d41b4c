"""What an experiment declares so that the command line, make and the figures can find it.

A result module (:mod:`reductions`) lists its experiments in a module-level ``EXPERIMENTS``.
A sweep is a preset, a plain dict of parameters; ``barriers run NAME --set key=value`` overrides
single keys. ``run(config, seed, bob, progress)`` returns ``{"summary": ..., "trials": [...]}``
where ``summary["points"]`` follows the results contract (:mod:`barriers.results`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from caches.params import ParameterError
from caches.paramtypes import check_like
from protocols.config import ExperimentConfig


@dataclass(frozen=True)
class Experiment:
    """One experiment of the suite."""

    name: str
    result: str  # the paper result it reproduces, e.g. "HO Theorem 8"
    make_target: str
    description: str
    presets: dict  # "quick" (the default, minutes) and "paper" (figure quality)
    run: Callable  # run(config, seed, bob, progress) -> {"summary": dict, "trials": list[dict]}
    steps: Callable[[dict], int]  # progress-bar length for a config
    figure: str  # "plots.module:function" drawing the summary
    uses_game: bool = True  # plays the INDEX game, so Bob runs isolated
    validate: Callable[[dict], object] | None = None  # raises ParameterError for a bad config; no work

    def config(self, preset: str, overrides: dict) -> dict:
        """The preset with ``overrides`` applied and checked, before any work is done.

        Unknown keys are an error; each value must have the type of the preset's value
        (:func:`caches.paramtypes.check_like`: ``n=1e3`` becomes 1000, ``n=2.5``, ``etas=0.3``,
        ``etas=[]`` and malformed JSON are errors naming the key); then ``validate`` checks the
        ranges, so a bad parameter stops the command line before a progress bar appears.
        """
        if preset not in self.presets:
            raise ParameterError(f"--preset must be one of {', '.join(self.presets)}, got {preset!r}")
        if isinstance(self.presets[preset], ExperimentConfig):
            return self.presets[preset].with_overrides(overrides, self.name).to_dict()
        config = dict(self.presets[preset])
        unknown = sorted(set(overrides) - set(config))
        if unknown:
            raise ParameterError(
                f"experiment {self.name!r} has no parameter {unknown[0]!r}; its parameters are: {', '.join(config)}"
            )
        config.update({key: check_like(key, value, config[key]) for key, value in overrides.items()})
        if self.validate is not None:
            self.validate(dict(config))
        return config
