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

    def config(self, preset: str, overrides: dict) -> dict:
        """The preset with ``overrides`` applied; unknown keys are an error."""
        if preset not in self.presets:
            raise ParameterError(f"--preset must be one of {', '.join(self.presets)}, got {preset!r}")
        config = dict(self.presets[preset])
        unknown = sorted(set(overrides) - set(config))
        if unknown:
            raise ParameterError(
                f"experiment {self.name!r} has no parameter {unknown[0]!r}; its parameters are: {', '.join(config)}"
            )
        config.update(overrides)
        return config
