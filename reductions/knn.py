"""kNN attention (Haris, *kNN Attention Demystified*; docs/theory.md §7): adaptivity buys time, not space.

Read beside the paper:

1. **Estimator** (:func:`caches.knn.knn_attention`). ``o = E_{l~D_q}[v_l]``; a maximum-inner-product
   index gives the top-``k`` keys, lazy Gumbel sampling (HO Algorithm 2) gives exact samples of
   ``D_q`` at ``O(k + n/k)`` score reads each, and ``ε^{-2} log(1/δ)`` samples combined by median
   of means give an additive-``ε`` estimate (in units of the value scale). The top-``k``
   renormalised variant is cheaper and biased: it drops the tail mass.
2. **Forward pass** (:func:`caches.knn.knn_forward`). Causal, ``k_i = sqrt(i)``: about
   ``Σ_i (k_i + samples·i/k_i) = O(n^1.5)`` score reads against ``n(n+1)/2`` for exact attention.
3. **Gradients** (:func:`caches.knn.attention_gradients`, ``estimate_dV``, ``estimate_dQ``):
   exact ``dQ, dK, dV`` as the reference; ``dV = P^T dO`` by the two-step Markov chain, ``dQ`` by
   the covariance identity; both unbiased, error ``∝ 1/sqrt(samples)``. Budgets are matched: ``dQ``
   takes ``s`` draws per row, ``dV`` ``n·s`` draws per column (a column of ``dV`` has ``n`` entries).
4. **Space** (:class:`caches.knn.KNNAttentionCache`). The sampler stores every key and value plus
   the index; in HO Theorem 6's INDEX game it decodes like the exact cache and its memory sits
   above ``n d`` bits: adaptivity escapes Theorem 19's time bound, not Theorem 6's space bound.

Experiments (``make knn``, one question each): ``knn_error`` (item 1), ``knn_forward`` (item 2),
``knn_gradients`` (item 3), ``knn_game`` (item 4). Cost is counted in score reads (inner products evaluated); the
exact top-``k`` is an oracle charged ``k`` reads, the kNN paper's cost model (the honest
:class:`caches.knn.NormOrderedIndex` probes every key on isotropic random keys; that number is
reported too).

5. **A counted index** (experiment ``knn_index``, docs/theory.md §6-7). The oracle replaced by
   :class:`caches.mips.IVFIndex` (every centroid and key it scores counted), on ``queries`` rows that
   each attend to all ``n`` keys (the costliest rows of a causal pass; the whole causal pass is not
   rebuilt per row). Reads per query and the error against exact attention are reported together,
   beside the oracle's. Quick preset: reads/query ∝ ``n^0.5`` for both; the error (8 samples, value-scale
   units) is about 0.33-0.39 at every ``n``, dominated by sampling variance; the index at 2 probes
   adds a little (its top-``k`` misses keys, so lazy Gumbel's tail bound fails and the draws are biased),
   at 8 probes it matches the oracle at about three times the reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.attention import attention_batch
from caches.exact import ExactCache
from caches.knn import (
    KNNAttentionCache,
    NormOrderedIndex,
    attention_gradients,
    estimate_dQ,
    estimate_dV,
    knn_attention,
    knn_forward,
    sqrt_k,
)
from caches.params import ParameterError
from caches.spec import build
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows
from protocols.stats import fit_slope
from reductions.certify import claim
from reductions.tactics import Identity, Implies
from reductions.thm6 import ExactOutputReduction

INPUTS = ("random", "heavy")

# --- inputs --------------------------------------------------------------------------------------


def make_inputs(kind: str, n: int, d: int, m: int, rng: np.random.Generator):
    """Queries ``(m, d)``, keys and values ``(n, d)``.

    ``random``: Gaussian entries with ``sd = 1.5 d^{-1/4}`` for queries and keys (scores have
    sd ≈ 2.25), Gaussian values. ``heavy``: keys with Student-t (3 dof) entries at the same scale
    and values with Student-t (2 dof) entries: a few keys dominate and values have infinite variance.
    """
    scale = 1.5 / d**0.25
    Q = scale * rng.standard_normal((m, d))
    if kind == "random":
        return Q, scale * rng.standard_normal((n, d)), rng.standard_normal((n, d))
    if kind == "heavy":
        return Q, scale * rng.standard_t(3.0, (n, d)), rng.standard_t(2.0, (n, d))
    raise ParameterError(f"inputs must be one of {', '.join(INPUTS)}, got {kind!r}")


def value_scale(V: np.ndarray) -> float:
    """``sqrt(mean_l |v_l|^2)``: errors are reported in units of a typical value norm."""
    return float(np.sqrt(np.mean(np.sum(np.asarray(V) ** 2, axis=1))))


# --- certificates --------------------------------------------------------------------------------
#
# Symbolic sizes: M query rows, N keys, d dimensions, with generic in-range indices written as
# i0 <= M = i0 + p_M, l0 <= N = l0 + p_N, c0 <= d = c0 + p_d (p_* >= 0), so that sympy resolves the
# Kronecker deltas its differentiation of the sums produces. The loss is Σ_i <dO_i, O_i> with
# O_i = Σ_j P_ij v_j and P_i = softmax(K q_i) (no 1/sqrt(d)); its gradients are dQ, dK, dV.

_i, _j, _c = sp.symbols("i j c", integer=True)
_i0, _l0, _c0 = sp.symbols("i0 l0 c0", integer=True, positive=True)
_pM, _pN, _pd = sp.symbols("p_M p_N p_d", integer=True, nonnegative=True)
_M, _N, _DIM = _i0 + _pM, _l0 + _pN, _c0 + _pd
_Q, _K, _V, _G = (sp.IndexedBase(name, real=True) for name in ("Q", "K", "V", "dO"))
_SIZES = {sp.Symbol("M"): _M, sp.Symbol("N"): _N, sp.Symbol("d"): _DIM}


def _score(row, key):
    return sp.Sum(_K[key, _c] * _Q[row, _c], (_c, 1, _DIM))


def _a(row, key):
    """``dO_row · v_key``."""
    return sp.Sum(_G[row, _c] * _V[key, _c], (_c, 1, _DIM))


def _expect(row, f):
    """``E_{j ~ P_row}[f]`` with ``f`` an expression in the dummy key index ``_j``."""
    return sp.Sum(f * sp.exp(_score(row, _j)), (_j, 1, _N)) / sp.Sum(sp.exp(_score(row, _j)), (_j, 1, _N))


def _weight(row, key):
    return sp.exp(_score(row, key)) / sp.Sum(sp.exp(_score(row, _j)), (_j, 1, _N))


def _loss():
    return sp.Sum(_expect(_i, _a(_i, _j)), (_i, 1, _M))


def _softmax_jacobian():
    """``∂P_j/∂s_l = P_j (δ_jl - P_l)`` for a softmax row of symbolic length ``N`` (``l0`` in range)."""
    s = sp.IndexedBase("s", real=True)
    Z = sp.Sum(sp.exp(s[_j]), (_j, 1, _N))
    P = lambda x: sp.exp(s[x]) / Z  # noqa: E731
    return Identity(sp.diff(P(_i), s[_l0]), P(_i) * (sp.KroneckerDelta(_i, _l0) - P(_l0)), where=_SIZES,
                    note="softmax Jacobian, symbolic row length N (lhs: sympy.diff of the symbolic-size softmax)")


def _le(a, b):
    return sp.LessThan(a, b, evaluate=False)


@claim(
    name="dQ covariance identity",
    source="kNN §5, docs/theory.md §7",
    statement="For any numbers of query rows M, keys N and dimensions d (symbolic) and O_i = Σ_j P_ij v_j with "
    "P_i = softmax(K q_i): ∂(Σ_i <dO_i, O_i>)/∂q_i = E_{P_i}[(dO_i·v_j) k_j] - E_{P_i}[dO_i·v_j] E_{P_i}[k_j], "
    "coordinate by coordinate (and ∂P_j/∂s_l = P_j(δ_jl - P_l) for a row of any length).",
    relied_on=True,
)
def _check_dq():
    gradient = sp.diff(_loss(), _Q[_i0, _c0]).doit()
    covariance = (_expect(_i0, _a(_i0, _j) * _K[_j, _c0])
                  - _expect(_i0, _a(_i0, _j)) * _expect(_i0, _K[_j, _c0]))
    return [
        _softmax_jacobian(),
        Identity(gradient, covariance, where=_SIZES,
                 note="lhs: sympy.diff of the symbolic-size loss by Q[i0, c0], Kronecker sums evaluated"),
    ]


@claim(
    name="dK formula",
    source="docs/theory.md §7",
    statement="For symbolic M, N, d: ∂(Σ_i <dO_i, O_i>)/∂k_l = Σ_i P_il (dO_i·v_l - D_i) q_i with "
    "D_i = Σ_j P_ij dO_i·v_j, coordinate by coordinate.",
    relied_on=True,
)
def _check_dk():
    gradient = sp.diff(_loss(), _K[_l0, _c0]).doit()
    weight, q = _weight(_i, _l0), _Q[_i, _c0]
    # P_il (dO_i·v_l - D_i) q_i, distributed (sympy then sees the equality without a long simplify)
    formula = sp.Sum(weight * _a(_i, _l0) * q - weight * _expect(_i, _a(_i, _j)) * q, (_i, 1, _M))
    return [Identity(gradient, formula, where=_SIZES,
                     note="lhs: sympy.diff of the symbolic-size loss by K[l0, c0], Kronecker sums evaluated")]


@claim(
    name="dV Markov chain is unbiased",
    source="kNN §5, docs/theory.md §7",
    statement="For symbolic M, N, d: ∂(Σ_i <dO_i, O_i>)/∂v_l = Σ_i P_il dO_i (dV = P^T dO). For column j with "
    "S_j = Σ_i |dO_ij| > 0 (symbolic M): drawing i with probability |dO_ij|/S_j (these sum to 1), then l ~ P_i, "
    "and adding sign(dO_ij) S_j to entry l has expectation Σ_i dO_ij P_il = (P^T dO)_lj.",
    relied_on=True,
)
def _check_dv_chain():
    gradient = sp.diff(_loss(), _V[_l0, _c0]).doit()
    column = sp.IndexedBase("a", real=True)  # dO_{:, j}
    p = sp.IndexedBase("p", nonnegative=True)  # P_{i, l} for the fixed l
    S = sp.Symbol("S", positive=True)
    total = sp.Sum(sp.Abs(column[_i]), (_i, 1, _M))
    chain = sp.Sum(sp.Abs(column[_i]) / S * sp.sign(column[_i]) * S * p[_i], (_i, 1, _M))
    return [
        Identity(gradient, sp.Sum(_weight(_i, _l0) * _G[_i, _c0], (_i, 1, _M)), where=_SIZES,
                 note="lhs: sympy.diff of the symbolic-size loss by V[l0, c0]"),
        Identity(sp.Sum(sp.Abs(column[_i]) / total, (_i, 1, _M)), 1, note="the row probabilities sum to 1"),
        Identity(chain, sp.Sum(column[_i] * p[_i], (_i, 1, _M)), where={S: total},
                 note="E = Σ_i (|a_i|/S) sign(a_i) S P_il = Σ_i a_i P_il since |a| sign(a) = a"),
    ]


@claim(
    name="sample covariance is unbiased",
    source="kNN §5 (dQ estimator)",
    statement="For m >= 2 i.i.d. pairs (a_s, b_s) (symbolic m), E[(1/(m-1)) Σ_s (a_s - ā)(b_s - b̄)] = "
    "E[ab] - E[a]E[b]: the estimator is rewritten as (Σ_s a_s b_s - (Σ_s a_s)(Σ_t b_t)/m)/(m-1) and its "
    "expectation is summed by sympy from E[a_s b_t] = E[a]E[b] + δ_st (E[ab] - E[a]E[b]).",
    relied_on=True,
)
def _check_sample_covariance():
    s, t = sp.symbols("s t", integer=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    m = k + 2
    a, b = sp.IndexedBase("a", real=True), sp.IndexedBase("b", real=True)
    abar, bbar = sp.symbols("abar bbar", real=True)
    mu_ab, mu_a, mu_b = sp.symbols("mu_ab mu_a mu_b", real=True)
    Sa, Sb, Sab = sp.Sum(a[s], (s, 1, m)), sp.Sum(b[s], (s, 1, m)), sp.Sum(a[s] * b[s], (s, 1, m))
    moment = lambda x, y: mu_a * mu_b + sp.KroneckerDelta(x, y) * (mu_ab - mu_a * mu_b)  # noqa: E731
    s0 = sp.Symbol("s0", integer=True, positive=True)
    v = sp.Symbol("v", integer=True, nonnegative=True)
    # E[Σ_s a_s Σ_t b_t] = Σ_s Σ_t E[a_s b_t]: the inner sum at a generic s0 in [1, m] (m = s0 + v) ...
    inner = sp.Sum(moment(s0, t), (t, 1, s0 + v)).doit()
    inner_m = sp.expand(inner.subs(v, m - s0))
    if inner_m.has(s0):
        raise ValueError(f"the inner expectation depends on the row index: {inner_m}")
    # ... does not depend on s0, so the outer sum is m times it
    cross = sp.Sum(inner_m, (s, 1, m)).doit()
    diagonal = sp.Sum(moment(s, s), (s, 1, m)).doit()
    expectation = (diagonal - cross / m) / (m - 1)
    where = {sp.Symbol("m"): m, abar: Sa / m, bbar: Sb / m}
    return [
        Identity(sp.Sum((a[s] - abar) * (b[s] - bbar), (s, 1, m)), Sab - abar * Sb - bbar * Sa + m * abar * bbar,
                 where=where, note="Σ_s (a_s - ā)(b_s - b̄) expanded, symbolic m"),
        Identity((Sab - abar * Sb - bbar * Sa + m * abar * bbar).subs({abar: Sa / m, bbar: Sb / m}),
                 Sab - Sa * Sb / m, where=where, note="with ā = Σa/m, b̄ = Σb/m"),
        Identity(expectation, mu_ab - mu_a * mu_b, where=where,
                 note=f"E[Σ a_s b_s] = {diagonal}, E[Σa Σb] = {sp.factor(cross)} (summed by sympy)"),
    ]


@claim(
    name="causal kNN forward pass reads O(n^1.5)",
    source="kNN §3",
    statement="with k_i = sqrt(i) and expected tail <= i/k_i per sample, Σ_{i<=n} (k_i + c·i/k_i) <= "
    "(2/3)(1+c)(n+1)^{3/2} for every n >= 1 and c >= 0 (Σ_{i<=n} sqrt(i) <= (2/3)(n+1)^{3/2} by induction on n: "
    "base, recurrence and step certified)",
    relied_on=True,
)
def _check_forward_cost():
    i = sp.Symbol("i", integer=True, positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    c = sp.Symbol("c", nonnegative=True)
    A, B, Sn, T = sp.symbols("A B S_n T", positive=True)
    root = sp.Sum(sp.sqrt(i), (i, 1, n))
    return [
        Identity(sp.sqrt(i) + c * i / sp.sqrt(i), (1 + c) * sp.sqrt(i), note="k_i + c·i/k_i = (1+c) sqrt(i)"),
        Identity(sp.Sum((1 + c) * sp.sqrt(i), (i, 1, n)), (1 + c) * root, note="the constant factors out"),
        Implies(_le(1, sp.Rational(2, 3) * 2 ** sp.Rational(3, 2)), note="base n = 1: 1 <= (2/3) 2^{3/2}"),
        Identity(root + sp.Sum(sp.sqrt(i), (i, n + 1, n + 1)), sp.Sum(sp.sqrt(i), (i, 1, n + 1)),
                 note="recurrence S_{n+1} = S_n + sqrt(n+1), adjacent ranges"),
        Identity(sp.Sum(sp.sqrt(i), (i, n + 1, n + 1)), sp.sqrt(n + 1), note="the one-term sum"),
        Implies(Sn + A <= sp.Rational(2, 3) * B**3, [Sn <= sp.Rational(2, 3) * A**3, sp.Eq(B**2, A**2 + 1)],
                where={Sn: root, A: sp.sqrt(n + 1), B: sp.sqrt(n + 2)}, engine="z3",
                note="step: (2/3)A³ + A <= (2/3)B³ when B² = A² + 1"),
        Implies((1 + c) * T <= sp.Rational(2, 3) * (1 + c) * A**3, [T <= sp.Rational(2, 3) * A**3],
                where={T: root, A: sp.sqrt(n + 1)}, engine="z3", note="times (1 + c) >= 1"),
    ]


# --- experiments ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class KnnErrorConfig(ExperimentConfig):
    """Experiment ``knn_error``: estimator error and score reads vs samples and k (quick preset = the defaults)."""

    n: int = param(2048, low=4, doc="keys")
    d: int = param(16, low=1, doc="dimension")
    queries: int = param(64, low=1, doc="queries")
    inputs: list = param(list(INPUTS), choices=INPUTS, doc="input families")
    samples_values: list = param([1, 4, 16, 64, 256], low=1, doc="sample budgets of the kNN estimator")
    k_values: list = param([1, 8, 46, 256, 1024], low=1, doc="k of the top-k and sample@k estimators (each <= n)")
    groups: int = param(5, low=1, doc="median-of-means groups")

    def check(self) -> None:
        for k in self.k_values:
            if k > self.n:
                raise ParameterError(f"k_values[] must be <= n = {self.n}, got {k}")


@dataclass(frozen=True)
class KnnForwardConfig(ExperimentConfig):
    """Experiment ``knn_forward``: score reads of the causal forward pass vs n (quick preset = the defaults)."""

    n_values: list = param([256, 512, 1024, 2048, 4096], low=4, doc="n of the causal forward pass")
    d: int = param(16, low=1, doc="dimension")
    samples: int = param(8, low=1, doc="samples per row")
    draws: int = param(3, low=1, high=50, doc="independent passes (fresh inputs and samples) at the largest n")


@dataclass(frozen=True)
class KnnGradientsConfig(ExperimentConfig):
    """Experiment ``knn_gradients``: dQ and dV estimator error vs samples (quick preset = the defaults)."""

    n: int = param(128, low=4, doc="tokens")
    d: int = param(8, low=1, doc="dimension")
    samples: list = param([4, 16, 64], low=2, doc="samples per row of the gradient estimators")
    repeats: int = param(10, low=2, doc="independent estimates per point")


@dataclass(frozen=True)
class KnnGameConfig(ExperimentConfig):
    """Experiment ``knn_game``: the kNN caches in HO Theorem 6's INDEX game (quick preset = the defaults)."""

    n: int = param(256, low=2, doc="n of the INDEX game")
    d: int = param(128, low=1, doc="d of the INDEX game")
    trials: int = param(1, low=1, doc="games per cache")


KNN_ERROR_PRESETS = {
    "quick": KnnErrorConfig(),
    "paper": KnnErrorConfig(n=8192, d=32, queries=256, samples_values=[1, 4, 16, 64, 256, 1024],
                            k_values=[1, 8, 32, 91, 512, 2048, 8192]),
}
KNN_FORWARD_PRESETS = {
    "quick": KnnForwardConfig(),
    "paper": KnnForwardConfig(n_values=[256, 512, 1024, 2048, 4096, 8192, 16384], d=32, draws=5),
}
KNN_GRADIENTS_PRESETS = {
    "quick": KnnGradientsConfig(),
    # dV at s samples costs n·s·d lazy-Gumbel draws per repeat: s = 256 is about two minutes here.
    "paper": KnnGradientsConfig(n=512, d=16, samples=[4, 16, 64, 256], repeats=20),
}
KNN_GAME_PRESETS = {
    "quick": KnnGameConfig(),
    "paper": KnnGameConfig(n=1024, trials=2),
}


def knn_error_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per input family: its inputs, exact attention and index are shared by every estimator."""
    return [{"inputs": kind} for kind in dict.fromkeys(config["inputs"])]


def _errors(estimate: np.ndarray, exact: np.ndarray, scale: float) -> dict:
    """Mean and 90th percentile over the queries of the error in units of the value scale."""
    err = np.linalg.norm(estimate - exact, axis=1) / scale
    return {"error_mean": float(err.mean()), "error_p90": float(np.quantile(err, 0.9))}


def knn_error_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """Item 1 on one input family: the sampling estimator (plain and median of means, ``k = sqrt(n)``)
    at every sample budget, the top-``k`` and sample@``k`` estimators at every ``k``."""
    n, d, m = config["n"], config["d"], config["queries"]
    kind = unit["inputs"]
    kind_index = INPUTS.index(kind)
    Q, K, V = make_inputs(kind, n, d, m, np.random.default_rng([seed, 0, kind_index]))
    exact = attention_batch(Q, K, V)
    scale = value_scale(V)
    k_root = sqrt_k(n)
    probes = NormOrderedIndex(K).query(Q, k_root)[2]
    rows = []
    for samples in config["samples_values"]:
        for groups in sorted({1, config["groups"]}):
            if samples < groups:
                continue
            rng = np.random.default_rng([seed, 1, kind_index, samples, groups])
            est = knn_attention(Q, K, V, k=k_root, samples=samples // groups, groups=groups, rng=rng)
            rows.append({"inputs": kind, "method": "sample" if groups == 1 else f"median of {groups} means",
                         "k": k_root, "samples": samples // groups * groups, **_errors(est.output, exact, scale),
                         "reads_mean": float(est.reads.mean()), "norm_index_probes": float(probes.mean())})
    for k in config["k_values"]:
        top = knn_attention(Q, K, V, k=k, samples=1, rng=np.random.default_rng(0), method="topk")
        rows.append({"inputs": kind, "method": "topk", "k": k, "samples": 0, **_errors(top.output, exact, scale),
                     "reads_mean": float(k)})
        est = knn_attention(Q, K, V, k=k, samples=16, rng=np.random.default_rng([seed, 2, kind_index, k]))
        rows.append({"inputs": kind, "method": "sample@k", "k": k, "samples": 16,
                     **_errors(est.output, exact, scale), "reads_mean": float(est.reads.mean())})
    return rows


def knn_error_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """The estimator table and, per input family, the error's exponent in the number of samples."""
    slopes = {}
    for kind in dict.fromkeys(config["inputs"]):
        sampled = [r for r in rows if r["inputs"] == kind and r["method"] == "sample"]
        slopes[f"error_vs_samples_{kind}"] = fit_slope([r["samples"] for r in sampled],
                                                       [r["error_mean"] for r in sampled])
    return {"experiment": "knn_error", "n": config["n"], "d": config["d"], "queries": config["queries"],
            "estimator": rows, "slopes": slopes}


def knn_forward_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per sequence length ``n`` (draw 0), then ``draws - 1`` more independent passes (fresh
    inputs and samples) at the largest ``n``, where the headline reads the count of score reads."""
    ns = list(dict.fromkeys(config["n_values"]))
    return [{"n": n, "draw": 0} for n in ns] + [{"n": max(ns), "draw": draw} for draw in range(1, config["draws"])]


def knn_forward_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """Item 2 at one ``n``: the causal kNN pass's score reads and error against exact causal attention."""
    n, draw = unit["n"], unit.get("draw", 0)
    Q, K, V = make_inputs("random", n, config["d"], n, np.random.default_rng([seed, 3, n, draw]))
    est = knn_forward(Q, K, V, samples=config["samples"], rng=np.random.default_rng([seed, 4, n, draw]))
    err = np.linalg.norm(est.output - _causal_attention(Q, K, V), axis=1) / value_scale(V)
    return [{"n": n, "draw": draw, "knn_reads": int(est.reads.sum()), "exact_reads": n * (n + 1) // 2,
             "error_mean": float(err.mean()), "samples": config["samples"]}]


def knn_forward_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Score reads vs ``n`` and their exponents (kNN: about 1.5; exact: 2) over draw 0's pass per n:
    ``forward`` holds draw 0's row per n with every draw's reads and error beside it (``*_draws``;
    several at the largest n), ``forward_draws`` every row."""
    every = rows
    rows = []
    for row in every:
        if row.get("draw", 0) == 0:
            same = sorted((r for r in every if r["n"] == row["n"]), key=lambda r: r.get("draw", 0))
            rows.append({**row, "knn_reads_draws": [r["knn_reads"] for r in same],
                         "error_mean_draws": [r["error_mean"] for r in same]})
    slopes = {
        "knn_forward": fit_slope([r["n"] for r in rows], [r["knn_reads"] for r in rows]),
        "knn_forward_last_pair": fit_slope([r["n"] for r in rows[-2:]], [r["knn_reads"] for r in rows[-2:]]),
        "exact_forward": fit_slope([r["n"] for r in rows], [r["exact_reads"] for r in rows]),
    }
    return {"experiment": "knn_forward", "d": config["d"], "forward": rows, "forward_draws": every, "slopes": slopes}


GRADIENTS = ("dV", "dQ")


def knn_gradients_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per sample budget and gradient (``dV``, then ``dQ``)."""
    return [{"samples": samples, "gradient": name} for samples in dict.fromkeys(config["samples"]) for name in GRADIENTS]


def knn_gradients_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """Item 3 at one budget: ``repeats`` independent estimates of one gradient against the exact one."""
    n, d, samples, name = config["n"], config["d"], unit["samples"], unit["gradient"]
    Q, K, V = make_inputs("random", n, d, n, np.random.default_rng([seed, 5]))
    dO = np.random.default_rng([seed, 6]).standard_normal((n, d))
    dQ, _, dV = attention_gradients(Q, K, V, dO)
    # equal budgets: dQ draws `samples` per row (n rows), dV draws n·samples per column
    estimate, reference, draws = (estimate_dV, dV, n * samples) if name == "dV" else (estimate_dQ, dQ, samples)
    runs = [estimate(Q, K, V, dO, samples=draws, rng=np.random.default_rng([seed, 7, samples, r, name == "dQ"]))
            for r in range(config["repeats"])]
    scale = np.linalg.norm(reference)
    errors = [np.linalg.norm(x - reference) / scale for x in runs]
    return [{"gradient": name, "samples": samples, "draws": draws, "error_mean": float(np.mean(errors)),
             "bias_of_mean": float(np.linalg.norm(np.mean(runs, axis=0) - reference) / scale),
             "repeats": config["repeats"]}]


def knn_gradients_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Error vs samples per estimator and its exponent (unbiased estimators: about -1/2)."""
    slopes = {}
    for name in GRADIENTS:
        measured = [r for r in rows if r["gradient"] == name]
        slopes[f"{name}_error_vs_samples"] = fit_slope([r["samples"] for r in measured],
                                                       [r["error_mean"] for r in measured])
    return {"experiment": "knn_gradients", "n": config["n"], "d": config["d"], "gradients": rows, "slopes": slopes}


def knn_game_caches(seed: int) -> list:
    """Item 4's players: the sampling and top-``k`` kNN caches beside the exact cache."""
    return [KNNAttentionCache(samples=16, method="sample", seed=seed), KNNAttentionCache(method="topk"),
            ExactCache("float32")]


def knn_game_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per cache and trial: the cache's frozen public parameters and the trial number."""
    return [{"cache": frozen_spec(cache), "trial": trial} for cache in knn_game_caches(seed)
            for trial in range(config["trials"])]


def knn_game_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One game of HO Theorem 6's INDEX for the unit's cache on the unit's trial instance."""
    reduction = ExactOutputReduction(config["n"], config["d"])
    outcome = play_trial(reduction, unit["cache"], seed, unit["trial"], players)
    return outcome_rows(build(unit["cache"]), [outcome])


def knn_game_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per cache: accuracy (99% Wilson) and memory beside the Fano bound (HO Theorem 5); the score
    reads an honest norm-ordered index would take on the game's keys."""
    n, d = config["n"], config["d"]
    reduction = ExactOutputReduction(n, d)
    probes = NormOrderedIndex(reduction.keys).query(reduction.scale * reduction.keys, sqrt_k(n))[2]
    points = [{**point, "n": n, "d": d} for point in points_from_rows(rows)]
    return {"experiment": "knn_game", "points": points,
            "game": {"n": n, "d": d, "index_probes_mean": float(probes.mean())}}


def _causal_attention(Q, K, V, chunk: int = 512) -> np.ndarray:
    """Exact causal attention (token ``i`` over tokens ``0..i``), in row chunks."""
    out = np.empty_like(V)
    for start in range(0, Q.shape[0], chunk):
        rows = np.arange(start, min(Q.shape[0], start + chunk))
        scores = Q[rows] @ K[: rows[-1] + 1].T
        scores[np.arange(rows[-1] + 1)[None, :] > rows[:, None]] = -np.inf
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        out[rows] = (weights @ V[: rows[-1] + 1]) / weights.sum(axis=1, keepdims=True)
    return out


def _error_exponents(groups: list[tuple[str, list[dict]]], subject: str) -> str:
    """``"<subject> ∝ m^a [lo, hi] (name), ..."``: the error exponent in the number of samples m of each
    group with at least two grid points (99% bootstrap over the sample grid), or "see figure"."""
    from protocols.headline import fitted_slope

    slopes = [f"m^{fitted_slope([r['samples'] for r in rows], [r['error_mean'] for r in rows])} ({name})"
              for name, rows in groups if len(rows) >= 2]
    if slopes:
        return f"{subject} ∝ " + ", ".join(slopes) + " (99% bootstrap over the sample grid)"
    return "see figure"


def knn_error_headline(summary: dict) -> str:
    """``barriers report``'s line: error exponents in the number of samples m (99% bootstrap over the
    sample grid), per input family."""
    estimator = summary.get("estimator") or []
    kinds = sorted({r["inputs"] for r in estimator}, key=lambda k: (k != "random", k))
    groups = [(f"{kind} values", [r for r in estimator if r["inputs"] == kind and r["method"] == "sample"])
              for kind in kinds]
    return _error_exponents(groups, "kNN estimator error")


def knn_forward_headline(summary: dict) -> str:
    """``barriers report``'s line: the causal pass's score reads at the largest n (kNN: median [min, max]
    over the independent passes there; exact: n(n+1)/2, exact) with their exponents (99% bootstrap
    over the n grid of draw 0's passes; exact)."""
    from protocols.headline import exact, fitted_slope, over_draws
    from protocols.stats import fit_slope

    forward = summary.get("forward") or []
    if len(forward) < 2:
        return "see figure"
    last = max(forward, key=lambda r: r["n"])
    reads = over_draws([r / 1e6 for r in last.get("knn_reads_draws") or [last["knn_reads"]]])
    return (f"a causal pass reads {reads} vs {exact(last['exact_reads'] / 1e6)} "
            f"million scores at n = {last['n']} (reads ∝ n^"
            f"{fitted_slope([r['n'] for r in forward], [r['knn_reads'] for r in forward])}, 99% bootstrap, vs n^"
            f"{exact(fit_slope([r['n'] for r in forward], [r['exact_reads'] for r in forward]))})")


def knn_gradients_headline(summary: dict) -> str:
    """``barriers report``'s line: the gradient estimators' error exponents in the number of samples m
    (99% bootstrap over the sample grid)."""
    gradients = summary.get("gradients") or []
    groups = [(f"{name} estimator", [r for r in gradients if r["gradient"] == name]) for name in ("dV", "dQ")]
    return _error_exponents(groups, "gradient error")


def knn_game_headline(summary: dict) -> str:
    """``barriers report``'s line: the kNN caches in the INDEX game (99% Wilson; memory ratio exact)."""
    from protocols.headline import exact, percent

    knn = [p for p in summary.get("points") or [] if p.get("family") == "KNNAttentionCache"]
    if not knn:
        return "see figure"
    worst = min(knn, key=lambda p: p["accuracy"])
    shown = percent(worst["accuracy"], worst["accuracy_low"], worst["accuracy_high"])
    return (f"in the INDEX game kNN caches decode at least {shown} only at memory ratio "
            f"{exact(min(p['memory_ratio'] for p in knn))} × n·d bits: adaptivity buys time, not space")


@dataclass(frozen=True)
class KnnIndexConfig(ExperimentConfig):
    """Experiment ``knn_index``: the kNN estimator on a counted IVF index vs the exact top-k oracle
    (quick preset = the defaults)."""

    n_values: list = param([256, 1024, 4096], low=4, doc="keys each query attends to")
    d: int = param(16, low=1, doc="dimension")
    queries: int = param(64, low=2, doc="queries per n (each over all n keys: the last, costliest rows of a causal pass)")
    samples: int = param(8, low=1, doc="lazy Gumbel samples per query (knn_forward's setting)")
    probes_values: list = param([2, 8], low=1, doc="IVF cells scanned per query")


KNN_INDEX_PRESETS = {
    "quick": KnnIndexConfig(),
    "paper": KnnIndexConfig(n_values=[256, 1024, 4096, 16384, 65536], d=32, queries=128),
}


def knn_index_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per ``n``: its keys, queries, exact attention and IVF index are shared by every method."""
    return [{"n": n} for n in dict.fromkeys(config["n_values"])]


def knn_index_measure(config: dict, unit: dict, seed: int, players=None) -> list[dict]:
    """Per query: score reads and error (in units of the value scale, as ``knn_forward``) of the kNN
    estimator (``k = sqrt(n)``, lazy-Gumbel samples) with the exact top-``k`` (charged ``k`` reads,
    the kNN paper's cost model) and with the IVF index's top-``k`` (its counted reads)."""
    from caches.mips import IVFIndex

    n, d, m, samples = unit["n"], config["d"], config["queries"], config["samples"]
    Q, K, V = make_inputs("random", n, d, m, np.random.default_rng([seed, 20, n]))
    exact = attention_batch(Q, K, V)
    scale = value_scale(V)
    k = sqrt_k(n)
    runs = [("exact top-k", 0, None)]
    index = IVFIndex(K, seed=[seed, 21, n])
    for probes in dict.fromkeys(config["probes_values"]):
        before = index.reads_total
        index.probes = probes
        ids, scores, index_reads = index.query(Q, k)
        runs.append((f"IVF, {probes} probes", probes, (ids, scores, index_reads, index.reads_total - before)))
    rows = []
    for j, (method, probes, found) in enumerate(runs):
        rng = np.random.default_rng([seed, 22, n, probes])
        if found is None:
            est = knn_attention(Q, K, V, k=k, samples=samples, rng=rng)
            reads, counted = est.reads, None
        else:
            ids, scores, index_reads, counted = found
            est = knn_attention(Q, K, V, k=k, samples=samples, rng=rng, top=(ids, scores))
            reads = index_reads + (est.reads - k)  # the index's reads + the distinct tail scores sampled
        err = np.linalg.norm(est.output - exact, axis=1) / scale
        for q in range(m):
            rows.append({"n": n, "method": method, "probes": probes, "query": q, "k": k, "reads": int(reads[q]),
                         "index_reads": None if found is None else int(found[2][q]),
                         "index_counted_total": counted, "error": float(err[q]), "cells": index.cells})
    return rows


def knn_index_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per ``(method, n)``: reads per query and reads/n (mean, 99% bootstrap over queries), error mean
    and 90th percentile (99% bootstrap); per method the reads-per-query exponent in ``n`` (99% bootstrap
    over queries and n)."""
    from protocols.stats import bootstrap_slope
    from reductions.thm19 import mean_interval

    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row["n"]), []).append(row)
    points = []
    for (method, n), group in groups.items():
        reads = mean_interval([r["reads"] for r in group], seed)
        errors = [r["error"] for r in group]
        mean = mean_interval(errors, seed)
        p90 = mean_interval(errors, seed, statistic=lambda x, axis=None: np.quantile(x, 0.9, axis=axis))
        points.append({"method": method, "n": n, "probes": group[0]["probes"], "k": group[0]["k"],
                       "queries": len(group), "reads_mean": reads[0], "reads_low": reads[1], "reads_high": reads[2],
                       "reads_over_n": reads[0] / n, "error_mean": mean[0], "error_mean_low": mean[1],
                       "error_mean_high": mean[2], "error_p90": p90[0], "error_p90_low": p90[1],
                       "error_p90_high": p90[2]})
    exponents = []
    for method in dict.fromkeys(r["method"] for r in rows):
        members = [r for r in rows if r["method"] == method]
        if len({r["n"] for r in members}) < 2:
            continue
        slope, low, high = bootstrap_slope([np.log(r["n"]) for r in members], [np.log(max(1, r["reads"])) for r in members],
                                           [f"{r['n']}:{r['query']}" for r in members], seed=seed, level=0.99)
        exponents.append({"method": method, "slope": slope, "low": low, "high": high})
    return {"experiment": "knn_index", "d": config["d"], "samples": config["samples"], "points": points,
            "exponents": exponents}


def knn_index_headline(summary: dict) -> str:
    """``barriers report``'s line: per method, reads per query ∝ n^a [99% bootstrap over queries and n]
    and, at the largest n, the error mean and p90 in value-scale units (99% bootstrap over queries)."""
    points = summary.get("points") or []
    if not points:
        return "see figure"
    n = max(p["n"] for p in points)
    exponents = {e["method"]: e for e in summary.get("exponents") or []}
    parts = []
    for p in [p for p in points if p["n"] == n]:
        e = exponents.get(p["method"])
        slope = (f"reads/query ∝ n^{e['slope']:.2f} [{e['low']:.2f}, {e['high']:.2f}], "
                 if e is not None and e.get("low") is not None and np.isfinite(e["low"]) else "")
        parts.append(f"{p['method']}: {slope}reads/n {p['reads_over_n']:.3f} [{p['reads_low'] / n:.3f}, "
                     f"{p['reads_high'] / n:.3f}], error mean {p['error_mean']:.3f} [{p['error_mean_low']:.3f}, "
                     f"{p['error_mean_high']:.3f}], p90 {p['error_p90']:.3f} [{p['error_p90_low']:.3f}, "
                     f"{p['error_p90_high']:.3f}]")
    return (f"kNN estimator at n = {n} ({summary.get('samples')} samples, error in value-scale units, 99% bootstrap): "
            + "; ".join(parts))


_RESULT = "kNN attention; HO Theorems 6, 19"

EXPERIMENTS = [
    Experiment(
        "knn_error", _RESULT, "knn",
        "how accurate is the kNN estimator for its cost: error vs samples and k, score reads vs k",
        KNN_ERROR_PRESETS, knn_error_sweep, knn_error_measure, knn_error_summary,
        "plots.time:knn_error_figure", headline="reductions.knn:knn_error_headline", uses_game=False,
    ),
    Experiment(
        "knn_forward", _RESULT, "knn",
        "does the causal kNN forward pass read ~ n^1.5 scores (exact: n^2/2)?",
        KNN_FORWARD_PRESETS, knn_forward_sweep, knn_forward_measure, knn_forward_summary,
        "plots.time:knn_forward_figure", headline="reductions.knn:knn_forward_headline", uses_game=False,
    ),
    Experiment(
        "knn_gradients", _RESULT, "knn",
        "are the dV and dQ estimators unbiased with error ~ 1/sqrt(samples)?",
        KNN_GRADIENTS_PRESETS, knn_gradients_sweep, knn_gradients_measure, knn_gradients_summary,
        "plots.time:knn_gradients_figure", headline="reductions.knn:knn_gradients_headline", uses_game=False,
    ),
    Experiment(
        "knn_game", _RESULT, "knn",
        "does adaptivity buy space? kNN caches in the INDEX game need > n d bits to decode",
        KNN_GAME_PRESETS, knn_game_sweep, knn_game_measure, knn_game_summary,
        "plots.time:knn_game_figure", headline="reductions.knn:knn_game_headline",
    ),    Experiment(
        "knn_index", _RESULT, "knn",
        "with a counted IVF index instead of the exact top-k oracle: reads per query vs n and the error, together",
        KNN_INDEX_PRESETS, knn_index_sweep, knn_index_measure, knn_index_summary,
        "plots.mips:knn_index_figure", headline="reductions.knn:knn_index_headline", uses_game=False,
    ),
]
