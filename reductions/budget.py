"""Experiment ``budget``: every cache plays HO Theorem 6's INDEX game; accuracy vs memory.

The x-axis is the memory ratio ``memory_bits / (n·d)`` (``8·len(to_bytes())`` over the bits
Alice encoded), the y-axis the fraction of the ``n·d`` bits Bob decodes. Beside every point the
Fano frontier (HO Theorem 5, :mod:`protocols.fano`) bounds what any algorithm could reach with
that memory. A measured point above it would mean the harness leaked information to Bob.
"""

from __future__ import annotations

import numpy as np

from caches.eviction import RandomEvictionCache, WindowCache
from caches.exact import ExactCache
from caches.params import check_choice, check_int
from caches.quantized import QuantizedCache
from caches.codec import FLOAT_DTYPES
from protocols.fano import frontier_curve
from protocols.game import play
from reductions.jl import CODEBOOKS
from reductions.thm6 import ExactOutputReduction
from protocols.experiment import Experiment

BUDGET_PRESETS = {
    "quick": {"n": 1024, "d": 128, "trials": 2, "codebook": "normalized"},
    "paper": {"n": 4096, "d": 128, "trials": 5, "codebook": "normalized"},
}


def default_caches(n: int) -> list:
    """The foundation's players at several budgets each."""
    fractions = (512, 128, 32, 8, 2)
    kept = sorted({max(1, n // f) for f in fractions})
    return [
        *(ExactCache(dtype) for dtype in FLOAT_DTYPES),
        *(QuantizedCache(bits=b) for b in range(1, 9)),
        *(WindowCache(window=w, dtype="float16") for w in kept),
        *(RandomEvictionCache(budget=b, dtype="float16") for b in kept),
    ]


def validate_budget(config: dict) -> dict:
    """Check a ``budget`` configuration; a clear error names the bad key."""
    check_int("n", config["n"], 2)
    check_int("d", config["d"], 1)
    check_int("trials", config["trials"], 1)
    check_choice("codebook", config["codebook"], CODEBOOKS)
    return config


def run_budget(config: dict, seed: int, bob, progress=None, caches=None) -> dict:
    """Play every cache (default: :func:`default_caches`) on the same ``trials`` instances."""
    config = validate_budget(config)
    n, d = config["n"], config["d"]
    reduction = ExactOutputReduction(n, d, codebook=config["codebook"])
    players = default_caches(n) if caches is None else list(caches)
    points, trials = [], []
    for cache in players:
        point, outcomes = play(reduction, cache, trials=config["trials"], seed=seed, bob=bob)
        points.append(point)
        trials.extend(
            {"cache": point["cache"], "family": point["family"], "trial": o.trial, "public_seed": o.public_seed,
             "memory_bits": o.memory_bits, "bits_encoded": o.bits_encoded, "correct": o.correct,
             "accuracy": o.correct / o.bits_encoded}
            for o in outcomes
        )
        if progress:
            progress(1)
    ratios = np.geomspace(1e-3, 1.0, 200)
    summary = {
        "experiment": "budget",
        "n": n,
        "d": d,
        "codebook": config["codebook"],
        "bits_encoded": n * d,
        "points": points,
        "frontier": {"memory_ratio": ratios.tolist(), "max_accuracy": np.asarray(frontier_curve(ratios)).tolist()},
    }
    return {"summary": summary, "trials": trials}


EXPERIMENTS = [
    Experiment(
        "budget", "HO Theorems 5-6", "budget",
        "INDEX-game accuracy vs memory for every cache, with the Fano frontier",
        BUDGET_PRESETS, run_budget, lambda config: len(default_caches(config["n"])), "plots.figures:budget_figure",
    ),
]
