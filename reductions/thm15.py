"""HO Theorem 11 (SubGen) and Theorem 15: sublinear memory in low dimension, measured.

Theorem 11 (docs/theory.md §4): for ``(m, δ)``-clusterable keys and ``||q|| <= r``, SubGen uses
``O(d ε^{-2} (d + m e^{2δr} log n))`` bits and with probability ``>= 0.99``
``||Ô - Attn|| <= ε ||softmax(K q)|| ||V||`` (eq. 17; SubGen states ``||V||_op``, which this module
uses: it is the smaller norm, so the check is the stricter one). Theorem 15 plugs in Lemma 14
(``m = e^d``, ``δ = e/3``) and ``r = O(log log n)`` to get ``Õ(d e^d)``, "matching Corollary 9".

The cache is :class:`caches.subgen.SubGenCache`; :func:`caches.subgen.subgen_parameters` turns
``(ε, δ, r, n, d)`` into ``t = c ε^{-2} e^{2δr} ln n`` and ``s = c ε^{-2} d`` with the ``O(·)``
constant ``c`` explicit (the paper gives none). Experiment ``thm15``:

(a) memory against ``n`` at fixed ``d``: flat once the clusters saturate, while an exact cache grows
    linearly;
(b) clusters ``m`` and memory against ``d`` at fixed ``n``: exponential (covering numbers,
    :mod:`reductions.covering`), with the fitted slope of ``ln m``;
(c) eq. 17 on uniform-ball streams, clustered streams and the Corollary 9 reduction's stream: the
    99th percentile of ``||Ô - Attn|| / (||softmax|| ||V||_op)`` against ``ε`` for several ``c``;
(d) SubGen's memory against the capacity lower bound ``0.92 d n'(d)`` of :mod:`reductions.cor9` at
    the same ``d`` and query norm ``r = r_per_d · d``, as a ratio, and SubGen's accuracy when it plays
    that reduction's INDEX game (eq. 17 is not a ``(1±η)`` guarantee, so nothing forces it to decode).

Certificates: Theorem 15's space expression as printed and with the corrected Lemma 14; the claim
that it matches Corollary 9 is refuted by Theorem 11 itself (one cluster of diameter 2 gives
polylogarithmic space at ``r = O(log log n)``); the estimators are unbiased.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.attention import attention_with_own_token
from caches.params import ParameterError
from caches.subgen import OnlineClustering, SubGenCache, subgen_parameters
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.fano import max_accuracy
from protocols.game import score, trial_input
from protocols.stats import Z_99, bootstrap_slope, line_fit, wilson_interval
from reductions.certify import claim
from reductions.codes import CODE_KINDS
from reductions.cor9 import FANO_99, BoundedNormReduction, capacity_search, unit_ball_stream
from reductions.covering import lemma13_bound, packing_bound, volume_lower_bound
from reductions.monotone import power_increasing
from reductions.tactics import Counterexample, Identity, Implies, gt

__all__ = [
    "bound_ratios",
    "clustered_stream",
    "seed_clustered_wilson",
    "subgen_operating_measure",
    "subgen_operating_summary",
    "subgen_operating_sweep",
    "thm15_measure",
    "thm15_summary",
    "thm15_sweep",
]


# --- eq. 17 -------------------------------------------------------------------------------------


def bound_ratios(cache: SubGenCache, K, V, Q, K_own, V_own) -> np.ndarray:
    """``||Ô - Attn|| / (||softmax(K q)||_2 ||V||_op)`` per query, the own token included in ``K, V``.

    ``Ô`` is the cache's probe; ``Attn`` is exact attention over the stream plus the query's own
    pair; ``||V||_op`` is the largest singular value of the values including the own value.
    """
    exact, scale = _eq17_reference(K, V, Q, K_own, V_own)
    return np.linalg.norm(cache.probe(Q, K_own, V_own) - exact, axis=1) / scale


def _eq17_reference(K, V, Q, K_own, V_own) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 17's exact attention per query and its scale ``||softmax(K q)||_2 ||V||_op`` (own token included)."""
    K, V, Q, K_own, V_own = (np.asarray(a, dtype=np.float64) for a in (K, V, Q, K_own, V_own))
    exact = attention_with_own_token(Q, K_own, V_own, K, V)
    scores = Q @ K.T
    own = np.einsum("rd,rd->r", Q, K_own)
    top = np.maximum(scores.max(axis=1), own)
    weights = np.exp(scores - top[:, None])
    own_w = np.exp(own - top)
    total = weights.sum(axis=1) + own_w
    softmax_norm = np.sqrt(np.einsum("ij,ij->i", weights, weights) + own_w**2) / total
    gram = V.T @ V
    op = np.sqrt(np.linalg.eigvalsh(gram[None, :, :] + V_own[:, :, None] * V_own[:, None, :])[:, -1])
    return exact, softmax_norm * op


def clustered_stream(n: int, d: int, clusters: int, spread: float, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(m, 2·spread)``-clusterable keys: ``clusters`` centres in the ball of radius ``1 - spread``, each
    key a centre plus a uniform point of the ``spread``-ball; standard Gaussian values."""
    rng = np.random.default_rng(seed)
    centres, _ = unit_ball_stream(clusters, d, rng.integers(2**31))
    centres *= 1.0 - spread
    noise, values = unit_ball_stream(n, d, rng.integers(2**31))
    return centres[rng.integers(clusters, size=n)] + spread * noise, values


def _queries(count: int, d: int, r: float, seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` query triples: ``q`` uniform on the sphere of radius ``r``, own key in the ball, Gaussian value."""
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((count, d))
    Q *= r / np.linalg.norm(Q, axis=1, keepdims=True)
    K_own, V_own = unit_ball_stream(count, d, rng.integers(2**31))
    return Q, K_own, V_own


# --- certificates -------------------------------------------------------------------------------

_L = sp.symbols("L", positive=True)  # L = ln n
_D, _EPS = sp.symbols("d epsilon", positive=True)


def _theorem11_space(m, delta, r):
    return _D * _EPS**-2 * (_D + m * sp.exp(2 * delta * r) * _L)



@claim(
    name="Theorem 15 space expression (as printed)",
    source="HO Theorem 15",
    statement="Theorem 11's d ε^{-2}(d + m e^{2δr} ln n) with m = e^d, δ = e/3, r = ln ln n is the printed "
    "d ε^{-2}(d + e^{d + 2(e/3) ln ln n} ln n) = d ε^{-2}(d + e^d (ln n)^{1 + 2e/3}), i.e. Õ(d e^d) "
    "(for every d, ε > 0 and n > 1).",
    relied_on=False,
)
def _check_thm15_printed():
    printed = _D * _EPS**-2 * (_D + sp.exp(_D + 2 * (sp.E / 3) * sp.log(_L)) * _L)
    closed = _D * _EPS**-2 * (_D + sp.exp(_D) * _L ** (1 + 2 * sp.E / 3))
    where = {_L: sp.log(sp.Symbol("n"))}
    return [
        Identity(_theorem11_space(sp.exp(_D), sp.E / 3, sp.log(_L)), printed, where=where,
                 note="Theorem 11 at m = e^d, δ = e/3, r = ln ln n is the printed expression"),
        Identity(printed, closed, where=where, note="e^{d + (2e/3) ln L} L = e^d L^{1 + 2e/3}"),
    ]


@claim(
    name="Theorem 15 with the corrected Lemma 14",
    source="HO Theorem 15, corrected",
    statement="With the corrected Lemma 14 (m = ceil((18/e)^d) <= 2 (18/e)^d clusters of diameter e/3) and "
    "r = ln ln n, Theorem 11's d ε^{-2}(d + m e^{2δr} ln n) at m = (18/e)^d is "
    "d ε^{-2}(d + e^{d ln(18/e)} (ln n)^{1+2e/3}) = Õ(d e^{c d}) with c = ln(18/e) in (1.890, 1.891).",
    relied_on=True,
)
def _check_thm15_corrected():
    corrected = _theorem11_space((18 / sp.E) ** _D, sp.E / 3, sp.log(_L))
    closed = _D * _EPS**-2 * (_D + sp.exp(_D * sp.log(18 / sp.E)) * _L ** (1 + 2 * sp.E / 3))
    x, f = sp.symbols("x f", real=True)
    return [
        Identity(corrected, closed, where={_L: sp.log(sp.Symbol("n"))},
                 note="Theorem 11 at m = (18/e)^d, δ = e/3, r = ln ln n"),
        Implies(gt(sp.log(18 / sp.E), sp.Rational(189, 100)), note="ln(18/e) > 1.890"),
        Implies(sp.StrictLessThan(sp.log(18 / sp.E), sp.Rational(1891, 1000), evaluate=False),
                note="ln(18/e) < 1.891"),
        Implies(gt(18 / sp.E - 1, 0), note="18/e = 1 + w with w > 0, so (18/e)^d >= 1 (power lemma)"),
        *power_increasing(),
        Implies(f <= 2 * x, [x >= 1, f < x + 1], where={x: (18 / sp.E) ** _D, f: "ceil(x)"}, engine="z3",
                note="ceil(x) < x + 1 <= 2x for x >= 1"),
    ]


@claim(
    name="Theorem 15 matches Corollary 9 at r = O(log log n)",
    source="HO Theorem 15 [sic]",
    statement="Under Theorem 15's hypotheses (||k|| <= 1, ||q|| <= r = O(log log n), d = o(log n)) the SubGen "
    "space Õ(d e^d) matches the Ω(d e^d) lower bound of Corollary 9. (Refuted given Theorem 11: with the whole "
    "unit ball as one cluster, m = 1, δ = 2, its space at r = ln ln n is d ε^{-2}(d + (ln n)^5), whose ratio to "
    "d e^d tends to 0 along d = sqrt(ln n), so no Ω(d e^d) bound can hold for SubGen's guarantee there.)",
    relied_on=False,
)
def _check_thm15_matching():
    one_cluster = _theorem11_space(1, 2, sp.log(_L))
    ratio = (one_cluster / (_D * sp.exp(_D))).subs(_D, sp.sqrt(_L)).subs(_EPS, sp.Rational(1, 2))
    limit = sp.Limit(ratio, _L, sp.oo)
    at = {_L: 100 * sp.log(10), _D: 60, _EPS: sp.Rational(1, 2)}
    return [
        Counterexample(gt(limit, 0), {limit: sp.limit(ratio, _L, sp.oo)},
                       note="an Ω(d e^d) lower bound would keep the ratio of Theorem 11's one-cluster space "
                       "d ε^{-2}(d + (ln n)^5) to d e^d above a constant along d = sqrt(ln n), ε = 1/2; "
                       "sympy's limit is 0"),
        Counterexample(sp.GreaterThan(one_cluster, _D * sp.exp(_D)), at,
                       note="n = 10^100, r = ln ln n = 5.44, d = 60, ε = 1/2: Theorem 11 gives "
                       "d ε^{-2}(d + (ln n)^5) = 1.5e13 bits < d e^d = 6.9e27"),
    ]


@claim(
    name="SubGen estimators are unbiased",
    source="docs/theory.md §9 (SubGen)",
    statement="For every stream length: (a) after n pairs with ||v_l||² = w_l > 0, a value-norm-weighted slot "
    "holds pair l with probability w_l/μ_n (μ_n = Σ_{l<=n} w_l; induction on n, base and step certified), so "
    "(μ/s) Σ_slots e^{<q,k>} v/||v||² is unbiased for Σ_l e^{<q,k_l>} v_l (pairs with v_l = 0 add 0 to both); "
    "(b) after n_c >= t members, Algorithm R's reservoir of size t holds each member with probability t/n_c "
    "(induction on n_c), so (n_c/t_c) Σ_{reservoir} e^{<q,k>}, t_c = min(n_c, t), is unbiased for the cluster's "
    "Σ e^{<q,k_l>}, exact when n_c <= t; summed over the clusters (a partition of the keys) it is unbiased for "
    "Σ_l e^{<q,k_l>}.",
    relied_on=True,
)
def _check_unbiased():
    l, j, slot = sp.symbols("l j sigma", integer=True)
    n, s, nc, t = sp.symbols("n s n_c t", integer=True, positive=True)
    w = sp.IndexedBase("w", positive=True)  # ||v_l||^2
    f = sp.IndexedBase("f", real=True)  # e^{<q,k_l>} v_l (one coordinate)
    g = sp.IndexedBase("g", real=True)  # e^{<q,k_j>} for the members of one cluster
    mu0, w1, wl, wn = sp.symbols("mu_0 w_1 w_l w_n", positive=True)
    F = sp.Symbol("F", real=True)
    mu_n = sp.Sum(w[l], (l, 1, n))
    one_slot = sp.Sum(sp.Mul(w[l] / mu_n, mu_n / w[l], f[l], evaluate=False), (l, 1, n))
    reservoir = sp.Sum(sp.Mul(nc / t, t / nc, g[j], evaluate=False), (j, 1, nc))
    return [
        Identity(sp.Mul(w1, sp.Pow(sp.Add(sp.Integer(0), w1, evaluate=False), -1, evaluate=False), evaluate=False),
                 1, note="(a) base: the first pair enters every slot with "
                 "probability w_1/(0 + w_1) = 1 = w_1/μ_1"),
        Identity((wl / mu0) * (1 - wn / (mu0 + wn)), wl / (mu0 + wn),
                 note="(a) step: pair l stays with probability (w_l/μ_{n-1})(1 - w_n/μ_n) = w_l/μ_n; the new pair "
                 "enters with probability w_n/(μ_{n-1} + w_n) = w_n/μ_n by the rule"),
        Identity(one_slot, sp.Sum(f[l], (l, 1, n)),
                 note="(a) one slot: E[μ f_L / w_L] = Σ_l (w_l/μ)(μ/w_l) f_l = Σ_l f_l, symbolic n"),
        Identity(sp.Sum(F, (slot, 1, s)) / s, F, where={F: sp.Sum(f[l], (l, 1, n))},
                 note="(a) the mean over s independent slots has the same expectation F"),
        Identity((t / n) * (1 - (t / (n + 1)) * (1 / t)), t / (n + 1),
                 note="(b) step n -> n + 1 >= t + 1: a member stays unless the newcomer is accepted (t/(n+1)) "
                 "and takes its slot (1/t); base n = t: every member is in, t/t = 1"),
        Identity(reservoir, sp.Sum(g[j], (j, 1, nc)),
                 note="(b) E[(n_c/t) Σ_res g] = Σ_j (n_c/t)(t/n_c) g_j = Σ_j g_j, symbolic n_c"),
    ]


# --- experiment ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thm15Config(ExperimentConfig):
    """Experiment ``thm15``: SubGen's memory in n and d, eq. 17, SubGen vs the capacity bound (quick = defaults)."""

    delta: float = param(0.5, low=0.0, doc="SubGen's join radius δ")
    t: int = param(8, low=1, doc="SubGen's reservoir keys per cluster (memory curves)")
    s: int = param(32, low=1, doc="SubGen's value-norm samples (memory curves)")
    memory_d: list = param([2, 3, 4], low=1, high=24, doc="dimensions of the memory-vs-n curves")
    memory_log2_n: list = param([6, 8, 10, 12, 13, 14, 15], low=1, high=20, doc="log2 n of the memory-vs-n curves")
    draws: int = param(3, low=1, high=100, doc="independent streams (and cache seeds) per d of the memory-vs-n "
                       "curves; draw 0 is the one the figure shows")
    growth_d: list = param([1, 2, 3, 4, 5, 6], low=1, high=24, doc="dimensions of the memory-vs-d measurement")
    growth_n: int = param(16384, low=2, high=1 << 20, doc="stream length of the memory-vs-d measurement")
    eps: float = param(0.5, low=0.0, high=1.0, low_open=True, doc="target error ε of eq. 17")
    bound_r: float = param(2.0, low=0.0, high=10.0, low_open=True, doc="query norm r of the eq. 17 check")
    bound_n: int = param(3000, low=2, high=1 << 18, doc="stream length of the eq. 17 check")
    bound_d: list = param([2, 3, 4], low=1, high=24, doc="dimensions of the eq. 17 check")
    constants: list = param([0.0625, 0.25, 1, 4, 16], low=0.0, high=1000.0, low_open=True,
                            doc="constants c_t = c_s of subgen_parameters in the eq. 17 check")
    queries: int = param(100, low=1, high=10_000, doc="queries per eq. 17 check")
    trials: int = param(2, low=1, high=100, doc="streams per (d, stream, constant) of the eq. 17 check")
    versus_d: list = param([2, 4, 6, 8], low=1, high=24, doc="dimensions of SubGen vs the capacity bound")
    r_per_d: float = param(0.5, low=0.0, high=8.0, low_open=True, doc="query-norm bound r / d")
    eta: float = param(0.1, low=0.0, high=1.0, high_open=True, doc="approximation factor η")
    versus_n: int = param(16384, low=2, high=1 << 20, doc="stream length of SubGen's memory vs the bound")
    codebook: str = param("packed", choices=CODE_KINDS, doc="codebook of the capacity search")
    grid_ratio: float = param(1.2, low=1.0, high=4.0, low_open=True, doc="ratio between probed n'")
    max_n: int = param(2048, low=2, high=8192, doc="largest n' probed (the packed codebook holds two n x n matrices)")


THM15_PRESETS = {
    "quick": Thm15Config(),
    "paper": Thm15Config(
        memory_d=[2, 3, 4, 5], memory_log2_n=[6, 8, 10, 12, 13, 14, 15, 16, 17], growth_d=[1, 2, 3, 4, 5, 6, 7, 8],
        growth_n=65536, bound_n=10000, bound_d=[2, 3, 4, 6], constants=[0.0625, 0.25, 1, 2, 4, 8, 16], queries=200,
        trials=5, versus_d=[2, 4, 6, 8, 10], versus_n=32768, grid_ratio=1.15, max_n=4096, draws=5),
}


def thm15_sweep(config: dict, seed: int) -> list[dict]:
    """The units: (a) per d the memory-vs-n curve (one cache read incrementally), (b) per d the
    memory after ``growth_n`` keys, (c) per d, stream and constant the eq. 17 check over its trials,
    (d) per d the capacity search with SubGen's game, and SubGen's memory after ``versus_n`` keys;
    then (a) again on fresh streams, per draw ``1 .. draws-1`` and d."""
    return [
        *({"part": "memory_vs_n", "d": d} for d in config["memory_d"]),
        *({"part": "memory_vs_n", "d": d, "draw": draw} for draw in range(1, config.get("draws", 1))
          for d in config["memory_d"]),
        *({"part": "memory_vs_d", "d": d} for d in config["growth_d"]),
        *({"part": "bound", "d": d, "stream": stream, "constant": c}
          for d in config["bound_d"] for stream in ("ball", "clustered") for c in config["constants"]),
        *({"part": part, "d": d} for d in config["versus_d"] for part in ("versus", "subgen")),
    ]


def thm15_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One unit's rows; every stream is drawn from ``[seed, d, ...]`` (and the trial), as below."""
    part, d = unit["part"], unit["d"]
    if part == "memory_vs_n":
        return _memory_vs_n(config, d, seed, unit.get("draw", 0))
    if part == "memory_vs_d":
        return [_memory_at_d(config, d, seed)]
    if part == "bound":
        return [_bound_check(config, d, unit["stream"], unit["constant"], seed)]
    if part == "versus":
        return _versus(config, d, seed, players)
    return [_subgen_memory(config, d, seed)]


def _memory_vs_n(config, d, seed, draw: int = 0) -> list[dict]:
    """(a) SubGen's memory and clusters as one cache reads ``2^k`` keys of a uniform-ball stream, beside the exact cache's.

    Draw 0 reads the stream ``[seed, d, 2]`` with cache seed ``seed``; a draw >= 1 the stream
    ``[seed, d, 2, draw]`` with a cache seed drawn from ``default_rng([seed, d, 2, draw, 1])``."""
    ns = [2**v for v in config["memory_log2_n"]]
    keys, values = unit_ball_stream(max(ns), d, [seed, d, 2, draw] if draw else [seed, d, 2])
    cache_seed = int(np.random.default_rng([seed, d, 2, draw, 1]).integers(2**31)) if draw else seed
    cache, done, rows = SubGenCache(config["delta"], config["t"], config["s"], cache_seed), 0, []
    for n in ns:
        cache.extend(np.zeros((n - done, d)), keys[done:n], values[done:n])
        done = n
        rows.append({"part": "memory_vs_n", "d": d, **({"draw": draw} if draw else {}), "n": n,
                     "memory_bits": cache.memory_bits, "clusters": cache.clusters,
                     "exact_bits": 8 * (9 + 2 * 4 * n * d)})  # ExactCache("float32")
    return rows


def _memory_at_d(config, d, seed) -> dict:
    """(b) Clusters and memory after ``growth_n`` keys at dimension d, beside the covering bounds."""
    n, delta = config["growth_n"], config["delta"]
    keys, values = unit_ball_stream(n, d, [seed, d, 3])
    cache = SubGenCache(delta, config["t"], config["s"], seed)
    cache.extend(np.zeros_like(keys), keys, values)
    return {"part": "memory_vs_d", "d": d, "clusters": cache.clusters, "memory_bits": cache.memory_bits,
            "lemma13": lemma13_bound(d, delta), "packing": packing_bound(d, delta),
            "volume": volume_lower_bound(d, delta), "saturated": cache.clusters < n / 8}


def _ratio_stats(ratios: np.ndarray, eps: float) -> dict:
    return {"fraction_within": float(np.mean(ratios <= eps)), "q99_over_eps": float(np.quantile(ratios, 0.99) / eps),
            "median_over_eps": float(np.median(ratios) / eps), "samples": int(ratios.size)}


def _bound_check(config, d, stream, c, seed) -> dict:
    """(c) Eq. 17's ratio over ``queries`` queries on each of ``trials`` streams, SubGen at constant c."""
    eps, delta, r, n = config["eps"], config["delta"], config["bound_r"], config["bound_n"]
    t, s = subgen_parameters(eps, delta, r, n, d, c_t=c, c_s=c)
    ratios, memory = [], []
    for trial in range(config["trials"]):
        if stream == "ball":
            K, V = unit_ball_stream(n, d, [seed, d, trial, 4])
        else:
            K, V = clustered_stream(n, d, 8, delta / 2, [seed, d, trial, 5])
        cache = SubGenCache(delta, t, s, seed=trial)
        cache.extend(np.zeros_like(K), K, V)
        Q, K_own, V_own = _queries(config["queries"], d, r, [seed, d, trial, 6])
        ratios.append(bound_ratios(cache, K, V, Q, K_own, V_own))
        memory.append(cache.memory_bits)
    return {"part": "bound", "stream": stream, "d": d, "constant": c, "t": t, "s": s, "r": r, "n": n, "eps": eps,
            "memory_bits": max(memory), **_ratio_stats(np.concatenate(ratios), eps)}


def _versus(config, d, seed, players) -> list[dict]:
    """(d) The capacity lower bound at d (:func:`reductions.cor9.capacity_search`) and SubGen playing
    that reduction's INDEX game at ``n'`` (its parameters for n' tokens), with eq. 17 on its stream."""
    eps, delta, eta = config["eps"], config["delta"], config["eta"]
    r = config["r_per_d"] * d
    found = capacity_search(d, r, eta, config["codebook"], seed=seed, bob=players, trials=1,
                            grid_ratio=config["grid_ratio"], max_n=config["max_n"])
    capacity = found["capacity"]
    n_game = max(capacity, 2)
    t_game, s_game = subgen_parameters(eps, delta, r, n_game, d)
    game_cache = SubGenCache(delta, t_game, s_game, seed)
    reduction, x = trial_input(BoundedNormReduction(n_game, d, r, 0.0, config["codebook"]), seed, 0)
    message = players.alice(reduction, game_cache, x)
    accuracy = score(players, reduction, game_cache, message, x).accuracy
    rebuilt = SubGenCache.from_bytes(message, **game_cache.params())
    Q, K_own, V_own = reduction.bob_queries(np.arange(n_game))
    ratios = bound_ratios(rebuilt, reduction.keys, x.astype(float), Q, K_own, V_own)
    return [{"part": "versus", "d": d, "r": r, "capacity": capacity, "censored": found["censored"],
             "lower_bound_bits": FANO_99 * d * capacity, "game_memory_bits": 8 * len(message),
             "game_accuracy": accuracy, "game_fano_max_accuracy": float(max_accuracy(8 * len(message), n_game * d)),
             "public_seed": reduction.public_seed},
            {"part": "bound", "stream": "reduction", "d": d, "constant": 1.0, "t": t_game, "s": s_game, "r": r,
             "n": n_game, "eps": eps, "memory_bits": 8 * len(message), **_ratio_stats(ratios, eps)}]


def _subgen_memory(config, d, seed) -> dict:
    """(d) SubGen's memory after ``versus_n`` keys at d, with Theorem 11's parameters at ``r = r_per_d · d``."""
    r, n = config["r_per_d"] * d, config["versus_n"]
    t, s = subgen_parameters(config["eps"], config["delta"], r, n, d)
    keys, values = unit_ball_stream(n, d, [seed, d, 7])
    big = SubGenCache(config["delta"], t, s, seed)
    big.extend(np.zeros_like(keys), keys, values)
    return {"part": "subgen", "d": d, "subgen_t": t, "subgen_s": s, "subgen_clusters": big.clusters,
            "subgen_bits": big.memory_bits, "exact_bits": 8 * (9 + 2 * 4 * n * d)}


def _without_part(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "part"}


def _exponents(config, growth, versus) -> dict:
    """Per-dimension growth rates: ``ln`` of the lower bound vs SubGen's ``ln m + 2δr`` (Theorem 11's ``m t``)."""
    pairs = [(row["d"], math.log(row["lower_bound_bits"])) for row in versus if not row["censored"]]
    fit = line_fit([d for d, _ in pairs], [v for _, v in pairs])
    lower = None if fit is None else fit[0]
    clusters = growth.get("log_m_slope")
    sampling = 2 * config["delta"] * config["r_per_d"]
    return {"lower_bound": lower, "subgen_clusters": clusters, "subgen_reservoir": sampling,
            "subgen_theorem11": None if clusters is None else clusters + sampling}


def thm15_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """SubGen's memory in n and d, eq. 17, and SubGen against the Corollary 9 lower bound (HO Thm 11, 15)."""
    by_part: dict[str, list[dict]] = {}
    for row in rows:
        by_part.setdefault(row["part"], []).append(row)
    memory = []
    for d in config["memory_d"]:
        curves = [[row for row in by_part.get("memory_vs_n", []) if row["d"] == d and row.get("draw", 0) == draw]
                  for draw in range(config.get("draws", 1))]
        curve = curves[0]
        bits = [row["memory_bits"] for row in curve]
        memory.append({"d": d, "n": [row["n"] for row in curve], "memory_bits": bits,
                       "clusters": [row["clusters"] for row in curve], "exact_bits": [row["exact_bits"] for row in curve],
                       "last_doubling_growth": bits[-1] / bits[-2] - 1 if len(bits) > 1 else None,
                       # every draw's curve over the same n, draw 0 (the one above) first
                       "draws": len(curves), "memory_bits_draws": [[row["memory_bits"] for row in c] for c in curves],
                       "clusters_draws": [[row["clusters"] for row in c] for c in curves]})
    growth_rows = [_without_part(row) for row in by_part.get("memory_vs_d", [])]
    usable = [(r["d"], math.log(r["clusters"])) for r in growth_rows if r["saturated"] and r["clusters"] > 1]
    fit = line_fit([d for d, _ in usable], [v for _, v in usable])
    growth = {"n": config["growth_n"], "delta": config["delta"], "rows": growth_rows,
              "log_m_slope": None if fit is None else fit[0],
              "lemma13_slope": math.log(3 / config["delta"]), "volume_slope": math.log(1 / config["delta"])}
    subgen = {row["d"]: row for row in by_part.get("subgen", [])}
    versus = []
    for row in by_part.get("versus", []):
        big = subgen[row["d"]]
        versus.append({
            "d": row["d"], "r": row["r"], "capacity": row["capacity"], "censored": row["censored"],
            "lower_bound_bits": row["lower_bound_bits"], "subgen_t": big["subgen_t"], "subgen_s": big["subgen_s"],
            "subgen_clusters": big["subgen_clusters"], "subgen_bits": big["subgen_bits"],
            "exact_bits": big["exact_bits"], "ratio": big["subgen_bits"] / row["lower_bound_bits"],
            "game_memory_bits": row["game_memory_bits"], "game_accuracy": row["game_accuracy"],
            "game_fano_max_accuracy": row["game_fano_max_accuracy"],
        })
    bound = [row for row in by_part.get("bound", []) if row["stream"] != "reduction"]
    bound += [row for row in by_part.get("bound", []) if row["stream"] == "reduction"]
    points = [
        {"cache": repr(SubGenCache(config["delta"], row["subgen_t"], row["subgen_s"], seed)), "family": "SubGenCache",
         "d": row["d"], "memory_bits": row["game_memory_bits"], "bits_encoded": row["capacity"] * row["d"],
         "memory_ratio": row["game_memory_bits"] / (row["capacity"] * row["d"]), "accuracy": row["game_accuracy"],
         "trials": 1, "fano_max_accuracy": row["game_fano_max_accuracy"]}
        for row in versus
    ]
    return {
        "experiment": "thm15",
        "exponents": _exponents(config, growth, versus),
        "delta": config["delta"], "t": config["t"], "s": config["s"], "eps": config["eps"],
        "r_per_d": config["r_per_d"], "eta": config["eta"],
        "memory_vs_n": memory,
        "memory_vs_d": growth,
        "bound": [_without_part(row) for row in bound],
        "versus": versus,
        "points": points,
    }


def thm15_headline(summary: dict) -> str:
    """``barriers report``'s line: SubGen's memory at the smallest d at the last n and its growth over
    the last n (each median [min, max] over the streams drawn; one stream: single draw) against the
    exact cache's (exact), the cluster exponent in d (99% bootstrap over the
    saturated d) against Lemma 13's ln(3/δ) (exact), and eq. 17's hit rate per constant (99% Wilson
    over the sampled queries; worst and best stream)."""
    from protocols.headline import exact, fitted_slope, over_draws, rate

    parts = []
    growth = summary.get("memory_vs_n") or []
    if growth:
        row = min(growth, key=lambda r: r["d"])
        tail = [i for i, n in enumerate(row["n"]) if n >= row["n"][-1] // 8] or [len(row["n"]) - 1]
        curves = row.get("memory_bits_draws") or [row["memory_bits"]]
        last = over_draws([c[-1] for c in curves], 0, " bits")
        grew = over_draws([100 * (c[-1] / c[tail[0]] - 1) for c in curves], 1, "%")
        parts.append(f"at d = {row['d']} SubGen's memory is {last} at n = {row['n'][-1]:,}, {grew} more than at "
                     f"n = {row['n'][tail[0]]:,}, while the exact cache grows to "
                     f"{exact(row['exact_bits'][-1], 0)} bits at n = {row['n'][-1]:,}")
    versus_d = summary.get("memory_vs_d") or {}
    rows = [r for r in versus_d.get("rows") or [] if r.get("saturated") and r["clusters"] > 1]
    if len(rows) >= 2:
        import math
        slope = fitted_slope([r["d"] for r in rows], [math.log(r["clusters"]) for r in rows], log=False)
        parts.append(f"clusters grow as e^(c·d) with c = {slope} (99% bootstrap over d = {rows[0]['d']}..{rows[-1]['d']}) "
                     f"against Lemma 13's ln(3/δ) = {exact(versus_d['lemma13_slope'])}")
    bound = [r for r in summary.get("bound") or [] if r.get("stream") != "reduction"]
    for constant in sorted({r["constant"] for r in bound}, reverse=True):
        here = [r for r in bound if r["constant"] == constant]
        if constant not in (max(r["constant"] for r in bound), 1):
            continue
        low = min(here, key=lambda r: r["fraction_within"])
        high = max(here, key=lambda r: r["fraction_within"])
        span = rate(low["fraction_within"], low["samples"])
        cells = f"in each of {len(here)} stream/d cells"
        if high["fraction_within"] > low["fraction_within"]:
            span += f" to {rate(high['fraction_within'], high['samples'])}"
            cells = f"across {len(here)} stream/d cells"
        parts.append(f"eq. 17 holds for {span} of queries with constant {constant:g} in t and s ({cells})")
    return "; ".join(parts) or "see figure"


# --- SubGen at its operating point (experiment subgen_operating) --------------------------------
#
# Eq. 17's proof needs the denominator estimate within a (1 ± ε) factor, Ẑ(q) in [(1-ε) Z(q), (1+ε) Z(q)]
# with Z(q) = Σ_l exp(<q, k_l>) over the stream; that condition is the only part of SubGen that t controls.
# Experiment ``subgen_operating`` measures how often it fails against the cache's memory as t runs from 1
# to the largest cluster (where every key is stored and Ẑ = Z), finds the smallest memory at which it
# holds for 99% of queries, and follows the memory at Theorem 11's t ∝ ln n as n grows. Intervals:
# docs/theory.md §9 (a Wilson interval on a design-effect sample size, the queries of one cache seed
# being correlated).


@dataclass(frozen=True)
class SubgenOperatingConfig(ExperimentConfig):
    """Experiment ``subgen_operating``: eq. 17's denominator band against memory, t below the clusters (quick = defaults)."""

    delta: float = param(0.5, low=0.0, low_open=True, high=2.0, doc="SubGen's join radius δ (clusters: 8 of radius δ/2)")
    r: float = param(2.0, low=0.0, high=10.0, low_open=True, doc="query norm r")
    n: int = param(3000, low=2, high=1 << 18, doc="stream length of the failure-vs-memory curves")
    d: list = param([2, 3], low=1, high=16, doc="dimensions of the failure-vs-memory curves")
    streams: int = param(1, low=1, high=20, doc="independent streams per dimension")
    t_grid: list = param([1, 2, 4, 8, 16, 32, 64, 128, 256, 512], low=1, high=1 << 18,
                         doc="reservoir sizes t (those >= the largest cluster are replaced by the largest cluster)")
    s: int = param(32, low=1, high=4096, doc="value-norm samples s (held fixed; counted in the memory)")
    eps: list = param([0.5, 0.1, 0.05], low=0.0, high=1.0, low_open=True, high_open=True,
                      doc="band widths ε of the denominator condition")
    seeds: int = param(24, low=20, high=1000, doc="public seeds of the cache per (stream, t)")
    queries: int = param(40, low=1, high=10_000, doc="fresh queries per cache seed")
    growth_d: int = param(2, low=1, high=16, doc="dimension of the memory-vs-n curve")
    growth_log2_n: list = param([9, 10, 11, 12], low=4, high=20, doc="log2 n of the memory-vs-n curve")
    growth_streams: int = param(2, low=1, high=20, doc="independent streams per n of the memory-vs-n curve")
    log_constant: float = param(4.0, low=0.0, high=1000.0, low_open=True, doc="c in t = ceil(c ln n)")

    def check(self) -> None:
        needed = math.ceil(99 * Z_99**2)
        if self.seeds * self.queries < needed:
            raise ParameterError(f"seeds * queries = {self.seeds * self.queries} cannot certify 99% (a 99% Wilson lower "
                                 f"bound >= 0.99 needs at least {needed} outcomes); raise seeds or queries")
        if len(self.growth_log2_n) < 2:
            raise ParameterError("growth_log2_n needs at least two values for a slope")


SUBGEN_OPERATING_PRESETS = {
    "quick": SubgenOperatingConfig(),
    "paper": SubgenOperatingConfig(d=[2, 3, 4], streams=3, seeds=40, queries=50,
                                   t_grid=[1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 2048],
                                   growth_log2_n=[10, 11, 12, 13, 14, 15, 16, 17], growth_streams=3),
}

#: Tags of the generators of experiment subgen_operating: streams, cache seeds, queries.
_OP_STREAM, _OP_SEED, _OP_QUERY = 41, 42, 43


def subgen_operating_sweep(config: dict, seed: int) -> list[dict]:
    """Units: per (d, stream) the whole t grid (one stream, ``seeds`` caches per t); per (n, stream) one point
    of the memory-vs-n curve at ``t = ceil(c ln n)``."""
    return [
        *({"part": "curve", "d": d, "stream": k} for d in config["d"] for k in range(config["streams"])),
        *({"part": "growth", "log2_n": v, "stream": k} for v in config["growth_log2_n"]
          for k in range(config["growth_streams"])),
    ]


def _seed_references(config: dict, K, V, d: int, unit_ints: list[int], seed: int, full: bool) -> list[dict]:
    """Per cache seed ``k``: its public seed, from ``[seed, 42, *unit_ints, k]``, its fresh queries, from
    ``[seed, 43, *unit_ints, k]``, the exact ``ln Z(q)`` over the stream's keys as the cache stores them
    (float32), and (``full``) eq. 17's exact output and scale. The same for every t of a unit (common random
    numbers across the grid)."""
    rounded = K.astype(np.float32).astype(np.float64)
    out = []
    for k in range(config["seeds"]):
        public = int(np.random.default_rng([seed, _OP_SEED, *unit_ints, k]).integers(2**31))
        Q, K_own, V_own = _queries(config["queries"], d, config["r"], [seed, _OP_QUERY, *unit_ints, k])
        scores = Q @ rounded.T
        top = scores.max(axis=1)
        ref = {"public": public, "Q": Q, "log_z": top + np.log(np.exp(scores - top[:, None]).sum(axis=1))}
        if full:
            ref.update(K_own=K_own, V_own=V_own, eq17=_eq17_reference(K, V, Q, K_own, V_own))
        out.append(ref)
    return out


def _denominator_failures(config: dict, K, V, t: int, references: list[dict]) -> dict:
    """Per cache seed, how many of its queries miss the (1 ± ε) band, for each ε; the largest relative error;
    with eq. 17's references, how many miss the full eq. 17 (numerator included, as :func:`bound_ratios`)."""
    eps = config["eps"]
    misses = [[] for _ in eps]
    eq17 = [[] for _ in eps]
    largest, memory = 0.0, None
    for ref in references:
        cache = SubGenCache(config["delta"], t, config["s"], ref["public"])
        cache.extend(np.zeros_like(K), K, V)
        error = np.abs(np.expm1(cache.clustering.log_partition(ref["Q"]) - ref["log_z"]))
        for j, e in enumerate(eps):
            misses[j].append(int(np.sum(error > e)))
        if "eq17" in ref:
            exact, scale = ref["eq17"]
            ratios = np.linalg.norm(cache.probe(ref["Q"], ref["K_own"], ref["V_own"]) - exact, axis=1) / scale
            for j, e in enumerate(eps):
                eq17[j].append(int(np.sum(ratios > e)))
        largest = max(largest, float(error.max()))
        memory = cache.memory_bits if memory is None else memory
        if cache.memory_bits != memory:  # the message's size depends on the counts only, never on the seed
            raise RuntimeError("SubGen's memory changed with its seed")
    return {"memory_bits": memory, "misses": misses, "eq17_misses": eq17, "max_error": largest}


def subgen_operating_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One unit's rows. Streams: :func:`clustered_stream` with 8 clusters of radius δ/2 (Theorem 11's
    setting, as in ``thm15``'s eq. 17 check) from ``[seed, 41, d, stream]`` (curves) or
    ``[seed, 41, 0, log2 n, stream]`` (growth); what is repeated over seeds is the cache's public
    randomness and the queries (eq. 17 in full only on the curves)."""
    delta, k = config["delta"], unit["stream"]
    if unit["part"] == "curve":
        d, n, ints = unit["d"], config["n"], [unit["d"], k]
        K, V = clustered_stream(n, d, 8, delta / 2, [seed, _OP_STREAM, *ints])
        probe = OnlineClustering(d, delta, 0, stream=0, dtype="float32")  # the cache's clustering, no samples
        probe.add(K)
        largest = int(probe.counts.max())
        grid = sorted({t for t in config["t_grid"] if t < largest} | {largest})
        references = _seed_references(config, K, V, d, ints, seed, full=True)
        rows = []
        for t in grid:
            found = _denominator_failures(config, K, V, t, references)
            rows.append({"part": "curve", "d": d, "stream": k, "n": n, "t": t, "largest_cluster": largest,
                         "clusters": probe.clusters, "keys_bits": 32 * n * d, "exact_bits": 8 * (9 + 2 * 4 * n * d),
                         **found})
        return rows
    d, n = config["growth_d"], 2 ** unit["log2_n"]
    ints = [0, unit["log2_n"], k]
    K, V = clustered_stream(n, d, 8, delta / 2, [seed, _OP_STREAM, *ints])
    t = math.ceil(config["log_constant"] * math.log(n))
    found = _denominator_failures(config, K, V, t, _seed_references(config, K, V, d, ints, seed, full=False))
    probe = OnlineClustering(d, delta, 0, stream=0, dtype="float32")
    probe.add(K)
    return [{"part": "growth", "d": d, "stream": k, "n": n, "t": t, "largest_cluster": int(probe.counts.max()),
             "clusters": probe.clusters, "keys_bits": 32 * n * d, "exact_bits": 8 * (9 + 2 * 4 * n * d), **found}]


def seed_clustered_wilson(misses: list[int], per_seed: int) -> dict:
    """Failure rate over ``len(misses)`` cache seeds of ``per_seed`` queries each, with a 99% Wilson interval on
    the design-effect sample size (docs/theory.md §9): the seeds are independent, the queries of one seed are
    not, so the pooled count is worth ``total / deff`` independent outcomes, ``deff = max(1, s_f² / (p(1-p)/Q))``
    with ``s_f²`` the between-seed variance of the per-seed failure fractions."""
    fractions = np.asarray(misses, dtype=float) / per_seed
    total = fractions.size * per_seed
    p = float(fractions.mean())
    binomial = p * (1 - p) / per_seed
    between = float(fractions.var(ddof=1)) if fractions.size > 1 else 0.0
    deff = max(1.0, between / binomial) if binomial > 0 else 1.0
    effective = total / deff
    low, high = wilson_interval(p * effective, effective)
    return {"rate": p, "low": low, "high": high, "effective": effective, "total": total, "deff": deff}


def _operating_point(curve: dict) -> dict:
    """The smallest grid t from which on every larger grid t has the success rate's 99% Wilson lower bound >= 0.99."""
    ok = [1 - high >= 0.99 for high in curve["failure_high"]]
    index = len(ok)
    while index > 0 and ok[index - 1]:
        index -= 1
    if index == len(ok):
        return {"t": None, "memory_bits": None}
    memory = curve["memory_bits"][index]
    return {"t": curve["t"][index], "memory_bits": memory,
            "previous_t": curve["t"][index - 1] if index else None,
            "previous_memory_bits": curve["memory_bits"][index - 1] if index else None,
            "ratio_to_keys": memory / curve["keys_bits"], "ratio_to_exact": memory / curve["exact_bits"],
            "compressing": memory < curve["keys_bits"]}


def subgen_operating_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Failure-vs-memory curves per (d, stream, ε), their 99% operating points, and the memory-vs-n fit."""
    per_seed = config["queries"]
    curves = []
    for d in config["d"]:
        for k in range(config["streams"]):
            here = sorted((r for r in rows if r["part"] == "curve" and r["d"] == d and r["stream"] == k),
                          key=lambda r: r["t"])
            if not here:
                continue
            for j, e in enumerate(config["eps"]):
                stats = [seed_clustered_wilson(r["misses"][j], per_seed) for r in here]
                eq17 = [seed_clustered_wilson(r["eq17_misses"][j], per_seed) for r in here]
                curve = {"d": d, "stream": k, "eps": e, "n": here[0]["n"], "largest_cluster": here[0]["largest_cluster"],
                         "clusters": here[0]["clusters"], "keys_bits": here[0]["keys_bits"],
                         "exact_bits": here[0]["exact_bits"], "t": [r["t"] for r in here],
                         "memory_bits": [r["memory_bits"] for r in here], "max_error": [r["max_error"] for r in here],
                         "failure_rate": [x["rate"] for x in stats], "failure_low": [x["low"] for x in stats],
                         "failure_high": [x["high"] for x in stats], "effective": [x["effective"] for x in stats],
                         "outcomes": [x["total"] for x in stats],
                         "eq17_failure_rate": [x["rate"] for x in eq17], "eq17_failure_low": [x["low"] for x in eq17],
                         "eq17_failure_high": [x["high"] for x in eq17]}
                curve["operating"] = _operating_point(curve)
                curves.append(curve)
    growth_rows = sorted((r for r in rows if r["part"] == "growth"), key=lambda r: (r["n"], r["stream"]))
    points = []
    for r in growth_rows:
        stats = [seed_clustered_wilson(m, per_seed) for m in r["misses"]]
        points.append({"n": r["n"], "stream": r["stream"], "t": r["t"], "memory_bits": r["memory_bits"],
                       "keys_bits": r["keys_bits"], "exact_bits": r["exact_bits"], "clusters": r["clusters"],
                       "largest_cluster": r["largest_cluster"],
                       "failure_rate": [x["rate"] for x in stats], "failure_high": [x["high"] for x in stats]})
    slope = low = high = None
    if len({p["n"] for p in points}) >= 2 and len(points) >= 2:
        slope, low, high = bootstrap_slope([math.log(p["n"]) for p in points], [math.log(p["memory_bits"]) for p in points],
                                           seed=seed, level=0.99)
        low, high = (None, None) if math.isnan(low) else (low, high)
    return {
        "experiment": "subgen_operating",
        "delta": config["delta"], "r": config["r"], "s": config["s"], "eps": config["eps"],
        "seeds": config["seeds"], "queries": config["queries"], "n": config["n"],
        "curves": curves,
        "growth": {"d": config["growth_d"], "log_constant": config["log_constant"], "points": points,
                   "slope": slope, "slope_low": low, "slope_high": high},
    }


def _fraction(value: float) -> str:
    """A parameter as a fraction (``1/10``), so that the headline's numbers are results, not settings."""
    from fractions import Fraction

    return str(Fraction(value).limit_denominator(1000))


def subgen_operating_headline(summary: dict) -> str:
    """Per ε: the smallest memory with eq. 17's denominator in (1 ± ε) for >= 99% of queries (99% Wilson lower
    bound on the design-effect sample size; memory exact given the stream, spread over streams and d) and its
    ratio to storing all keys at float32 (exact); the full eq. 17 at the fixed s with the exact denominator;
    the slope of log memory on log n at t = ceil(c ln n) (99% bootstrap)."""
    from protocols.headline import percent, spread

    parts = []
    curves = summary.get("curves") or []
    for e in summary.get("eps") or []:
        here = [c for c in curves if c["eps"] == e and (c.get("operating") or {}).get("t") is not None]
        if not here:
            continue
        ops = [c["operating"] for c in here]
        ts, largest = [o["t"] for o in ops], [c["largest_cluster"] for c in here]
        below = sum(o["compressing"] for o in ops)
        parts.append(f"ε = {_fraction(e)}: t = {min(ts)}–{max(ts)} of largest cluster {min(largest)}–{max(largest)}, "
                     f"{spread([o['memory_bits'] for o in ops], 'exact', 0)} bits = "
                     f"{spread([o['ratio_to_keys'] for o in ops], 'exact', 3)} × all keys ({below} of {len(ops)} below)")
    if parts:
        parts[0] = ("SubGen's denominator is within (1±ε) for at least 99 in 100 queries (99% Wilson lower bound) at "
                    + parts[0])
    full = [c for c in curves if c["eps"] == max(summary.get("eps") or [0])]
    if full:
        worst = max(full, key=lambda c: c["eq17_failure_rate"][-1])
        parts.append(f"the full eq. 17 at s = {summary.get('s')} (ε = {_fraction(worst['eps'])}, exact denominator, d = {worst['d']}) "
                     f"still fails for {percent(worst['eq17_failure_rate'][-1], worst['eq17_failure_low'][-1], worst['eq17_failure_high'][-1])} "
                     f"of queries")
    growth = summary.get("growth") or {}
    pts = growth.get("points") or []
    if growth.get("slope") is not None and pts:
        interval = (f"[{growth['slope_low']:.2f}, {growth['slope_high']:.2f}]" if growth.get("slope_low") is not None
                    else "(single draw: no resample varies)")
        parts.append(f"at t = ceil({_fraction(growth['log_constant'])} ln n) memory grows as n^{growth['slope']:.2f} {interval} "
                     f"(99% bootstrap, n = {pts[0]['n']:,}..{pts[-1]['n']:,}, d = {growth['d']}) against n·d's n^1")
    return "; ".join(parts) or "see figure"


EXPERIMENTS = [
    Experiment(
        "thm15", "HO Theorems 11, 15", "thm15",
        "SubGen: memory flat in n and exponential in d, eq. 17, memory vs the capacity lower bound",
        THM15_PRESETS, thm15_sweep, thm15_measure, thm15_summary, "plots.lowdim:thm15_figure", headline="reductions.thm15:thm15_headline",
    ),
    Experiment(
        "subgen_operating", "HO Theorem 11", "thm15",
        "SubGen below its largest cluster: eq. 17's denominator band against memory, the 99% operating point, memory vs n",
        SUBGEN_OPERATING_PRESETS, subgen_operating_sweep, subgen_operating_measure, subgen_operating_summary,
        "plots.lowdim:subgen_operating_figure", uses_game=False, headline="reductions.thm15:subgen_operating_headline",
    ),
]
