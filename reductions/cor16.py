"""HO Corollary 16: unstructured sparsity does not help; the Ω(nd) instances are already sparse.

The corollary promises the algorithm that a 0.99-fraction of the entries of ``QK^T`` are near zero
(locations unknown) and still concludes Ω(nd) bits, because Theorem 6's own instances keep that
promise. This module measures how sparse they are, at the theorem's ``C = 2 ln n/(1-2ε)``:

* **Bob's attention row** (the last row of ``softmax(QK^T)``, over Alice's ``n`` tokens and his
  own): the mass on the spike ``ξ_i`` and the fraction of its ``n+1`` entries below ``tau``.
  At the paper's C every off-spike weight is at most ``e^{Cε}/e^{C(1-ε)} = e^{-C(1-2ε)} = n^{-2}``,
  so the spike holds ``>= n/(n+1)`` and ``n`` of the ``n+1`` entries are ``<= n^{-2}``: the 0.99
  promise is guaranteed once ``ε < 1/2``, ``n^{-2} <= tau`` and ``n/(n+1) >= 0.99`` (``n >= 99``).
* **The score matrix** ``QK^T`` itself (causal, ``(n+1) x (n+1)``): Alice's queries are 0, so all
  her rows are exactly 0 and only Bob's row carries scores; the literal promise holds too.

Decoding on the same instances (the INDEX game through :mod:`protocols.game`) still needs about
``n·d`` bits: caches below ratio 1 stay under the Fano frontier, far from 99%.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from caches.eviction import RandomEvictionCache, WindowCache
from caches.exact import ExactCache
from caches.params import check_choice, check_int, check_real
from caches.quantized import QuantizedCache
from protocols.experiment import Experiment
from protocols.fano import frontier_curve
from protocols.game import play, trial_input
from reductions.certify import claim, proved
from reductions.jl import CODEBOOKS
from reductions.thm6 import ExactOutputReduction, paper_C, threshold_C

#: The corollary's promise: this fraction of the entries is near zero.
PROMISE = 0.99


def attention_rows(reduction: ExactOutputReduction, C: float) -> np.ndarray:
    """Bob's softmax rows, shape ``(n, n+1)``: row ``i`` for his query ``C·k_i`` over Alice's keys and his own.

    Bob's own key is 0, so his own token scores 0.
    """
    keys = reduction.keys
    scores = np.hstack([C * keys @ keys.T, np.zeros((reduction.n, 1))])
    scores -= scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


def sparsity(reduction: ExactOutputReduction, C: float, tau: float) -> dict:
    """How sparse the reduction's attention is at scale ``C`` (every Bob row measured).

    ``near_zero_fraction_min``: over Bob's rows, the smallest fraction of the ``n+1`` weights that
    are ``<= tau``; ``spike_mass_min``: the smallest spike weight ``ξ_ii``; ``offspike_max``: the
    largest other weight. ``score_zero_fraction``: fraction of exactly-zero entries of the causal
    ``QK^T`` (Alice's rows and Bob's own score) for Bob's row that has the fewest zeros.
    """
    n = reduction.n
    weights = attention_rows(reduction, C)
    spike = weights[np.arange(n), np.arange(n)]
    off = weights.copy()
    off[np.arange(n), np.arange(n)] = 0.0
    near_zero = (weights <= tau).sum(axis=1) / (n + 1)
    Q, K, _ = reduction.alice_stream(np.zeros((n, reduction.d)))
    alice_scores = (Q @ K.T)[np.tril_indices(n)]  # causal: Alice's query l sees keys 1..l
    alice_zero = int(np.sum(np.abs(alice_scores) <= 1e-12))
    bob_zero = 1 + int(np.min(np.sum(np.abs(C * reduction.keys @ reduction.keys.T) <= 1e-12, axis=1)))
    entries = (n + 1) * (n + 2) // 2
    return {
        "near_zero_fraction_min": float(near_zero.min()),
        "near_zero_fraction_mean": float(near_zero.mean()),
        "spike_mass_min": float(spike.min()),
        "spike_mass_mean": float(spike.mean()),
        "offspike_max": float(off.max()),
        "score_zero_fraction": (alice_zero + bob_zero) / entries,
        "score_entries": entries,
    }


def guaranteed_offspike(C: float, eps: float) -> float:
    """Theorem 6's bound on each off-spike weight: ``e^{Cε}/e^{C(1-ε)} = e^{-C(1-2ε)}`` (``n^-2`` at the paper's C)."""
    return math.exp(-C * (1 - 2 * eps))


def promise_guaranteed(n: int, eps: float, tau: float) -> bool:
    """Where the theorem guarantees the 0.99 promise at the paper's C.

    That is ``ε < 1/2`` (C exists), ``n^{-2} <= tau`` and ``n/(n+1) >= 0.99`` (``n >= 99``).
    """
    return eps < 0.5 and n ** -2.0 <= tau and n / (n + 1) >= PROMISE


def sparse_players(n: int) -> list:
    """Two caches above ``n·d`` bits and two at half of it."""
    small = max(1, n // 64)  # float16 rows: memory ratio 1/2
    return [
        ExactCache("float16"),
        QuantizedCache(bits=1, group_size=min(64, n)),
        WindowCache(window=small, dtype="float16"),
        RandomEvictionCache(budget=small, dtype="float16"),
    ]


# --- experiment ---------------------------------------------------------------------------------

COR16_PRESETS = {
    "quick": {"log2_n_values": [6, 8, 10], "d_values": [128, 256], "tau": 1e-3, "codebook": "normalized",
              "trials": 1},
    "paper": {"log2_n_values": [5, 6, 7, 8, 9, 10, 11, 12], "d_values": [64, 128, 256], "tau": 1e-3,
              "codebook": "normalized", "trials": 2},
}


def validate_cor16(config: dict) -> dict:
    """Check a ``cor16`` configuration; a clear error names the bad key."""
    for v in config["log2_n_values"]:
        check_int("log2_n_values[]", v, 1, 13)
    for d in config["d_values"]:
        check_int("d_values[]", d, 1, 4096)
    check_real("tau", config["tau"], 0.0, 1.0, low_open=True, high_open=True)
    check_choice("codebook", config["codebook"], CODEBOOKS)
    check_int("trials", config["trials"], 1)
    return config


def run_cor16(config: dict, seed: int, bob, progress=None) -> dict:
    """Sparsity of the reduction's attention at the theorem's C, and decoding on the same instances."""
    config = validate_cor16(config)
    tau = config["tau"]
    cells, points, trials = [], [], []
    for log2_n in config["log2_n_values"]:
        for d in config["d_values"]:
            n = 2**log2_n
            base = ExactOutputReduction(n, d, C=1.0, codebook=config["codebook"])
            reduction, _ = trial_input(base, seed, 0)
            eps = reduction.eps
            cell = {"n": n, "log2_n": log2_n, "d": d, "eps_measured": eps, "tau": tau,
                    "promise_guaranteed": promise_guaranteed(n, eps, tau)}
            if eps < 0.5:
                C = paper_C(n, eps)
                measured = sparsity(reduction, C, tau)
                cell.update(measured)
                edge = sparsity(reduction, threshold_C(n, eps), tau)  # where eq. 16 just opens the gap
                cell.update({"threshold_C": threshold_C(n, eps),
                             "near_zero_fraction_min_at_threshold": edge["near_zero_fraction_min"],
                             "spike_mass_min_at_threshold": edge["spike_mass_min"]})
                cell.update({"theorem_C": C, "guaranteed_offspike": guaranteed_offspike(C, eps),
                             "guaranteed_spike": 1.0 / (1.0 + n * guaranteed_offspike(C, eps)),
                             "promise_holds": measured["near_zero_fraction_min"] >= PROMISE})
                game = ExactOutputReduction(n, d, C=None, codebook=config["codebook"])
                for cache in sparse_players(n):
                    point, outcomes = play(game, cache, trials=config["trials"], seed=seed, bob=bob)
                    point.update({"n": n, "d": d, "log2_n": log2_n, "theorem_C": C})
                    points.append(point)
                    trials.extend({"n": n, "d": d, "cache": point["cache"], "trial": o.trial,
                                   "public_seed": o.public_seed, "memory_bits": o.memory_bits,
                                   "bits_encoded": o.bits_encoded, "accuracy": o.correct / o.bits_encoded}
                                  for o in outcomes)
                below = [p for p in points if p["n"] == n and p["d"] == d and p["memory_ratio"] < 1.0]
                cell["best_accuracy_below_nd"] = max((p["accuracy"] for p in below), default=None)
            else:
                cell.update({"theorem_C": None, "promise_holds": None})
            cells.append(cell)
            if progress:
                progress(1)
    ratios = np.geomspace(1e-3, 1.0, 200)
    summary = {
        "experiment": "cor16", "tau": tau, "promise": PROMISE, "codebook": config["codebook"],
        "log2_n_values": config["log2_n_values"], "d_values": config["d_values"], "cells": cells, "points": points,
        "frontier": {"memory_ratio": ratios.tolist(), "max_accuracy": np.asarray(frontier_curve(ratios)).tolist()},
    }
    return {"summary": summary, "trials": trials}


EXPERIMENTS = [
    Experiment(
        "cor16", "HO Corollary 16", "cor16",
        "how sparse Theorem 6's attention rows are at its C, and that decoding still needs n·d bits",
        COR16_PRESETS, run_cor16, lambda config: len(config["log2_n_values"]) * len(config["d_values"]),
        "plots.window:cor16_figure",
    ),
]


# --- certificate --------------------------------------------------------------------------------


@claim(
    name="Corollary 16 sparsity at the paper's C",
    source="HO Corollary 16 (via Theorem 6, eqs. 13-16)",
    statement="At C = 2 ln n/(1-2ε) every off-spike weight of Bob's row is <= n^{-2}, the spike >= n/(n+1), so "
    "n of the n+1 entries are <= n^{-2}: a 0.99 fraction once n >= 99",
    relied_on=True,
)
def _check_sparsity():
    n, eps = sp.symbols("n epsilon", positive=True)
    C = 2 * sp.log(n) / (1 - 2 * eps)
    ratio = sp.simplify(sp.powsimp(sp.expand_log(sp.exp(C * eps) / sp.exp(C * (1 - eps)), force=True), force=True))
    if sp.simplify(ratio - n**-2) != 0:
        raise AssertionError(f"off-spike ratio {ratio}")
    spike = sp.simplify(1 / (1 + n * ratio))
    k = sp.symbols("k", positive=True)
    fraction_gap = sp.simplify(sp.Rational(99, 100) - k / (k + 1))  # at k = 99 exactly 0
    slope = sp.simplify(sp.diff(k / (k + 1), k))
    if sp.simplify(spike - n / (n + 1)) != 0 or fraction_gap.subs(k, 99) != 0 or not slope.is_positive:
        raise AssertionError(f"spike {spike}, gap {fraction_gap}")
    return proved(
        f"sympy: e^(Cε)/e^(C(1-ε)) = {ratio} at C = 2 ln n/(1-2ε); with n others each at most that share, the spike "
        f"is >= 1/(1 + n·n^-2) = {spike}; n/(n+1) increases in n and equals 0.99 at n = 99"
    )
