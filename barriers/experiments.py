"""The registry of experiments: name, presets, how to run it, which figure it draws.

A sweep is a preset (a plain dict of parameters); ``--set key=value`` overrides single keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from caches.params import ParameterError
from reductions import budget, jl, thm6, thm8


@dataclass(frozen=True)
class Experiment:
    """One experiment of the suite."""

    name: str
    result: str  # the paper result it reproduces
    make_target: str
    description: str
    presets: dict
    run: Callable  # run(config, seed, bob, progress) -> {"summary": ..., "trials": [...]}
    steps: Callable[[dict], int]  # progress-bar length for a config
    uses_game: bool = True  # plays the INDEX game (runs an isolated Bob)

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


EXPERIMENTS = {
    e.name: e
    for e in (
        Experiment(
            "budget", "HO Theorems 5-6", "budget",
            "INDEX-game accuracy vs memory for every cache, with the Fano frontier",
            budget.BUDGET_PRESETS, budget.run_budget,
            lambda c: len(budget.default_caches(c["n"])),
        ),
        Experiment(
            "phase", "HO Theorem 6, Lemma 3", "thm6",
            "decoding success over (log2 n, d) at the paper's C and the smallest working C",
            thm6.PHASE_PRESETS, thm6.run_phase,
            lambda c: len(c["log2_n_values"]) * len(c["d_values"]),
        ),
        Experiment(
            "threshold", "HO Theorem 8", "thm8",
            "accuracy vs C for the worst (1±η) approximation, exact thresholds marked",
            thm8.THRESHOLD_PRESETS, thm8.run_threshold,
            lambda c: len(c["etas"]) * c["c_points"],
        ),
        Experiment(
            "jl", "HO Lemma 3", "jl",
            "measured JL distortion ε of the key codebooks vs what Lemma 3 guarantees",
            jl.JL_PRESETS, lambda config, seed, bob, progress: jl.run_jl(config, seed, progress),
            jl.jl_total_steps, uses_game=False,
        ),
    )
}


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``, or a clear error listing the known ones."""
    if name not in EXPERIMENTS:
        raise ParameterError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
