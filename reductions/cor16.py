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
  her rows are exactly 0 and only Bob's row carries scores; the literal promise holds too: at
  least ``1 - 2n/((n+1)(n+2))`` of its ``(n+1)(n+2)/2`` entries are exactly 0, ``>= 0.99`` iff
  ``n >= 197`` (certified below).

Decoding on the same instances (the INDEX game through :mod:`protocols.game`) still needs about
``n·d`` bits: caches below ratio 1 stay under the Fano frontier, far from 99%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.designed import hash_bits_for
from caches.eviction import RandomEvictionCache, WindowCache
from caches.exact import ExactCache
from caches.spec import build
from caches.quantized import QuantizedCache
from caches.sparse import SparseValueCache, TopKHashedCache
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows, trial_input
from reductions.certify import claim
from reductions.jl import CODEBOOKS
from reductions.spike_lemmas import exp_log_monotone, ge, iff, le, lt, sum_bounds
from reductions.tactics import Identity, Implies, eps_in_open_half
from reductions.spike import paper_C, threshold_C
from reductions.thm6 import ExactOutputReduction

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
    """Two caches above ``n·d`` bits and two at half of it, then the players that act on the
    sparsity promise (:mod:`caches.sparse`, for ``n >= 99``): top-k attention over SimHash keys with one-bit values
    under a covering code (ratio ≈ 0.7-0.9 at d = 128), and sparse values (2 or 8 entries per
    token kept) with thresholded attention (ratio ≈ 0.2-0.6)."""
    small = max(1, n // 64)  # float16 rows: memory ratio 1/2
    hash_bits, group = hash_bits_for(n), min(64, n)
    players = [
        ExactCache("float16"),
        QuantizedCache(bits=1, group_size=group),
        WindowCache(window=small, dtype="float16"),
        RandomEvictionCache(budget=small, dtype="float16"),
    ]
    if n / (n + 1) >= PROMISE:  # the sparse players only where the 0.99 promise can hold (n >= 99)
        players += [
            *(TopKHashedCache(hash_bits=hash_bits, parity=parity, group_size=group, k=4) for parity in (12, 8)),
            *(SparseValueCache(hash_bits=hash_bits, keep=keep, margin=2.0) for keep in (2, 8)),
        ]
    return players


#: The families of :mod:`caches.sparse` (the players that use the sparsity promise).
SPARSE_FAMILIES = ("TopKHashedCache", "SparseValueCache")


# --- experiment ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cor16Config(ExperimentConfig):
    """Experiment ``cor16``: sparsity and decoding over ``(log2 n, d)`` (quick preset = the defaults)."""

    log2_n_values: list = param([6, 8, 10], low=1, high=13, doc="log2 of the number of keys n")
    d_values: list = param([128, 256], low=1, high=4096, doc="dimensions d")
    tau: float = param(1e-3, low=0.0, high=1.0, low_open=True, high_open=True, doc="near-zero attention threshold τ")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    trials: int = param(1, low=1, doc="instances per point")
    draws: int = param(3, low=1, high=50, doc="public codebooks per cell whose sparsity is measured")


COR16_PRESETS = {
    "quick": Cor16Config(),
    "paper": Cor16Config(log2_n_values=[5, 6, 7, 8, 9, 10, 11, 12], d_values=[64, 128, 256], trials=2, draws=5),
}


def _cell_reduction(config: dict, log2_n: int, d: int, seed: int, draw: int = 0) -> ExactOutputReduction:
    """The cell's Theorem 6 reduction with trial ``draw``'s public codebook (draw 0: the games' trial 0)."""
    base = ExactOutputReduction(2**log2_n, d, C=1.0, codebook=config["codebook"])
    return trial_input(base, seed, draw)[0]


def cor16_sweep(config: dict, seed: int) -> list[dict]:
    """Per ``(log2 n, d)`` cell: the sparsity of its attention on each of ``draws`` public codebooks,
    then, where ε < 1/2 gives the paper's C on every game trial's public codebook, one unit per
    cache of :func:`sparse_players` and trial of the INDEX game (each trial at its own codebook's C)."""
    units = []
    for log2_n in config["log2_n_values"]:
        for d in config["d_values"]:
            units += [{"part": "sparsity", "log2_n": log2_n, "d": d, "draw": draw} for draw in range(config["draws"])]
            if all(_cell_reduction(config, log2_n, d, seed, trial).eps < 0.5 for trial in range(config["trials"])):
                units += [{"part": "game", "log2_n": log2_n, "d": d, "cache": frozen_spec(cache), "trial": trial}
                          for cache in sparse_players(2**log2_n) for trial in range(config["trials"])]
    return units


def cor16_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """A cell's sparsity at the theorem's C and at eq. 16's threshold, or one game of HO Theorem 6's
    INDEX on the cell's instances (:func:`protocols.game.play_trial`)."""
    log2_n, d, tau = unit["log2_n"], unit["d"], config["tau"]
    n = 2**log2_n
    if unit["part"] == "game":
        game = ExactOutputReduction(n, d, C=None, codebook=config["codebook"])
        outcome = play_trial(game, unit["cache"], seed, unit["trial"], players)
        return [{"part": "game", "n": n, "d": d, **row} for row in outcome_rows(build(unit["cache"]), [outcome])]
    reduction = _cell_reduction(config, log2_n, d, seed, unit.get("draw", 0))
    eps = reduction.eps
    cell = {"part": "sparsity", "n": n, "log2_n": log2_n, "d": d, "draw": unit.get("draw", 0), "eps_measured": eps, "tau": tau,
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
    else:
        cell.update({"theorem_C": None, "promise_holds": None})
    return [cell]


def cor16_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """The cells' sparsity (draw 0's codebook, each cell with its ``draws``; ``sparsity_draws``: per
    draw the worst row over the cells where the promise is guaranteed), and per cell and cache a
    results point (99% Wilson, Fano bound) with the best accuracy below ``n·d`` bits."""
    cells, points = [], []
    sparse_rows = [r for r in rows if r["part"] == "sparsity"]
    for row in sparse_rows:
        if row.get("draw", 0) != 0:
            continue
        cell = {k: v for k, v in row.items() if k != "part"}
        cell["draws"] = [{k: r.get(k) for k in ("draw", "eps_measured", "promise_guaranteed", "near_zero_fraction_min",
                                                 "spike_mass_min", "promise_holds")}
                         for r in sparse_rows if r["n"] == cell["n"] and r["d"] == cell["d"]]
        games = [r for r in rows if r["part"] == "game" and r["n"] == cell["n"] and r["d"] == cell["d"]]
        if cell["theorem_C"] is not None:
            here = points_from_rows(games)
            for point in here:
                point.update({"n": cell["n"], "d": cell["d"], "log2_n": cell["log2_n"], "theorem_C": cell["theorem_C"]})
            points += here
            below = [p for p in here if p["memory_ratio"] < 1.0]
            cell["best_accuracy_below_nd"] = max((p["accuracy"] for p in below), default=None)
        cells.append(cell)
    sparsity_draws = []
    for draw in sorted({r.get("draw", 0) for r in sparse_rows}):
        kept = [r for r in sparse_rows if r.get("draw", 0) == draw and r["promise_guaranteed"]]
        sparsity_draws.append({
            "draw": draw, "cells": len(kept),
            "near_zero_fraction_min": min((r["near_zero_fraction_min"] for r in kept), default=None),
            "spike_mass_min": min((r["spike_mass_min"] for r in kept), default=None),
            "promise_holds": sum(1 for r in kept if r["promise_holds"]),
        })
    return {
        "experiment": "cor16", "tau": config["tau"], "promise": PROMISE, "codebook": config["codebook"],
        "log2_n_values": config["log2_n_values"], "d_values": config["d_values"], "cells": cells, "points": points,
        "sparsity_draws": sparsity_draws,
    }


def cor16_headline(summary: dict) -> str:
    """``barriers report``'s line: for n where Corollary 16's promise is guaranteed, the smallest
    fraction of Bob's attention weights ≤ τ and the lightest spike, each a worst case over rows and
    cells within one public codebook draw, reported over the draws as median [min, max] (k draws),
    then the best accuracy of a cache within memory ratio 1 (99% Wilson) beside its Fano frontier (exact)."""
    from protocols.headline import best_within_ratio, over_draws, percent

    cells = [c for c in summary.get("cells") or [] if c.get("promise_guaranteed")]
    parts = []
    if cells:
        near = min(cells, key=lambda c: c["near_zero_fraction_min"])
        draws = [r for r in summary.get("sparsity_draws") or [] if r.get("cells")] or [
            {"near_zero_fraction_min": near["near_zero_fraction_min"],
             "spike_mass_min": min(c["spike_mass_min"] for c in cells), "cells": len(cells)}]
        fractions = over_draws([100 * r["near_zero_fraction_min"] for r in draws], unit="%")
        light = over_draws([max(1.0 - r["spike_mass_min"], 0.0) for r in draws])
        if len(draws) == 1:  # one codebook per cell
            parts.append(f"for n ≥ {min(c['n'] for c in cells)} at the paper's C at least "
                         f"{100 * draws[0]['near_zero_fraction_min']:.2f}% (single draw; every weight but the spike: "
                         f"n/(n+1) = {100 * near['n'] / (near['n'] + 1):.2f}%, exact) of Bob's attention weights are "
                         f"≤ τ = {summary.get('tau')} (exact) and the spike weighs ≥ 1 − "
                         f"{max(1.0 - draws[0]['spike_mass_min'], 0.0):.1e} (single draw)")
        else:
                parts.append(f"for n ≥ {min(c['n'] for c in cells)} at the paper's C, in every row of every such cell, "
                         f"at least {fractions} (per draw the worst row; the low end is the worst draw; every weight "
                         f"but the spike: n/(n+1) = {100 * near['n'] / (near['n'] + 1):.2f}%, exact) of Bob's attention weights "
                         f"are ≤ τ = {summary.get('tau')} (exact) and the spike weighs ≥ 1 − {light} (per draw the "
                         "lightest spike; the high end is the worst draw)")
    found = best_within_ratio(summary.get("points") or [], 1.0)
    if found:
        best = max((p for _, p in found), key=lambda p: p["accuracy"])
        worst = min((p for _, p in found), key=lambda p: p["accuracy"])
        shown = percent(best["accuracy"], best["accuracy_low"], best["accuracy_high"])
        if worst is not best:
            shown = f"{percent(worst['accuracy'], worst['accuracy_low'], worst['accuracy_high'])} to {shown}"
        parts.append(f"within memory ratio 1 the best point of each family ({', '.join(label for label, _ in found)}) "
                     f"decodes {shown} where Fano allows {100 * best['fano_max_accuracy']:.1f}% (exact)")
    sparse = [p for p in summary.get("points") or [] if p.get("family") in SPARSE_FAMILIES and p["memory_ratio"] < 1.0]
    if sparse:
        top = max(sparse, key=lambda p: p["accuracy"])
        parts.append(f"players that use the sparsity (top-k, sparse values) reach at best "
                     f"{percent(top['accuracy'], top['accuracy_low'], top['accuracy_high'])} below ratio 1 "
                     f"(at ratio {top['memory_ratio']:.2f}, exact, where Fano allows "
                     f"{100 * top['fano_max_accuracy']:.1f}%, exact)")
    return "; ".join(parts) or "see figure"


EXPERIMENTS = [
    Experiment(
        "cor16", "HO Corollary 16", "cor16",
        "how sparse Theorem 6's attention rows are at its C, and that decoding still needs n·d bits",
        COR16_PRESETS, cor16_sweep, cor16_measure, cor16_summary, "plots.window:cor16_figure", headline="reductions.cor16:cor16_headline",
    ),
]


# --- certificates -------------------------------------------------------------------------------
#
# Each check returns certificates (reductions.tactics) that the runner re-verifies; the shared
# lemmas (exp/ln monotone, sums of bounded terms) live in reductions.spike_lemmas.


@claim(
    name="Corollary 16 sparsity at the paper's C",
    source="HO Corollary 16 (via Theorem 6, eqs. 13-16)",
    statement="Bob's softmax row (n+1 entries: Alice's n tokens and his own), at C = 2 ln n/(1-2ε), ε in (0, 1/2), "
    "n >= 1, with <k_i,k_a> <= ε (a != i) and <k_i,k_i> >= 1-ε: every off-spike weight is <= e^{Cε}/e^{C(1-ε)} "
    "= n^{-2} and the spike is >= n/(n+1); so n of the n+1 entries are <= n^{-2}, a fraction n/(n+1) that is "
    ">= 0.99 iff n >= 99",
    relied_on=True,
)
def _check_sparsity():
    z = sp.Symbol("z", nonnegative=True)
    n = sp.Symbol("n", positive=True)
    s, eps = eps_in_open_half()
    C = 2 * sp.log(n) / (1 - 2 * eps)
    C_sym = sp.Symbol("C", nonnegative=True)
    p_off, p_spike = sp.symbols("p_off p_spike", real=True)
    P, Q, w_l, w_i, Z, R = sp.symbols("P Q w_l w_i Z R", positive=True)
    where = {sp.Symbol("epsilon"): eps, C_sym: C, P: sp.exp(C * (1 - eps)), Q: sp.exp(C * eps)}
    return [
        Identity(sp.exp(C * eps) / sp.exp(C * (1 - eps)), n**-2, where={sp.Symbol("epsilon"): eps},
                 note="at the paper's C, e^{Cε}/e^{C(1-ε)} = e^{-C(1-2ε)} = n^{-2}"),
        Implies(ge(2 * sp.log(1 + z) / (1 - 2 * eps), 0), where={sp.Symbol("epsilon"): eps, n: 1 + z},
                note="C >= 0 for n >= 1"),
        Implies(sp.And(le(C_sym * p_off, C_sym * eps), ge(C_sym * p_spike, C_sym * (1 - eps)), ge(C_sym * eps, 0)),
                [le(p_off, eps), ge(p_spike, 1 - eps)], engine="z3", where={sp.Symbol("epsilon"): eps},
                note="scores: off-spike <= Cε (Bob's own token scores 0 <= Cε), spike >= C(1-ε)"),
        *exp_log_monotone(),  # so each off-spike weight w_l <= Q and the spike's w_i >= P
        Implies(le(w_l / Z, Q / P), [le(w_l, Q), ge(w_i, P), ge(Z, w_i + w_l)], engine="z3", where=where,
                note="an off-spike softmax entry w_l/Z is at most w_l/w_i <= Q/P = n^{-2}"),
        *sum_bounds(),  # R = the n off-spike weights <= nQ
        Implies(ge(w_i / (w_i + R), n / (n + 1)), [ge(w_i, P), le(R, n * Q), sp.Eq(Q * n**2, P)], engine="z3",
                where=where, note="the spike entry w_i/(w_i + R) >= P/(P + nQ) = n/(n+1)"),
        Implies(iff(ge(n / (n + 1), sp.Rational(99, 100)), ge(n, 99)), engine="z3",
                note="n/(n+1) >= 0.99 iff n >= 99"),
    ]


@claim(
    name="Corollary 16: 0.99 of QK^T is zero once n >= 197",
    source="HO Corollary 16 (the promise on QK^T)",
    statement="In the reduction (Alice's queries 0, Bob's key 0) the entries of QK^T that are 0 whatever x and the "
    "keys are Alice's n(n+1)/2 causal scores and Bob's own score: of the (n+1)(n+2)/2 causal entries a fraction "
    ">= 1 - 2n/((n+1)(n+2)) is exactly 0, which is >= 0.99 iff n >= 197 (over n >= 1); of the full (n+1)^2 "
    "matrix a fraction >= 1 - n/(n+1)^2, >= 0.99 iff n >= 98. The promise of Corollary 16 holds literally",
    relied_on=True,
)
def _check_score_sparsity():
    a, l, m, d, i = sp.symbols("a l m d i", integer=True, positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    x = sp.Symbol("n", positive=True)  # the same n, as a real for z3
    K = sp.IndexedBase("K")
    C = sp.Symbol("C", real=True)
    causal = (x * (x + 1) / 2 + 1) / ((x + 1) * (x + 2) / 2)
    full = (x * (x + 1) + 1) / (x + 1) ** 2
    ninety_nine = sp.Rational(99, 100)
    return [
        Identity(sp.Sum(0 * K[a, m], (m, 1, d)), 0, note="Alice's query 0 scores 0 against every key"),
        Identity(sp.Sum(C * K[i, m] * 0, (m, 1, d)), 0, note="Bob's query scores 0 against his own key 0"),
        Identity(sp.Sum(l, (l, 1, n + 1)), (n + 1) * (n + 2) / 2, note="causal entries: row l has l of them"),
        Identity(sp.Sum(l, (l, 1, n)), n * (n + 1) / 2, note="Alice's rows 1..n hold n(n+1)/2 of them"),
        Identity(causal, 1 - 2 * x / ((x + 1) * (x + 2)), note="zero fraction >= 1 - 2n/((n+1)(n+2))"),
        Implies(ge(causal, ninety_nine), [ge(x, 197)], engine="z3", note="n >= 197 => >= 0.99"),
        Implies(lt(causal, ninety_nine), [ge(x, 1), le(x, 196)], engine="z3",
                note="1 <= n <= 196 => < 0.99: n0 = 197 is the least integer"),
        Identity(full, 1 - x / (x + 1) ** 2, note="full matrix: n(n+1) + 1 zeros of (n+1)^2"),
        Implies(ge(full, ninety_nine), [ge(x, 98)], engine="z3", note="n >= 98 => >= 0.99"),
        Implies(lt(full, ninety_nine), [ge(x, 1), le(x, 97)], engine="z3", note="1 <= n <= 97 => < 0.99"),
    ]
