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
4. **Certificates**: Theorem 24's expectation identity (eqs. 47-54) and reservoir uniformity,
   the variance chain (59-63) for nonnegative values and its failure for signed ones, the
   Chebyshev step (64-65), the Chernoff step as printed (refuted from ``p = 1/3``) and rescued by
   Cantelli's one-sided ``1/4``, and the union bound over steps and coordinates.
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import mpmath
import numpy as np
import sympy as sp

from caches.eviction import WindowCache
from caches.exact import ExactCache
from caches.params import ParameterError, check_choice, check_int, check_real
from caches.sliding import Algorithm1Cache, BoostedWindowCache, RunningSumWindowCache, windowed_attention_stream
from protocols.experiment import Experiment
from reductions.certify import claim, proved, refuted

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

ALG1_PRESETS = {
    "quick": {"n": 384, "W": 32, "d": 8, "runs": 4000, "alpha": 1e-3, "copies": [1, 4, 16, 64, 256],
              "groups": [1, 5], "reps": 12, "eps": 0.1, "along_copies": 64, "along_groups": 5, "along_reps": 4},
    "paper": {"n": 1024, "W": 64, "d": 16, "runs": 20000, "alpha": 1e-3,
              "copies": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
              "groups": [1, 5, 9], "reps": 40, "eps": 0.1, "along_copies": 64, "along_groups": 5, "along_reps": 16},
}
COPIES_STREAMS = ("random", "outlier")
ALONG_STREAMS = ("random", "vanishing", "signed")


def validate_alg1(config: dict) -> dict:
    """Check an ``alg1`` configuration; a clear error names the bad key."""
    n = check_int("n", config["n"], 4)
    W = check_int("W", config["W"], 2)
    if W >= n:
        raise ParameterError(f"W must be < n = {n} (some tokens must leave the window), got {W}")
    check_int("d", config["d"], 1)
    check_int("runs", config["runs"], 2)
    check_real("alpha", config["alpha"], 0.0, 1.0, low_open=True, high_open=True)
    for c in config["copies"]:
        check_int("copies[]", c, 1)
    for g in config["groups"]:
        check_int("groups[]", g, 1)
    check_int("reps", config["reps"], 1)
    check_real("eps", config["eps"], 0.0, 1.0, low_open=True, high_open=True)
    check_int("along_copies", config["along_copies"], 1)
    check_int("along_groups", config["along_groups"], 1)
    check_int("along_reps", config["along_reps"], 1)
    return config


def alg1_steps(config: dict) -> int:
    return len(STREAMS) * 2 + len(COPIES_STREAMS) + len(ALONG_STREAMS) + 1


def run_alg1(config: dict, seed: int, bob=None, progress=None) -> dict:
    """Bias, variance bound, copies and the |Attn_W| = Ω(1) assumption for HO Algorithm 1 / Theorem 25."""
    config = validate_alg1(config)
    n, W, d = config["n"], config["W"], config["d"]

    def tick():
        if progress:
            progress(1)

    streams = {kind: make_stream(kind, n, d, W, [seed, k]) for k, kind in enumerate(STREAMS)}
    results, trials = [], []
    for k, kind in enumerate(STREAMS):
        bias = measure_bias(streams[kind], W, config["runs"], seed * 1_000_003 + k, config["alpha"])
        tick()
        variance = measure_variance(streams[kind], W)
        tick()
        results.append({"stream": kind, "bias": bias, "variance": variance})
        trials.append({"part": "bias", "stream": kind, "alg1_max_abs_z": bias["alg1_max_abs_z"],
                       "z_threshold": bias["z_threshold"], "alg1_unbiased": bias["alg1_unbiased"],
                       "running_sum_max_abs_error": bias["running_sum_max_abs_error_overall"],
                       "window_cache_max_abs_bias": bias["window_cache_max_abs_bias_overall"],
                       "variance_violations": variance["violations"], "variance_max_ratio": variance["max_ratio"]})
    copies = {}
    for k, kind in enumerate(COPIES_STREAMS):
        copies[kind] = measure_copies(streams[kind], W, config["copies"], config["groups"], config["reps"],
                                      seed * 1_000_003 + 100 + k, config["eps"])
        trials.extend({"part": "copies", "stream": kind, **row} for row in copies[kind])
        tick()
    along = {}
    for k, kind in enumerate(ALONG_STREAMS):
        along[kind] = measure_along_stream(streams[kind], W, config["along_copies"], config["along_groups"],
                                           config["along_reps"], seed * 1_000_003 + 200 + k, config["eps"])
        tick()
    memory = memory_table(streams["random"], W, config["copies"], config["groups"])
    tick()
    for entry in results:
        entry["copies"] = copies.get(entry["stream"])
        entry["along"] = along.get(entry["stream"])
    summary = {
        "experiment": "alg1", "n": n, "W": W, "d": d, "runs": config["runs"], "alpha": config["alpha"],
        "eps": config["eps"], "streams": results, "memory": memory,
    }
    return {"summary": summary, "trials": trials}


EXPERIMENTS = [
    Experiment(
        "alg1", "HO Alg. 1, Thms 24-25", "alg1",
        "bias, variance bound and copies of the sampling window algorithm vs the exact running sum",
        ALG1_PRESETS, run_alg1, alg1_steps, "plots.window:alg1_figure", uses_game=False,
    ),
]


# --- certificates -------------------------------------------------------------------------------


@claim(
    name="Theorem 24 unbiasedness (eqs. 47-54)",
    source="HO Theorem 24, eqs. 47-54",
    statement="Pr[in-window]·E[v_l | l ~ e^{s_l}] + Pr[reservoir]·E[v_s] = Attn_W, with "
    "Pr[in-window] = Σ_win e^{s_l}/S, S = (i-W) + Σ_win e^{s_l}, v_s uniform over the i-W outside values",
    relied_on=True,
)
def _check_unbiased():
    Z, m = sp.symbols("Z_in m", positive=True)
    A, B = sp.symbols("A B", real=True)  # Σ_win e^{s_l} v_l and Σ_out v_l
    aggregated = sp.simplify((Z / (Z + m)) * (A / Z) + (m / (Z + m)) * (B / m) - (A + B) / (Z + m))
    s = sp.symbols("s1:4", real=True)
    v = sp.symbols("v1:4", real=True)
    u = sp.symbols("u1:5", real=True)
    S = len(u) + sum(sp.exp(x) for x in s)
    expected = sum(sp.exp(x) / S * y for x, y in zip(s, v)) + sp.Rational(len(u)) / S * sum(u) / len(u)
    eq20 = (sum(sp.exp(x) * y for x, y in zip(s, v)) + sum(u)) / (sum(sp.exp(x) for x in s) + len(u))
    explicit = sp.simplify(expected - eq20)
    if aggregated != 0 or explicit != 0:
        raise AssertionError(f"residuals {aggregated}, {explicit}")
    return proved(
        "sympy: (Z/(Z+m))(A/Z) + (m/(Z+m))(B/m) - (A+B)/(Z+m) simplifies to 0 for symbolic Z = Σ_win e^{s_l}, "
        "m = i-W, A = Σ_win e^{s_l} v_l, B = Σ_out v_l; and the fully explicit case W = 3, i-W = 4 with "
        "symbolic scores and values simplifies to 0 (reservoir uniformity is the next claim)"
    )


@claim(
    name="Algorithm 1 reservoir is uniform",
    source="HO Algorithm 1 step 3, eq. 53",
    statement="If the value leaving at step W+j replaces v_s with probability 1/j, then after m tokens left "
    "each of them is v_s with probability 1/m",
    relied_on=True,
)
def _check_reservoir():
    j, t, m = sp.symbols("j t m", integer=True, positive=True)
    survive = sp.simplify(sp.product((j - 1) / j, (j, t + 1, m)))
    if sp.simplify(survive / t - 1 / m) != 0:
        raise AssertionError(f"product simplified to {survive}")
    return proved(f"sympy: (1/t)·Π_(j=t+1..m) (1 - 1/j) = (1/t)·{survive} = 1/m (telescoping product)")


@claim(
    name="Theorem 25 variance bound (eqs. 59-63), values >= 0",
    source="HO Theorem 25, eqs. 59-63",
    statement="If 0 <= v_lj <= ||V||_∞ then Var[O_ij] <= E[O_ij^2] = Σ p_l v_lj^2 <= ||V||_∞ Σ p_l v_lj "
    "= ||V||_∞ E[O_ij]",
    relied_on=True,
)
def _check_variance_nonnegative():
    a, b, p = sp.symbols("a b p", nonnegative=True)  # v = a, ||V||_∞ = a + b
    gap = sp.factor(sp.expand((a + b) * a - a**2))
    if not (gap.is_nonnegative and (p * gap).is_nonnegative):
        raise AssertionError(f"could not sign {gap}")
    return proved(
        f"sympy: with v = a, ||V||_∞ = a + b (a, b >= 0) each term ||V||_∞ v - v^2 = {gap} >= 0, so "
        "Σ p_l (||V||_∞ v_l - v_l^2) >= 0 for p_l >= 0; and Var = E[O^2] - E[O]^2 <= E[O^2]"
    )


@claim(
    name="Theorem 25 variance bound for signed values (as printed)",
    source="HO Theorem 25, eq. 63 [sic]",
    statement="Var[O_ij] <= ||V||_∞ E[O_ij] for real (signed) values",
    relied_on=False,
)
def _check_variance_signed():
    values = [sp.Integer(1), 1, 1, -1, -1]  # W = 1, all scores 0: Algorithm 1 outputs a uniform value
    mean = sum(values) / sp.Integer(len(values))
    variance = sum(x**2 for x in values) / sp.Integer(len(values)) - mean**2
    abs_mean = sum(abs(x) for x in values) / sp.Integer(len(values))
    if not (variance > mean and variance <= abs_mean):
        raise AssertionError("counterexample did not behave as expected")
    return refuted(
        f"q = k = 0, W = 1, values (1, 1, 1, -1, -1): every token weighs 1, E[O] = Attn_W = {mean}, "
        f"Var[O] = {variance} > ||V||_∞ E[O] = {mean}. The step E[O^2] <= ||V||_∞ E[O] needs v >= 0; "
        f"for signed values Var <= ||V||_∞ E|O| (= {abs_mean} here) holds instead"
    )


@claim(
    name="Theorem 25 Chebyshev step (eqs. 64-65)",
    source="HO Theorem 25, eqs. 64-65",
    statement="With T = 3 Var/(ε² E[O]²) copies, the mean Ȳ has Pr[|Ȳ - E[O]| >= ε E[O]] <= 1/3",
    relied_on=True,
)
def _check_chebyshev():
    var, eps, mu = sp.symbols("sigma2 epsilon mu", positive=True)
    T = 3 * var / (eps**2 * mu**2)
    bound = sp.simplify((var / T) / (eps * mu) ** 2)
    cantelli = sp.simplify((var / T) / ((var / T) + (eps * mu) ** 2))
    if bound != sp.Rational(1, 3) or cantelli != sp.Rational(1, 4):
        raise AssertionError(f"got {bound}, {cantelli}")
    return proved(
        f"sympy: Var(Ȳ) = σ²/T and Chebyshev's Var(Ȳ)/(εμ)² = {bound}; the one-sided (Cantelli) bound "
        f"Var(Ȳ)/(Var(Ȳ) + (εμ)²) = {cantelli} for each direction"
    )


def _median_tail(Q: int, p: Fraction) -> Fraction:
    """Exact ``Pr[Bin(Q, p) >= (Q+1)/2]`` for odd ``Q``: the median of Q means errs on one side."""
    return sum((Fraction(math.comb(Q, k)) * p**k * (1 - p) ** (Q - k) for k in range((Q + 1) // 2, Q + 1)),
               Fraction(0))


def _exceeds(tail: Fraction, Q: int) -> bool:
    with mpmath.workdps(60):
        return mpmath.mpf(tail.numerator) / tail.denominator > mpmath.exp(-mpmath.mpf(Q) / 12)


@claim(
    name="Theorem 25 Chernoff step from p = 1/3 (as printed)",
    source="HO Theorem 25, eqs. 66-71 [sic]",
    statement="If each of Q independent means over-estimates with probability <= 1/3 (eq. 65), the median "
    "over-estimates with probability <= e^{-Q/12}",
    relied_on=False,
)
def _check_chernoff_printed():
    for Q in range(1, 400, 2):
        tail = _median_tail(Q, Fraction(1, 3))
        if _exceeds(tail, Q):
            exponent = 0.5 * math.log(1.5) + 0.5 * math.log(0.75)
            return refuted(
                f"means failing with probability exactly 1/3: Pr[Bin({Q}, 1/3) >= {(Q + 1) // 2}] = {float(tail):.4g} "
                f"> e^(-{Q}/12) = {math.exp(-Q / 12):.4g} (first odd Q). From p = 1/3 the exponent is "
                f"D(1/2||1/3) = {exponent:.5f} < 1/12, i.e. about e^(-Q/17). The printed e^(-Q/12) is "
                "recovered from the one-sided (Cantelli) 1/4: next claim"
            )
    raise AssertionError("no counterexample below Q = 400")


@claim(
    name="Theorem 25 median step via Cantelli",
    source="HO Theorem 25, eqs. 66-71 (corrected route)",
    statement="Each mean over-estimates (under-estimates) with probability <= 1/4 (Cantelli at T = 3Var/(ε²E²)), "
    "so the median of Q means errs on each side with probability <= exp(-Q·D(1/2||1/4)) <= e^{-Q/12}",
    relied_on=True,
)
def _check_chernoff_cantelli():
    gap = sp.log(sp.Rational(4, 3)) / 2 - sp.Rational(1, 12)  # D(1/2 || 1/4) - 1/12
    if not gap.is_positive:
        raise AssertionError(f"could not sign {gap}")
    tails = {Q: _median_tail(Q, Fraction(1, 4)) for Q in range(1, 402, 2)}
    for Q, tail in tails.items():
        if _exceeds(tail, Q):
            raise AssertionError(f"exact tail exceeds e^(-Q/12) at Q = {Q}")
    worst = max(tails, key=lambda Q: float(tails[Q]) * math.exp(Q / 12))
    ratio = float(tails[worst]) * math.exp(worst / 12)
    return proved(
        f"sympy: D(1/2||1/4) - 1/12 = ln(4/3)/2 - 1/12 = {float(gap):.5f} > 0, so the Chernoff-Hoeffding bound "
        "exp(-Q D(1/2||p)) (cited) gives e^(-Q/12) from p = 1/4; exact binomial tails for odd Q <= 401 also stay "
        f"below e^(-Q/12) (largest tail/bound = {ratio:.3f} at Q = {worst})"
    )


@claim(
    name="Theorem 25 union bound with log(d/δ) (as printed)",
    source="HO Theorem 25, eq. 56 [sic]",
    statement="Q = 12 ln(d/δ) medians make all n·d outputs (1±ε)-accurate with probability >= 1 - δ "
    "by the union bound",
    relied_on=False,
)
def _check_union_printed():
    n, d, delta = sp.Integer(2), sp.Integer(8), sp.Rational(1, 10)
    Q = 12 * sp.log(d / delta)
    total = sp.simplify(n * d * 2 * sp.exp(-Q / 12))
    if not total > delta:
        raise AssertionError(f"total {total} <= δ")
    return refuted(
        f"n = 2 steps, d = 8, δ = 1/10: the union bound over n·d cells, each failing with probability <= "
        f"2e^(-Q/12), gives {total} > δ at Q = 12 ln(d/δ); it needs Q = 12 ln(2nd/δ) (next claim)"
    )


@claim(
    name="Theorem 25 union bound with log(2nd/δ)",
    source="HO Theorem 25 (corrected)",
    statement="Q = 12 ln(2nd/δ) medians: n·d cells × 2e^{-Q/12} <= δ",
    relied_on=True,
)
def _check_union_corrected():
    n, d, delta = sp.symbols("n d delta", positive=True)
    Q = 12 * sp.log(2 * n * d / delta)
    total = sp.simplify(sp.expand_log(n * d * 2 * sp.exp(-Q / 12), force=True))
    if sp.simplify(total - delta) != 0:
        raise AssertionError(f"total {total}")
    return proved(f"sympy: n·d·2·exp(-Q/12) at Q = 12 ln(2nd/δ) simplifies to {total}")
