"""HO Algorithm 1, Theorems 24 and 25: sampling sliding-window attention with unmasked values.

The caches live in :mod:`caches.sliding`; this module measures them and certifies the analysis.

1. **Exact moments.** One run of Algorithm 1 outputs the value of token ``l`` with probability
   ``p_l``, the eq. 20 weight (in-window ``e^{s_l}/S`` directly, out-of-window ``(i-W)/S`` times
   the reservoir's uniform ``1/(i-W)``). So ``E[O_ij] = Attn_W(V)_j`` and
   ``E[O_ij^2] = Attn_W(V∘V)_j``: the exact variance of every step and coordinate is two calls of
   the reference (:func:`estimator_moments`). Bias, the variance bound and the copies Theorem 25
   asks for are measured against these exact numbers.
2. **Streams** (:func:`make_stream`): ``random`` (scores ~ N(0,1), values in [0,1]) and four
   adversarial ones: ``outside`` (the mass sits outside the window: the plain window cache is
   off by about 1), ``outlier`` (one value ``||V||_∞ = 50``: a rare draw carries much
   of the mean, so many copies are needed), ``vanishing`` (one nonzero value, so ``Attn_W ≈ 1/i``,
   the variance bound is nearly tight and Theorem 25's assumption ``|Attn_W| = Ω(1)`` fails)
   and ``signed`` (±1 values: ``Attn_W ≈ 0`` and the printed variance bound is false).
3. **Experiment** ``alg1``: bias per step (``R`` runs of Algorithm 1 against the exact mean, a
   Bonferroni z-test at false-alarm rate ``alpha``), the running sum's error, the plain window
   cache's bias, the variance bound over every cell, relative error against copies ``T`` for
   ``Q`` groups, relative error along the stream when the assumption fails, and memory.
4. **Certificates**: Theorem 24's expectation identity (eqs. 47-54, sums over a symbolic window)
   and reservoir uniformity (induction), its ``O(dW)`` space and time, the variance chain (59-63)
   for nonnegative values and its failure for signed ones, the Chebyshev step (64-65), the
   Chernoff step as printed (refuted from ``p = 1/3``) and rescued by Cantelli's one-sided ``1/4``
   (those inequalities cited), and Theorem 25's ``[sic]`` places, each printed form refuted and
   the corrected one established: the assumption on ``Attn`` (needs ``Attn_W``), ``j in [n]``
   (``[d]``), the union bound and space with ``log(d/δ)`` (``log(nd/δ)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import sympy as sp

from caches.eviction import WindowCache
from caches.exact import ExactCache
from caches.params import ParameterError, check_choice, check_int
from caches.sliding import Algorithm1Cache, BoostedWindowCache, RunningSumWindowCache, windowed_attention_stream
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from reductions.certify import claim
from reductions.tactics import Cited, Counterexample, Identity, Implies, eps_in_open_half, eta_in_open_unit, ge, gt, le, lt

STREAMS = ("random", "outside", "outlier", "vanishing", "signed")
#: The largest value of the ``outlier`` stream (its ``||V||_∞``).
OUTLIER_VALUE = 50.0


# --- streams ------------------------------------------------------------------------------------


def make_stream(kind: str, n: int, d: int, window: int, seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stream ``(Q, K, V)`` of ``n`` triples in ``R^d`` (see the module docstring for the kinds)."""
    check_choice("stream", kind, STREAMS)
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    window = check_int("window", window, 1)
    rng = np.random.default_rng(seed)
    scale = d ** -0.25  # <q, k> ~ N(0, 1)
    Q = rng.normal(size=(n, d)) * scale
    K = rng.normal(size=(n, d)) * scale
    if kind == "random":
        V = rng.random((n, d))
    elif kind == "outside":
        # Every key along one direction u, every query along -2u: in-window scores are -2, the
        # first half of the stream carries values in [1/2, 1], the second half zeros.
        u = rng.normal(size=d)
        u /= np.linalg.norm(u)
        K = np.tile(u, (n, 1))
        Q = -2.0 * K
        V = np.zeros((n, d))
        V[: n // 2] = rng.uniform(0.5, 1.0, size=d)
    elif kind == "outlier":
        V = rng.random((n, d))
        V[0] = OUTLIER_VALUE
    elif kind == "vanishing":
        V = np.zeros((n, d))
        V[0] = 1.0
    else:  # signed
        V = rng.choice([-1.0, 1.0], size=(n, d))
    return Q, K, V


def estimator_moments(Q, K, V, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of one run of Algorithm 1 at every step, shape ``(n, d)`` each.

    HO Theorem 24: the output is the value of token ``l`` with probability equal to its eq. 20
    weight, so ``E[O] = Attn_W(V)`` and ``E[O^2] = Attn_W(V∘V)``.
    """
    mean = windowed_attention_stream(Q, K, V, window)
    second = windowed_attention_stream(Q, K, np.asarray(V) ** 2, window)
    return mean, np.maximum(second - mean**2, 0.0)


def is_random(variance, mean) -> np.ndarray:
    """Cells whose exact variance is real, not rounding: ``Var > 1e-10 (E[O]^2 + Var)`` (i.e. > 1e-10 E[O^2])."""
    variance, mean = np.asarray(variance, float), np.asarray(mean, float)
    return variance > 1e-10 * (mean**2 + variance) + 1e-300


def running_max_abs(V: np.ndarray) -> np.ndarray:
    """``||V_i||_∞`` at every step ``i``: the largest ``|v_lj|`` among the first ``i`` tokens."""
    return np.maximum.accumulate(np.abs(np.asarray(V)).max(axis=1))


def bonferroni_z(alpha: float, cells: int) -> float:
    """Two-sided normal threshold with family-wise false-alarm rate ``alpha`` over ``cells`` tests."""
    return NormalDist().inv_cdf(1.0 - alpha / (2 * max(cells, 1)))


def theorem25_copies(variance, mean, eps: float):
    """Eq. 64: ``T = 3 Var / (ε² E[O]²)`` copies per mean (``inf`` where ``E[O] = 0``)."""
    variance, mean = np.asarray(variance, float), np.asarray(mean, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean != 0, 3 * variance / (eps**2 * mean**2), np.inf)


def relative_error(estimate, reference) -> float:
    """Median over coordinates of ``|estimate - reference| / |reference|`` (``inf`` where reference is 0)."""
    estimate, reference = np.asarray(estimate, float), np.asarray(reference, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reference != 0, np.abs(estimate - reference) / np.abs(reference), np.inf)
    return float(np.median(ratio))


# --- measurements -------------------------------------------------------------------------------


def measure_bias(stream, window: int, runs: int, seed: int, alpha: float) -> dict:
    """Bias of Algorithm 1 (``runs`` independent runs), of the running sum and of the plain window cache.

    Algorithm 1's runs are the runs of one :class:`BoostedWindowCache` (shared window, own
    reservoirs and draws, so independent at every step). Per step and coordinate the mean of the
    runs is compared with the exact ``Attn_W`` in units of its exact standard error; the test
    rejects unbiasedness if any ``|z|`` exceeds the Bonferroni threshold for ``alpha`` over all
    tested cells (normal approximation). Cells with zero variance must match to 1e-12.
    :class:`WindowCache` with ``window - 1`` kept tokens attends to exactly the ``W`` in-window
    tokens (its own included) but drops everything older: its deviation is the bias of the common
    practice for eq. 20.
    """
    Q, K, V = stream
    mean, variance = estimator_moments(Q, K, V, window)
    sampler = BoostedWindowCache(window=window, copies=runs, groups=1, seed=seed)
    exact = RunningSumWindowCache(window=window)
    plain = WindowCache(window=max(window - 1, 1), dtype="float64")
    sample_mean = np.empty_like(mean)
    exact_out = np.empty_like(mean)
    plain_out = np.empty_like(mean)
    for t in range(len(Q)):
        sample_mean[t] = np.ascontiguousarray(sampler.step_samples(Q[t], K[t], V[t]).T).mean(axis=1)  # pairwise sums
        exact_out[t] = exact.step(Q[t], K[t], V[t])
        plain_out[t] = plain.step(Q[t], K[t], V[t])
    se = np.sqrt(variance / runs)
    random_cells = is_random(variance, mean)
    cells = int(random_cells.sum())
    z = np.where(random_cells, (sample_mean - mean) / np.where(random_cells, se, 1.0), 0.0)
    z_plain = np.where(random_cells, (plain_out - mean) / np.where(random_cells, se, 1.0), 0.0)
    threshold = bonferroni_z(alpha, cells)
    deterministic_error = float(np.max(np.abs(sample_mean - mean)[~random_cells], initial=0.0))
    return {
        "steps": list(range(1, len(Q) + 1)),
        "alg1_max_abs_bias": np.abs(sample_mean - mean).max(axis=1).tolist(),
        "alg1_threshold_level": [float(row.max()) if row.size else None
                                 for row in (threshold * se[t][random_cells[t]] for t in range(len(Q)))],
        "running_sum_max_abs_error": np.abs(exact_out - mean).max(axis=1).tolist(),
        "window_cache_max_abs_bias": np.abs(plain_out - mean).max(axis=1).tolist(),
        "runs": runs,
        "tested_cells": cells,
        "alpha": alpha,
        "z_threshold": threshold,
        "alg1_max_abs_z": float(np.abs(z).max()),
        "alg1_deterministic_max_error": deterministic_error,
        "alg1_unbiased": bool(np.abs(z).max() <= threshold and deterministic_error <= 1e-12),
        "running_sum_max_abs_error_overall": float(np.abs(exact_out - mean).max()),
        "window_cache_max_abs_bias_overall": float(np.abs(plain_out - mean).max()),
        "window_cache_max_abs_z": float(np.abs(z_plain).max()),
        "window_cache_rejected": bool(np.abs(z_plain).max() > threshold),
    }


def measure_variance(stream, window: int, scatter_points: int = 240) -> dict:
    """HO Theorem 25's ``Var[O_ij] <= ||V||_∞ E[O_ij]`` at every step ``i`` and coordinate ``j``.

    Uses the exact moments. Reports the largest ratio ``Var / (||V||_∞ E)`` over cells with
    ``E > 0``, how many cells violate the bound (cells with ``E <= 0`` and positive variance
    violate it outright), the corrected form ``Var <= ||V||_∞ E|O|`` and a thinned scatter.
    """
    Q, K, V = stream
    mean, variance = estimator_moments(Q, K, V, window)
    vinf = running_max_abs(V)[:, None] * np.ones_like(mean)
    bound = vinf * mean
    abs_mean = windowed_attention_stream(Q, K, np.abs(V), window)
    violations = variance > bound + 1e-12 * np.maximum(1.0, np.abs(bound))
    positive = mean > 0
    ratio = np.where(positive, variance / np.where(positive, bound, 1.0), 0.0)
    corrected = variance <= vinf * abs_mean + 1e-12 * np.maximum(1.0, vinf * abs_mean)
    rows = np.flatnonzero((positive & is_random(variance, mean)).ravel())
    chosen = rows[np.linspace(0, rows.size - 1, min(scatter_points, rows.size)).astype(int)] if rows.size else rows
    return {
        "cells": int(mean.size),
        "violations": int(violations.sum()),
        "nonpositive_mean_cells": int((~positive).sum()),
        "max_ratio": float(ratio.max()) if positive.any() else None,
        "corrected_bound_holds": bool(corrected.all()),
        "scatter": {"bound": bound.ravel()[chosen].tolist(), "variance": variance.ravel()[chosen].tolist()},
    }


def measure_copies(stream, window: int, copies_grid, groups_grid, reps: int, seed: int, eps: float) -> list[dict]:
    """Relative error of :class:`BoostedWindowCache` at the last step against ``T`` (copies) and ``Q`` (groups).

    Each of ``reps`` caches (seeds ``[seed, rep]`` flattened into one integer) reads the stream and
    outputs at the final step. Also: the memory of the cache, the CLT prediction of the relative
    error of one mean ``sqrt(Var/T)/|E|`` (median over coordinates), the fraction of reps whose
    every coordinate is within ``(1±eps)``, and eq. 64's ``T`` for that ``eps``.
    """
    Q, K, V = stream
    mean, variance = estimator_moments(Q, K, V, window)
    last_mean, last_var = mean[-1], variance[-1]
    needed = theorem25_copies(last_var, last_mean, eps)
    rows = []
    for groups in groups_grid:
        for copies in copies_grid:
            errors, inside, memory = [], 0, None
            for rep in range(reps):
                cache = BoostedWindowCache(window=window, copies=copies, groups=groups, seed=seed * 1_000_003 + rep)
                cache.extend(Q[:-1], K[:-1], V[:-1])
                estimate = cache.step(Q[-1], K[-1], V[-1])
                memory = cache.memory_bits
                errors.append(relative_error(estimate, last_mean))
                inside += bool(np.all(np.abs(estimate - last_mean) <= eps * np.abs(last_mean)))
            with np.errstate(divide="ignore", invalid="ignore"):
                predicted = np.where(last_mean != 0, np.sqrt(last_var / copies) / np.abs(last_mean), np.inf)
            rows.append({
                "copies": copies, "groups": groups, "memory_bits": memory, "reps": reps,
                "median_relative_error": float(np.median(errors)),
                "predicted_relative_error": float(np.median(predicted)),
                "within_eps_fraction": inside / reps,
                "eps": eps,
                "theorem25_copies_median": float(np.median(needed)),
            })
    return rows


def measure_along_stream(stream, window: int, copies: int, groups: int, reps: int, seed: int, eps: float,
                         points: int = 48) -> dict:
    """Relative error of one boosted configuration at every step, and the copies eq. 64 asks for there.

    Where ``Attn_W`` shrinks along the stream (``vanishing``) the error of a fixed ``T·Q`` grows
    like ``sqrt(i)`` and the copies Theorem 25 needs grow like ``i``: without ``|Attn_W| = Ω(1)``
    the space is not sublinear. ``signed`` streams have ``Attn_W ≈ 0``: no ``T`` suffices.
    """
    Q, K, V = stream
    mean, variance = estimator_moments(Q, K, V, window)
    n = len(Q)
    errors = np.empty((reps, n))
    for rep in range(reps):
        cache = BoostedWindowCache(window=window, copies=copies, groups=groups, seed=seed * 1_000_003 + rep)
        for t in range(n):
            errors[rep, t] = relative_error(cache.step(Q[t], K[t], V[t]), mean[t])
    needed = np.median(theorem25_copies(variance, mean, eps), axis=1)
    steps = np.unique(np.geomspace(window + 1, n, points).astype(int))
    return {
        "copies": copies, "groups": groups, "reps": reps, "eps": eps,
        "steps": steps.tolist(),
        "median_relative_error": [float(np.median(errors[:, s - 1])) for s in steps],
        "abs_attention_median": [float(np.median(np.abs(mean[s - 1]))) for s in steps],
        "theorem25_copies": [float(needed[s - 1]) for s in steps],
    }


def memory_table(stream, window: int, copies_grid, groups_grid) -> list[dict]:
    """Memory (``8·len(to_bytes())``) of every cache after the stream, in bits and in d-vectors."""
    Q, K, V = stream
    d = Q.shape[1]
    players = [
        RunningSumWindowCache(window=window),
        Algorithm1Cache(window=window),
        *(BoostedWindowCache(window=window, copies=c, groups=g) for g in groups_grid for c in copies_grid),
        WindowCache(window=max(window - 1, 1), dtype="float64"),
        ExactCache("float64"),
    ]
    rows = []
    for cache in players:
        cache.extend(Q, K, V)
        bits = cache.memory_bits
        rows.append({"cache": repr(cache), "family": type(cache).__name__, "memory_bits": bits,
                     "float64_vectors": (bits - 72) / (64 * d)})
    return rows


# --- experiment ---------------------------------------------------------------------------------

COPIES_STREAMS = ("random", "outlier")
ALONG_STREAMS = ("random", "vanishing", "signed")


@dataclass(frozen=True)
class Alg1Config(ExperimentConfig):
    """Experiment ``alg1``: bias, variance and copies of Algorithm 1 (quick preset = the defaults)."""

    n: int = param(384, low=4, doc="stream length")
    W: int = param(32, low=2, doc="window length (must be < n)")
    d: int = param(8, low=1, doc="dimension")
    runs: int = param(4000, low=2, doc="independent runs for the bias test")
    alpha: float = param(1e-3, low=0.0, high=1.0, low_open=True, high_open=True, doc="significance level of the bias test")
    copies: list = param([1, 4, 16, 64, 256], low=1, doc="numbers of copies")
    groups: list = param([1, 5], low=1, doc="median-of-means groups")
    reps: int = param(12, low=1, doc="repetitions per (copies, groups)")
    eps: float = param(0.1, low=0.0, high=1.0, low_open=True, high_open=True, doc="target relative error ε")
    along_copies: int = param(64, low=1, doc="copies along the stream")
    along_groups: int = param(5, low=1, doc="groups along the stream")
    along_reps: int = param(4, low=1, doc="repetitions along the stream")
    draws: int = param(3, low=1, doc="independent draws (streams and caches) of the bias test and of the "
                       "one-group copies curve; draw 0 is the one the figure shows")

    def check(self) -> None:
        if self.W >= self.n:
            raise ParameterError(f"W must be < n = {self.n} (some tokens must leave the window), got {self.W}")


ALG1_PRESETS = {
    "quick": Alg1Config(),
    "paper": Alg1Config(n=1024, W=64, d=16, runs=20000, copies=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
                        groups=[1, 5, 9], reps=40, along_reps=16, draws=5),
}


def alg1_sweep(config: dict, seed: int) -> list[dict]:
    """The units: per stream Algorithm 1's bias and the variance bound, per copies stream and
    ``(groups, copies)`` the boosted cache's error at the last step, per along stream the error
    along the stream, and the memory table. Draws ``1 .. draws-1`` repeat the bias test per stream
    and the one-group copies curve on fresh streams and caches (units with a ``draw``)."""
    units = [{"part": part, "stream": kind} for kind in STREAMS for part in ("bias", "variance")]
    units += [{"part": "copies", "stream": kind, "groups": groups, "copies": copies}
              for kind in COPIES_STREAMS for groups in config["groups"] for copies in config["copies"]]
    extra = range(1, config.get("draws", 1))
    units += [{"part": "bias", "stream": kind, "draw": draw} for draw in extra for kind in STREAMS]
    units += [{"part": "copies", "stream": kind, "groups": 1, "copies": copies, "draw": draw}
              for draw in extra for kind in COPIES_STREAMS for copies in config["copies"]]
    units += [{"part": "along", "stream": kind} for kind in ALONG_STREAMS]
    return units + [{"part": "memory", "stream": "random"}]


def alg1_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """One unit's rows. Its stream is ``make_stream(kind, ..., [seed, index of kind])`` (draw 0) or
    ``[seed, index of kind, draw]`` (draw >= 1); the caches' seeds are ``seed·1000003 + 1000·draw``
    plus the kind's index (bias), 100 + it (copies) or 200 + it (along). Per-step curves become one
    row each (part ``"... curve"``), beside one row of the scalars; rows of a draw >= 1 carry it."""
    n, W, d, part, kind = config["n"], config["W"], config["d"], unit["part"], unit["stream"]
    draw = unit.get("draw", 0)
    if draw:
        stream = make_stream(kind, n, d, W, [seed, STREAMS.index(kind), draw])
        base = seed * 1_000_003 + 1000 * draw
        if part == "bias":
            result = measure_bias(stream, W, config["runs"], base + STREAMS.index(kind), config["alpha"])
            return [{"part": "bias draw", "stream": kind, "draw": draw,
                     **{key: value for key, value in result.items() if not isinstance(value, list)}}]
        rows = measure_copies(stream, W, [unit["copies"]], [unit["groups"]], config["reps"],
                              base + 100 + COPIES_STREAMS.index(kind), config["eps"])
        return [{"part": "copies draw", "stream": kind, "draw": draw, **row} for row in rows]
    stream = make_stream(kind, n, d, W, [seed, STREAMS.index(kind)])
    base = seed * 1_000_003
    if part == "bias":
        return _split_rows(part, kind, measure_bias(stream, W, config["runs"], base + STREAMS.index(kind), config["alpha"]))
    if part == "variance":
        variance = measure_variance(stream, W)
        scatter = variance.pop("scatter")
        return _split_rows(part, kind, {**variance, "scatter_bound": scatter["bound"],
                                        "scatter_variance": scatter["variance"]})
    if part == "copies":
        rows = measure_copies(stream, W, [unit["copies"]], [unit["groups"]], config["reps"],
                              base + 100 + COPIES_STREAMS.index(kind), config["eps"])
        return [{"part": part, "stream": kind, **row} for row in rows]
    if part == "along":
        return _split_rows(part, kind, measure_along_stream(
            stream, W, config["along_copies"], config["along_groups"], config["along_reps"],
            base + 200 + ALONG_STREAMS.index(kind), config["eps"]))
    return [{"part": part, "stream": kind, **row} for row in memory_table(stream, W, config["copies"], config["groups"])]


def _split_rows(part: str, kind: str, result: dict) -> list[dict]:
    """A measurement as rows: one of its scalars, then one per index of its (equally long) lists."""
    lists = {key: value for key, value in result.items() if isinstance(value, list)}
    head = {"part": part, "stream": kind, **{key: value for key, value in result.items() if key not in lists}}
    length = len(next(iter(lists.values()))) if lists else 0
    return [head] + [{"part": f"{part} curve", "stream": kind, **{key: value[i] for key, value in lists.items()}}
                     for i in range(length)]


def _joined(rows: list[dict], part: str, kind: str, lists_first: bool = False) -> dict:
    """The measurement :func:`_split_rows` split, from the rows."""
    head = next({k: v for k, v in row.items() if k not in ("part", "stream")}
                for row in rows if row["part"] == part and row["stream"] == kind)
    curve = [row for row in rows if row["part"] == f"{part} curve" and row["stream"] == kind]
    lists = {key: [row[key] for row in curve] for key in (curve[0] if curve else {}) if key not in ("part", "stream")}
    return {**lists, **head} if lists_first else {**head, **lists}


def alg1_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Bias, variance bound, copies and the |Attn_W| = Ω(1) assumption per stream, and the memory table.

    Draw 0 fills ``bias``, ``copies`` and the curves the figure reads; ``bias_draws`` (the bias
    test's scalars) and ``copies_draws`` (the one-group copies rows) hold every draw, draw 0 first."""
    results = []
    for kind in STREAMS:
        variance = _joined(rows, "variance", kind)
        variance["scatter"] = {"bound": variance.pop("scatter_bound"), "variance": variance.pop("scatter_variance")}
        copies = [{k: v for k, v in row.items() if k not in ("part", "stream")}
                  for row in rows if row["part"] == "copies" and row["stream"] == kind]
        bias = _joined(rows, "bias", kind, lists_first=True)
        bias_draws = [{"draw": 0, **{k: v for k, v in bias.items() if not isinstance(v, list)}}]
        bias_draws += [{k: v for k, v in row.items() if k not in ("part", "stream")}
                       for row in rows if row["part"] == "bias draw" and row["stream"] == kind]
        copies_draws = [{"draw": 0, **row} for row in copies if row["groups"] == 1]
        copies_draws += [{k: v for k, v in row.items() if k not in ("part", "stream")}
                         for row in rows if row["part"] == "copies draw" and row["stream"] == kind]
        results.append({"stream": kind, "bias": bias, "bias_draws": bias_draws, "variance": variance,
                        "copies": copies if kind in COPIES_STREAMS else None,
                        "copies_draws": copies_draws if kind in COPIES_STREAMS else None,
                        "along": _joined(rows, "along", kind) if kind in ALONG_STREAMS else None})
    memory = [{k: v for k, v in row.items() if k not in ("part", "stream")} for row in rows if row["part"] == "memory"]
    return {
        "experiment": "alg1", "n": config["n"], "W": config["W"], "d": config["d"], "runs": config["runs"],
        "alpha": config["alpha"], "eps": config["eps"], "draws": config.get("draws", 1), "streams": results,
        "memory": memory,
    }


def alg1_headline(summary: dict) -> str:
    """``barriers report``'s line: Algorithm 1's largest bias z-score against the Bonferroni limit, the
    running sum's and the plain window's largest errors (each the maximum over the streams of one
    draw, reported as median [min, max] over the draws: the max is the worst case seen), the variance
    bound's violations (exact counts on draw 0's streams), the relative error against copies (exponent
    with its 99% bootstrap interval over draw 0's copies grid) and its ends over the draws."""
    from protocols.headline import fitted_slope, over_draws, spread

    streams = summary.get("streams") or []
    if not streams:
        return "see figure"
    per_stream = [s.get("bias_draws") or [s["bias"]] for s in streams]
    draws = sorted({b.get("draw", 0) for rows in per_stream for b in rows})

    def worst(key):  # per draw, the maximum over the streams
        return [max(b[key] for rows in per_stream for b in rows if b.get("draw", 0) == draw) for draw in draws]

    tests = [b for rows in per_stream for b in rows]
    unbiased = sum(1 for b in tests if b.get("alg1_unbiased"))
    parts = [f"Algorithm 1 unbiased in {unbiased} of {len(tests)} tests ({len(streams)} streams × {len(draws)} draw{'s' if len(draws) > 1 else ''}): "
             f"largest |z| per draw {over_draws(worst('alg1_max_abs_z'))} over {summary.get('runs')} runs per cell, "
             f"under its Bonferroni limit {spread([b['z_threshold'] for b in tests], 'exact')} "
             f"(α = {summary.get('alpha')}, exact)",
             f"the running sum's largest error per draw is {over_draws(worst('running_sum_max_abs_error_overall'))}",
             f"the plain window cache's largest bias per draw is {over_draws(worst('window_cache_max_abs_bias_overall'))}"
             f" (|z| ≥ {int(min(b['window_cache_max_abs_z'] for b in tests))} in every test)"]
    holds = [s for s in streams if s["stream"] != "signed"]
    signed = [s for s in streams if s["stream"] == "signed"]
    line = (f"Var ≤ ‖V‖∞·E[O] fails in {sum(s['variance']['violations'] for s in holds)} of "
            f"{sum(s['variance']['cells'] for s in holds)} cells on the {len(holds)} nonnegative streams")
    if signed:
        line += f" and in {signed[0]['variance']['violations']} of {signed[0]['variance']['cells']} with signed values"
    parts.append(line + " (exact counts)")
    for s in streams:
        rows = [r for r in s.get("copies") or [] if r.get("groups") == 1]
        if len(rows) >= 2:
            curves = s.get("copies_draws") or [{"draw": 0, **r} for r in rows]
            ends = {}
            for r in curves:
                ends.setdefault(r["copies"], []).append(r["median_relative_error"])
            low, high = min(ends), max(ends)
            parts.append(f"on the {s['stream']} stream the median relative error falls as copies^"
                         f"{fitted_slope([r['copies'] for r in rows], [r['median_relative_error'] for r in rows])} "
                         f"(99% bootstrap over {len(rows)} copy counts), from {over_draws(ends[low])} at {low} "
                         f"to {over_draws(ends[high], 3)} at {high} copies ({rows[0].get('reps')} caches per draw)")
            break
    return "; ".join(parts)


EXPERIMENTS = [
    Experiment(
        "alg1", "HO Alg. 1, Thms 24-25", "alg1",
        "bias, variance bound and copies of the sampling window algorithm vs the exact running sum",
        ALG1_PRESETS, alg1_sweep, alg1_measure, alg1_summary, "plots.window:alg1_figure",
        headline="reductions.alg1:alg1_headline", uses_game=False,
    ),
]


# --- certificates -------------------------------------------------------------------------------
# Each check builds reductions.tactics certificates; the certify runner re-verifies them. Window and
# outside sums are sympy Sums over a symbolic number of terms: W in the window, m = i - W outside.
# Named steps from probability theory (Chebyshev, Cantelli, Chernoff-Hoeffding) are Cited.

_l = sp.Symbol("l", integer=True)
_W, _m = sp.symbols("W m", integer=True, positive=True)






def _reservoir_induction(t, m) -> list:
    """The ``t``-th departed value is ``v_s`` after ``m >= t`` departures with probability ``1/m``, by induction on ``m``."""
    return [
        Identity(sp.Subs(1 / m, m, t), 1 / t, note="m = t: it replaced v_s with probability 1/t"),
        Identity((1 / m) * (1 - 1 / (m + 1)), 1 / (m + 1), note="m -> m+1: it survives with probability 1 - 1/(m+1)"),
    ]


@claim(
    name="Theorem 24 unbiasedness (eqs. 47-54)",
    source="HO Theorem 24, eqs. 47-54",
    statement="for every step i > W (m = i - W >= 1 tokens outside the window), any W >= 1, real scores s_l and "
    "values: with Z = Σ_win e^{s_l} and S = (i-W) + Z, Algorithm 1 samples the window with probability "
    "(S - i + W)/S = Z/S, then v_l with probability e^{s_l}/Z, else outputs the reservoir value, uniform over the "
    "m outside values u_l (by induction, also the next claim); so E[O] = Σ_win (Z/S)(e^{s_l}/Z) v_l + "
    "(m/S) Σ_out u_l/m = (Σ_win e^{s_l} v_l + Σ_out u_l)/(Z + m) = Attn_W (eq. 20), per coordinate. For i <= W "
    "the output is Attn_W itself",
    relied_on=True,
)
def _check_unbiased():
    i = sp.Symbol("i", integer=True, positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    r = sp.Symbol("r", integer=True)
    w = sp.IndexedBase("w", positive=True)  # e^{s_l} of the in-window tokens
    v = sp.IndexedBase("v", real=True)  # their values (one coordinate)
    u = sp.IndexedBase("u", real=True)  # the values of the m tokens that left the window
    Z = sp.Sum(w[_l], (_l, 1, _W))
    S = _m + Z
    mixture = sp.Sum((Z / S) * (w[r] / Z) * v[r], (r, 1, _W)) + (_m / S) * sp.Sum(u[r] / _m, (r, 1, _m))
    attn_w = (sp.Sum(w[r] * v[r], (r, 1, _W)) + sp.Sum(u[r], (r, 1, _m))) / (Z + _m)
    S_printed = sp.Add(i - _W, Z, evaluate=False)  # S = (i - W) + Σ_win e^{s_l}
    return [
        Identity(sp.Add(S_printed, -i, _W, evaluate=False) / S_printed, Z / (Z + i - _W),
                 note="window branch probability (S - i + W)/S = Z/S"),
        *_reservoir_induction(t, _m),
        Identity(mixture, attn_w, where={_m: i - _W}, note="E[O] = Attn_W"),
    ]


@claim(
    name="Algorithm 1 reservoir is uniform",
    source="HO Algorithm 1 step 3, eq. 53",
    statement="if the value leaving at step W+j replaces v_s with probability 1/j (j = 1, 2, ...), then after "
    "m >= 1 departures each of the m departed values is v_s with probability 1/m (induction on m from the "
    "t-th departure: 1/t at m = t, times 1 - 1/(m+1) per later step), and these m probabilities sum to 1",
    relied_on=True,
)
def _check_reservoir():
    t = sp.Symbol("t", integer=True, positive=True)
    return [*_reservoir_induction(t, _m), Identity(sp.Sum(1 / _m, (t, 1, _m)), 1, note="the m values share 1")]


@claim(
    name="Theorem 24 space and time per step",
    source="HO Theorem 24",
    statement="for all d, W >= 1: Algorithm 1 keeps W keys and W values, the reservoir value and the step count, "
    "2dW + d + 1 <= 4dW words; the running-sum cache (window, the d-dimensional sum of the values that left it, "
    "their count) also 2dW + d + 1 <= 4dW; a step computes W inner products in R^d (2dW operations), W "
    "exponentials, their sum and one draw (3W) and writes d numbers: 2dW + 3W + d <= 6dW",
    relied_on=True,
)
def _check_space_time():
    d, W = sp.symbols("d W", positive=True)
    at_least_one = [ge(d, 1), ge(W, 1)]
    return [
        Implies(le(2 * d * W + d + 1, 4 * d * W), at_least_one, engine="z3", note="words"),
        Implies(le(2 * d * W + 3 * W + d, 6 * d * W), at_least_one, engine="z3", note="operations per step"),
    ]


@claim(
    name="Theorem 25 variance bound (eqs. 59-63), values >= 0",
    source="HO Theorem 25, eqs. 59-63",
    statement="for any number N of tokens, output law p_l >= 0 and values 0 <= v_l <= ||V||_∞: Var[O] = E[O^2] - "
    "E[O]^2 <= E[O^2] = Σ p_l v_l^2 <= ||V||_∞ Σ p_l v_l = ||V||_∞ E[O] (the gap is Σ p_l v_l (||V||_∞ - v_l) >= 0)",
    relied_on=True,
)
def _check_variance_nonnegative():
    N = sp.Symbol("N", integer=True, positive=True)
    p = sp.IndexedBase("p", nonnegative=True)
    a = sp.IndexedBase("v", nonnegative=True)
    b = sp.IndexedBase("b", nonnegative=True)  # b_l = ||V||_∞ - v_l >= 0
    V = sp.Symbol("V_inf", nonnegative=True)
    second, mu = sp.Symbol("E_O2", nonnegative=True), sp.Symbol("mu", real=True)
    return [
        Implies(le(second - mu**2, second), note="Var <= E[O^2]"),
        Identity(V * sp.Sum(p[_l] * a[_l], (_l, 1, N)) - sp.Sum(p[_l] * a[_l] ** 2, (_l, 1, N)),
                 sp.Sum(p[_l] * a[_l] * (V - a[_l]), (_l, 1, N)), note="||V||_∞ E[O] - E[O^2]"),
        Implies(ge(sp.Sum(p[_l] * a[_l] * b[_l], (_l, 1, N)), 0), where={b[_l]: V - a[_l]},
                note="a sum of nonnegative terms"),
    ]


@claim(
    name="Theorem 25 variance bound for signed values (as printed)",
    source="HO Theorem 25, eq. 63 [sic]",
    statement="Var[O_ij] <= ||V||_∞ E[O_ij] for real (signed) values (printed); false at q = k = 0, W = 1, i = 5 with "
    "values (1, 1, 1, -1, -1): every token weighs e^0 = 1, O is uniform over the values, E[O] = 1/5, Var[O] = 24/25",
    relied_on=False,
)
def _check_variance_signed():
    v = sp.symbols("v1:6", real=True)
    mean = sum(v) / 5
    variance = sum(x**2 for x in v) / 5 - mean**2
    vinf = sp.Max(*(sp.Abs(x) for x in v))
    return Counterexample(le(variance, vinf * mean), dict(zip(v, (1, 1, 1, -1, -1))),
                          note="Var = 24/25 > ||V||_∞ E[O] = 1/5; for signed values Var <= ||V||_∞ E|O| instead")


@claim(
    name="Theorem 25 Chebyshev step (eqs. 64-65)",
    source="HO Theorem 25, eqs. 64-65",
    statement="T independent copies of O with mean μ ≠ 0 and variance σ²: the mean Ȳ has Var(Ȳ) = Tσ²/T² = σ²/T "
    "(Bienaymé, cited), and for T >= 3σ²/(ε²μ²), Chebyshev's inequality (cited) gives "
    "P(|Ȳ - μ| >= ε|μ|) <= Var(Ȳ)/(εμ)² <= 1/3",
    relied_on=True,
)
def _check_chebyshev():
    var = sp.Symbol("sigma2", nonnegative=True)
    eps, T = sp.symbols("epsilon T", positive=True)
    mu = sp.Symbol("mu", real=True)
    c = sp.Symbol("c", integer=True)
    Tn = sp.Symbol("T", integer=True, positive=True)
    return [
        Identity(sp.Sum(var, (c, 1, Tn)) / Tn**2, var / Tn, note="Var(Ȳ) = σ²/T"),
        Implies(le((var / T) / (eps * mu) ** 2, sp.Rational(1, 3)), [ge(T, 3 * var / (eps**2 * mu**2)), gt(mu**2, 0)],
                engine="z3", note="Var(Ȳ)/(εμ)² <= 1/3"),
        Cited("Var(Σ_t Y_t) = Σ_t Var(Y_t) for independent Y_t", "Bienaymé's identity"),
        Cited("P(|Y - E Y| >= a) <= Var(Y)/a² for a > 0", "Chebyshev's inequality"),
    ]


def _binomial_upper_tail(Q: int, p):
    """``P[Bin(Q, p) >= (Q+1)/2]`` as an unevaluated sympy Sum (odd ``Q``): the median of Q means errs on one side."""
    k = sp.Symbol("k", integer=True)
    return sp.Sum(sp.binomial(Q, k) * p**k * (1 - p) ** (Q - k), (k, (Q + 1) // 2, Q))


@claim(
    name="Theorem 25 Chernoff step from p = 1/3 (as printed)",
    source="HO Theorem 25, eqs. 66-71 [sic]",
    statement="if each of Q independent means over-estimates with probability <= 1/3 (eq. 65), the median "
    "over-estimates with probability <= e^{-Q/12} (printed); false for means failing with probability exactly 1/3: "
    "P[Bin(Q, 1/3) >= (Q+1)/2] > e^{-Q/12} at Q = 91 (the first odd Q) and Q = 301. From 1/3 the Chernoff exponent "
    "is D(1/2||1/3) = ln(9/8)/2 ≈ 0.0589 < 1/12; e^{-Q/12} follows from Cantelli's 1/4 (next claim)",
    relied_on=False,
)
def _check_chernoff_printed():
    # The relation is built at each Q (Sum with numeric limits, unevaluated): substituting Q into a symbolic
    # Sum lets sympy's own low-precision comparison decide the relation, wrongly at Q = 301.
    Q = sp.Symbol("Q", integer=True, positive=True)
    return [Counterexample(le(_binomial_upper_tail(q, sp.Rational(1, 3)), sp.exp(sp.Rational(-q, 12))), {Q: q})
            for q in (91, 301)]


@claim(
    name="Theorem 25 median step via Cantelli",
    source="HO Theorem 25, eqs. 66-71 (corrected route)",
    statement="for T >= 3σ²/(ε²μ²) each mean over-estimates (under-estimates) by ε|μ| with probability <= "
    "Var(Ȳ)/(Var(Ȳ) + ε²μ²) <= 1/4 (Cantelli, cited); for odd Q the median errs on one side only if >= (Q+1)/2 of "
    "the Q independent means do, probability <= exp(-Q D(1/2||p)) (Chernoff-Hoeffding, cited) <= "
    "exp(-Q D(1/2||1/4)) (D decreases in p on (0, 1/2)) with D(1/2||1/4) = ln(4/3)/2 > 1/12: <= e^{-Q/12} per side",
    relied_on=True,
)
def _check_chernoff_cantelli():
    var, eps, T, Q = sp.symbols("sigma2 epsilon T Q", positive=True)
    mu = sp.Symbol("mu", real=True)
    y = sp.Symbol("y", real=True)
    s, p = eps_in_open_half()  # p in (0, 1/2)
    P = sp.Symbol("p", positive=True)
    half = sp.Rational(1, 2)

    def divergence(q):  # D(1/2 || q)
        return half * sp.log(half / q) + half * sp.log(half / (1 - q))

    D = sp.log(sp.Rational(4, 3)) / 2
    return [
        Implies(le((var / T) / ((var / T) + eps**2 * mu**2), sp.Rational(1, 4)),
                [ge(T, 3 * var / (eps**2 * mu**2)), gt(mu**2, 0)], engine="z3", note="Cantelli's bound <= 1/4"),
        Cited("P(Y - E Y >= a) <= Var(Y)/(Var(Y) + a²) for a > 0", "Cantelli's inequality"),
        Cited("P(Bin(Q, p) >= aQ) <= exp(-Q D(a||p)) for p < a", "Hoeffding 1963, Theorem 1 (Chernoff bound)"),
        Implies(lt(sp.diff(divergence(P), P).subs(P, p), 0), where={P: p}, note="D(1/2||p) decreases on (0, 1/2)"),
        Identity(divergence(sp.Rational(1, 4)), D, note="D(1/2||1/4) = ln(4/3)/2"),
        Implies(gt(D, sp.Rational(1, 12)), note="ln(4/3)/2 > 1/12"),
        Implies(le(-Q * D, -Q / 12), note="exponents"),
        Implies(gt(sp.diff(sp.exp(y), y), 0), note="exp increases: exp(-Q D) <= e^{-Q/12}"),
    ]


@claim(
    name="Theorem 25 union bound with log(d/δ) (as printed)",
    source="HO Theorem 25, eq. 56 [sic]",
    statement="Q = 12 ln(d/δ) medians (the log(d/δ) of the printed space O(dW ||V||_∞ ε^-2 log(d/δ))) make all n·d "
    "outputs (1±ε)-accurate with probability >= 1 - δ by the union bound over n·d cells failing with probability "
    "<= 2e^{-Q/12} each (printed); false: the bound is 2nd (δ/d)^C at Q = 12 C ln(d/δ), > δ at n = 2, d = 8, "
    "δ = 1/10, C = 1, and still at C = 3 for n = 10^6: log(d/δ) does not absorb log n",
    relied_on=False,
)
def _check_union_printed():
    n, d, delta, C = sp.symbols("n d delta C", positive=True)
    Q = 12 * C * sp.log(d / delta)
    printed = le(2 * n * d * sp.exp(-Q / 12), delta)
    return [
        Counterexample(printed, {n: 2, d: 8, delta: sp.Rational(1, 10), C: 1}, note="2nd δ/d = 2/5 > 1/10"),
        Counterexample(printed, {n: 10**6, d: 8, delta: sp.Rational(1, 10), C: 3}, note="2nd (δ/d)^3 = 31.25 > 1/10"),
    ]


@claim(
    name="Theorem 25 union bound with log(2nd/δ)",
    source="HO Theorem 25 (corrected)",
    statement="for n, d >= 1 and δ in (0,1): at Q = 12 ln(2nd/δ) the n·d cells × 2e^{-Q/12} sum to exactly δ, and to "
    "at most δ for every Q >= 12 ln(2nd/δ)",
    relied_on=True,
)
def _check_union_corrected():
    n, d = sp.symbols("n d", positive=True)
    u, delta = eta_in_open_unit("u")
    q = sp.Symbol("Q", real=True)
    Q = 12 * sp.log(2 * n * d / delta)
    return [
        Identity(n * d * 2 * sp.exp(-Q / 12, evaluate=False), delta, where={sp.Symbol("delta"): delta}, note="exactly δ"),
        Implies(lt(sp.diff(sp.exp(-q / 12), q), 0), note="e^{-Q/12} decreases in Q"),
    ]


@claim(
    name="Theorem 25 assumption on Attn (as printed)",
    source="HO Theorem 25 statement [sic]",
    statement="if |Attn(q_i, K_i, V_i)_j| >= c > 0 (printed: Attn, not Attn_W) then T = 3Var/(ε²E[O]²) <= "
    "3||V||_∞/(ε²c) copies suffice; false: n = 2, W = 1, token 1 (outside the window) score 2M, value 1, token 2 "
    "score M, value 0: Attn = 1/(1 + e^{-M}) >= 1/2 but E[O] = Attn_W = 1/(1 + e^M), O is Bernoulli(E[O]) and "
    "T = 3e^M/ε², unbounded in M (at M = 3 and M = 10, c = 1/2, ε = 1/10, ||V||_∞ = 1)",
    relied_on=False,
)
def _check_assumption_printed():
    M, eps, c = sp.symbols("M epsilon c", positive=True)
    attn = sp.exp(2 * M) / (sp.exp(2 * M) + sp.exp(M))  # Attn: every token weighs e^{score}
    mean = 1 / (1 + sp.exp(M))  # Attn_W: the outside token weighs e^0 = 1
    T = 3 * mean * (1 - mean) / (eps**2 * mean**2)
    printed = sp.Implies(ge(attn, c), le(T, 3 * 1 / (eps**2 * c)))
    values = {eps: sp.Rational(1, 10), c: sp.Rational(1, 2)}
    return [Counterexample(printed, {M: 3, **values}), Counterexample(printed, {M: 10, **values})]


@claim(
    name="Theorem 25 assumption on Attn_W (corrected)",
    source="HO Theorem 25, corrected",
    statement="for values in [0, ||V||_∞] (so Var[O] <= ||V||_∞ E[O], eqs. 59-63) and E[O] = Attn_W(q_i, K_i, V_i)_j "
    ">= c > 0: T = 3Var/(ε²E[O]²) <= 3||V||_∞/(ε²E[O]) <= 3||V||_∞/(ε²c)",
    relied_on=True,
)
def _check_assumption_corrected():
    V, eps, c, E = sp.symbols("V_inf epsilon c E_O", positive=True)
    var = sp.Symbol("Var", nonnegative=True)
    hypotheses = [le(var, V * E), ge(E, c)]
    return [
        Implies(le(3 * var / (eps**2 * E**2), 3 * V / (eps**2 * E)), hypotheses, engine="z3"),
        Implies(le(3 * V / (eps**2 * E), 3 * V / (eps**2 * c)), hypotheses, engine="z3"),
    ]


@claim(
    name="Theorem 25 'for all j in [n]' (as printed)",
    source="HO Theorem 25 statement [sic]",
    statement="the guarantee holds for all i in [n] and j in [n] with the union bound δ/(nd) per output (printed: "
    "j in [n]); as a union bound over [n]×[n] it gives n²δ/(nd) = nδ/d, > δ at n = 4, d = 2, δ = 1/10: j indexes "
    "the d coordinates",
    relied_on=False,
)
def _check_index_printed():
    n, d, delta = sp.symbols("n d delta", positive=True)
    c = sp.Symbol("c", integer=True)  # enumerates the n·n pairs (i, j) in [n]×[n]
    printed = le(sp.Sum(delta / (n * d), (c, 1, n * n)), delta)
    return Counterexample(printed, {n: 4, d: 2, delta: sp.Rational(1, 10)}, note="16/80 = 1/5 > 1/10")


@claim(
    name="Theorem 25 'for all j in [d]' (corrected)",
    source="HO Theorem 25, corrected",
    statement="for all n, d >= 1 and δ > 0: the union bound over the outputs O_ij, i in [n], j in [d], each failing "
    "with probability <= δ/(nd), is Σ_i Σ_j δ/(nd) = δ",
    relied_on=True,
)
def _check_index_corrected():
    n, d = sp.symbols("n d", integer=True, positive=True)
    delta = sp.Symbol("delta", positive=True)
    i, j = sp.symbols("i j", integer=True)
    return Identity(sp.Sum(sp.Sum(delta / (n * d), (j, 1, d)), (i, 1, n)), delta)


@claim(
    name="Theorem 25 space with log(nd/δ) (corrected)",
    source="HO Theorem 25, corrected",
    statement="with T <= 3||V||_∞/(ε²c) + 1 copies per mean (previous claims, T rounded up) and Q <= 12L + 1 means, "
    "L = ln(2nd/δ): T·Q runs of Algorithm 1 of 2dW + d + 1 <= 4dW words each take <= 4dW (3||V||_∞/(ε²c) + 1)"
    "(12L + 1) <= 208 dW (||V||_∞/(ε²c)) L words when ||V||_∞/(ε²c) >= 1 and L >= 1: O(dW ||V||_∞ ε^-2 log(nd/δ)); "
    "sharing the window, as the suite's BoostedWindowCache does, 2dW + TQd + 1 words",
    relied_on=True,
)
def _check_space_corrected():
    d, W, T, Q, A, L = sp.symbols("d W T Q A L", positive=True)  # A = ||V||_∞/(ε²c)
    per_run = 2 * d * W + d + 1
    return [
        Implies(le(per_run, 4 * d * W), [ge(d, 1), ge(W, 1)], engine="z3", note="one run: <= 4dW words"),
        Implies(le(T * Q * per_run, 4 * d * W * (3 * A + 1) * (12 * L + 1)),
                [le(T, 3 * A + 1), le(Q, 12 * L + 1), le(per_run, 4 * d * W)], engine="z3", note="T·Q runs"),
        Implies(le(4 * d * W * (3 * A + 1) * (12 * L + 1), 208 * d * W * A * L), [ge(A, 1), ge(L, 1)], engine="z3",
                note="(3A + 1)(12L + 1) <= 4A·13L = 52AL"),
    ]
