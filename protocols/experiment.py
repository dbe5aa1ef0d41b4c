"""What an experiment declares so that the command line, make and the figures can find it.

A result module (:mod:`reductions`) lists its experiments in a module-level ``EXPERIMENTS``.
A preset is a typed config (:class:`protocols.config.ExperimentConfig`); ``barriers run NAME
--set key=value`` overrides single parameters. The experiment declares its ``sweep`` (units of
work), how to ``measure`` one unit and how to ``summarize`` the rows; :func:`protocols.runner.run_sweep`
runs it, and ``summary["points"]`` follows the results contract (:mod:`barriers.results`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from caches.params import ParameterError
from protocols.config import ExperimentConfig


@dataclass(frozen=True)
class Experiment:
    """One experiment of the suite."""

    name: str
    result: str  # the paper result it reproduces, e.g. "HO Theorem 8"
    make_target: str
    description: str
    presets: dict[str, ExperimentConfig]  # "quick" (the default, minutes) and "paper" (figure quality)
    sweep: Callable[[dict, int], list]  # sweep(config, seed) -> units of work, plain-data dicts (protocols.runner)
    measure: Callable  # measure(config, unit, seed, players) -> the unit's trial rows
    summarize: Callable  # summarize(config, rows, seed) -> the summary, from every unit's rows in sweep order
    figure: str  # "plots.module:function" drawing the summary
    uses_game: bool = True  # plays the INDEX game, so both players run sandboxed
    #: "module:function" turning the summary into one line for ``barriers report`` (every number
    #: with its interval or marked exact); ``None``: a generic line from the points (barriers.report)
    headline: str | None = None

    def config(self, preset: str, overrides: dict) -> dict:
        """The preset with ``overrides`` applied and checked, before any work is done.

        Unknown keys are an error; each value must have the type of the preset's value
        (:func:`caches.paramtypes.check_like`: ``n=1e3`` becomes 1000, ``n=2.5``, ``etas=0.3``,
        ``etas=[]`` and malformed JSON are errors naming the key) and lie in its declared range
        (:mod:`protocols.config`); then the config's costlier checks run, so a bad parameter stops
        the command line before a progress bar appears.
        """
        if preset not in self.presets:
            raise ParameterError(f"--preset must be one of {', '.join(self.presets)}, got {preset!r}")
        config = self.presets[preset].with_overrides(overrides, self.name)
        config.check_before_run()
        return config.to_dict()
