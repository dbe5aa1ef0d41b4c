"""kNN attention (Haris, *kNN Attention Demystified*; docs/theory.md §7): attention as an expectation,
estimated from a maximum-inner-product index and exact softmax samples.

``Attn(q, K, V) = E_{l ~ D_q}[v_l]`` with ``D_q(l) ∝ exp(<q, k_l>)`` (HO eq. 3). The estimator
asks an index for the top-``k`` keys of ``q``, draws exact samples from ``D_q`` by lazy Gumbel
sampling (HO Algorithm 2, :mod:`caches.lazy_gumbel`) at ``O(k + n/k)`` score reads each, and
combines ``groups`` means of ``samples`` samples by their median (``ε^{-2} log(1/δ)`` samples in
all). The cheaper *top-k* variant renormalises the softmax over the top-``k`` keys only; it is
deterministic and biased (it drops the tail mass).

Cost is counted in **score reads**: inner products ``<q, k_l>`` evaluated. The exact top-``k`` used
here (numpy ``argpartition`` over all scores) is the suite's stand-in for a sublinear index, as in
the kNN paper's cost model: it is charged ``k`` reads. :class:`NormOrderedIndex` is an honest exact
index whose own probes are counted: keys sorted by norm, scanned until Cauchy–Schwarz
(``<q,k> <= |q| |k|``) shows no unscanned key can enter the top-``k``. It is sublinear exactly when
few keys have large norm (HO Theorem 19's instances), and linear on isotropic keys.

Gradients (docs/theory.md §7), with ``P = softmax(Q K^T)`` row-wise and ``O = P V``:
``dV = P^T dO``; ``dQ_i = E_{l~P_i}[(dO_i·v_l) k_l] - E[dO_i·v_l] E[k_l]`` (a covariance);
``dK_l = Σ_i P_il (dO_i·v_l - D_i) q_i`` with ``D_i = Σ_l P_il dO_i·v_l``. The estimators:
``dV`` by the two-step Markov chain (draw row ``i ∝ |dO_ij|``, then ``l ~ P_i``; add
``sign(dO_ij) Σ_i|dO_ij| / m`` to ``dV_lj``), ``dQ`` by the unbiased sample covariance of
``(dO_i·v_l, k_l)`` over ``l ~ P_i``.

:class:`KNNAttentionCache` plays the INDEX game: its memory is every key and value plus the index,
so adaptivity buys time, not space (HO Theorem 6 still applies).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from caches.attention import softmax
from caches.base import ProbeThenExtend
from caches.codec import HEADER_BYTES, Reader, Writer
from caches.lazy_gumbel import lazy_gumbel, top_k
from caches.params import ParameterError, check_choice, check_int, check_real
from caches.scalar import median_of_means

__all__ = [
    "NormOrderedIndex",
    "KNNEstimate",
    "sqrt_k",
    "sample_counts",
    "knn_attention",
    "knn_forward",
    "attention_probabilities",
    "attention_gradients",
    "estimate_dV",
    "estimate_dQ",
    "KNNAttentionCache",
]

METHODS = ("sample", "topk")


def sample_counts(eps: float, delta: float) -> tuple[int, int]:
    """``(samples per group, groups)`` for an ``ε``-accurate (in standard deviations) median of means.

    Chebyshev: a mean of ``T = ceil(4/ε²)`` samples is off by more than ``ε σ`` with probability at
    most 1/4; Hoeffding: the median of ``Q = ceil(8 ln(1/δ))`` such means is off with probability at
    most ``exp(-2Q(1/4)^2) = exp(-Q/8) <= δ``. In all ``O(ε^{-2} log(1/δ))`` samples (kNN §3).
    """
    eps = check_real("eps", eps, 0.0, low_open=True)
    delta = check_real("delta", delta, 0.0, 1.0, low_open=True, high_open=True)
    return math.ceil(4 / eps**2), max(1, math.ceil(8 * math.log(1 / delta)))


def sqrt_k(n: int) -> int:
    """The kNN paper's choice ``k = ceil(sqrt(n))``, which balances ``k`` and ``n/k``."""
    return max(1, math.ceil(math.sqrt(n)))


def _norms(X: np.ndarray) -> np.ndarray:
    """Row norms, computed the same way for one row and for many (so ties sort identically)."""
    X = np.atleast_2d(X)
    return np.sqrt(np.einsum("ij,ij->i", X, X)) if X.size else np.zeros(X.shape[0])


class NormOrderedIndex:
    """Exact maximum-inner-product search over keys sorted by decreasing norm, probes counted.

    Built while streaming (:meth:`add`: norms cost ``O(d)`` per key and are not score reads).
    :meth:`query` scans blocks of ``k`` keys in norm order and stops once the ``k``-th best score
    found is at least ``|q|·|k_next|``, the Cauchy–Schwarz bound on every unscanned score.
    """

    def __init__(self, keys: np.ndarray | None = None, order: np.ndarray | None = None) -> None:
        self.keys = np.zeros((0, 0)) if keys is None else np.asarray(keys, dtype=np.float64)
        self.order = self._sorted_order() if order is None else np.asarray(order, dtype=np.int64)
        if order is not None and not np.array_equal(np.sort(self.order), np.arange(len(self.keys))):
            raise ParameterError("index order must be a permutation of the stored keys")

    def __len__(self) -> int:
        return self.keys.shape[0]

    def _sorted_order(self) -> np.ndarray:
        return np.argsort(-_norms(self.keys), kind="stable")

    def add(self, K: np.ndarray) -> None:
        """Insert keys (in stream order; their ids continue from ``len(self)``).

        One key is inserted in place (``O(n)``); a batch re-sorts. Both give the order of a stable
        sort by decreasing norm, so stepping and batching build the same index.
        """
        K = np.atleast_2d(np.asarray(K, dtype=np.float64))
        if K.shape[0] == 1 and len(self):
            at = np.searchsorted(-_norms(self.keys[self.order]), -_norms(K)[0], side="right")
            self.order = np.insert(self.order, at, len(self))
            self.keys = np.vstack([self.keys, K])
            return
        self.keys = K.copy() if len(self) == 0 else np.vstack([self.keys, K])
        self.order = self._sorted_order()

    def query(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact top-``k`` ids and scores per row of ``Q`` and the keys probed for each row."""
        Q = np.atleast_2d(np.asarray(Q, dtype=np.float64))
        n, m = len(self), Q.shape[0]
        k = check_int("k", k, 1, max(1, n))
        sorted_keys = self.keys[self.order]
        norms = _norms(sorted_keys)
        q_norms = np.linalg.norm(Q, axis=1)
        best_val = np.full((m, k), -np.inf)
        best_idx = np.full((m, k), -1, dtype=np.int64)
        probes = np.zeros(m, dtype=np.int64)
        active = np.ones(m, dtype=bool)
        for start in range(0, n, k):
            rows = np.flatnonzero(active)
            if rows.size == 0:
                break
            block = slice(start, min(n, start + k))
            scores = Q[rows] @ sorted_keys[block].T
            probes[rows] += scores.shape[1]
            cand_val = np.hstack([best_val[rows], scores])
            cand_idx = np.hstack([best_idx[rows], np.broadcast_to(self.order[block], scores.shape)])
            keep = np.argpartition(cand_val, cand_val.shape[1] - k, axis=1)[:, -k:]
            best_val[rows] = np.take_along_axis(cand_val, keep, axis=1)
            best_idx[rows] = np.take_along_axis(cand_idx, keep, axis=1)
            if block.stop < n:
                done = best_val[rows].min(axis=1) >= q_norms[rows] * norms[block.stop]
                active[rows[done]] = False
        return best_idx, best_val, probes


@dataclass(frozen=True)
class KNNEstimate:
    """Outputs ``(m, d)`` and score reads per query ``(m,)``."""

    output: np.ndarray
    reads: np.ndarray


def _check_method(method: str) -> str:
    return check_choice("method", method, METHODS)


#: Entries (query x sample x (k + (n - k)/k)) of one lazy-Gumbel call in :func:`knn_attention`; the
#: call's scratch is a few hundred bytes per entry, so this bounds it near a gigabyte.
SAMPLING_ENTRIES = 1 << 22


def knn_attention(
    Q: np.ndarray,
    K: np.ndarray,
    V: np.ndarray,
    *,
    k: int,
    samples: int,
    groups: int = 1,
    rng: np.random.Generator,
    method: str = "sample",
    top: tuple[np.ndarray, np.ndarray] | None = None,
) -> KNNEstimate:
    """kNN attention of each row of ``Q`` over all of ``K, V`` (kNN §3).

    ``method="sample"``: ``groups`` means of ``samples`` lazy-Gumbel samples, median over groups
    (each group mean is unbiased). ``method="topk"``: softmax renormalised over the top-``k``
    (biased). ``top`` optionally gives the index's answer ``(ids, scores)``; by default the exact
    top-``k``. Reads: ``k`` plus the distinct tail scores the samples touched.
    """
    Q = np.atleast_2d(np.asarray(Q, dtype=np.float64))
    K, V = np.asarray(K, dtype=np.float64), np.asarray(V, dtype=np.float64)
    n = K.shape[0]
    k = check_int("k", k, 1, n)
    check_int("samples", samples, 1)
    check_int("groups", groups, 1)
    _check_method(method)
    if top is None:
        ids, scores = top_k(Q @ K.T, k)
    else:
        ids, scores = (np.asarray(a) for a in top)
    if method == "topk":
        weights = softmax(scores, axis=1)
        return KNNEstimate(np.einsum("mk,mkd->md", weights, V[ids]), np.full(Q.shape[0], k, dtype=np.int64))
    m = Q.shape[0]
    # The race over the top-k plus about (n - k)/k tail draws per sample: queries go in chunks of at
    # most SAMPLING_ENTRIES such entries (one call, the same numbers, when they all fit).
    chunk = max(1, SAMPLING_ENTRIES // (groups * samples * (k + -(-(n - k) // k))))
    index, reads = [], []
    for start in range(0, m, chunk):
        part = slice(start, min(m, start + chunk))
        draws = lazy_gumbel(
            np.repeat(ids[part], groups, axis=0), np.repeat(scores[part], groups, axis=0), n - k,
            lambda r, c, start=start: np.einsum("rd,rd->r", Q[start + r // groups], K[c]), rng, samples=samples,
            rows_per_query=groups,
        )
        index.append(draws.index)
        reads.append(draws.distinct_reads)
    sampled = V[np.concatenate(index)].reshape(m, groups, samples, -1)
    output = np.stack([median_of_means(sampled[r]) for r in range(m)]) if groups > 1 else sampled[:, 0].mean(axis=1)
    return KNNEstimate(output, np.concatenate(reads))


def knn_forward(
    Q: np.ndarray,
    K: np.ndarray,
    V: np.ndarray,
    *,
    samples: int,
    rng: np.random.Generator,
    method: str = "sample",
    k_rule=sqrt_k,
    chunk: int = 512,
) -> KNNEstimate:
    """A causal forward pass: token ``i`` attends to tokens ``0..i`` with ``k_i = k_rule(i + 1)``.

    Score reads per token are ``k_i`` plus the distinct tail scores its samples touched; exact
    attention reads ``i + 1``. With ``k_i = sqrt(i+1)`` the total is ``O(n^1.5)`` against ``n(n+1)/2``.
    """
    Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
    n = Q.shape[0]
    _check_method(method)
    ks = np.array([min(i + 1, check_int("k_rule(n)", k_rule(i + 1), 1)) for i in range(n)])
    out = np.empty_like(V)
    reads = np.zeros(n, dtype=np.int64)
    for k in np.unique(ks):
        rows_all = np.flatnonzero(ks == k)
        for start in range(0, rows_all.size, chunk):
            rows = rows_all[start : start + chunk]
            width = int(rows[-1]) + 1
            scores = Q[rows] @ K[:width].T
            scores[np.arange(width)[None, :] > rows[:, None]] = -np.inf
            ids, top = top_k(scores, int(k))
            if method == "topk":
                weights = softmax(top, axis=1)
                out[rows] = np.einsum("mk,mkd->md", weights, V[ids])
                reads[rows] = k
                continue
            draws = lazy_gumbel(ids, top, rows + 1 - k,
                                lambda r, c, rows=rows: np.einsum("rd,rd->r", Q[rows[r]], K[c]),
                                rng, samples=samples)
            out[rows] = V[draws.index].mean(axis=1)
            reads[rows] = draws.distinct_reads
    return KNNEstimate(out, reads)


# --- gradients ---------------------------------------------------------------------------------


def attention_probabilities(Q: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``P = softmax(Q K^T)`` row-wise (non-causal, no 1/sqrt(d), as in HO eq. 1)."""
    return softmax(np.asarray(Q, dtype=np.float64) @ np.asarray(K, dtype=np.float64).T, axis=1)


def attention_gradients(Q, K, V, dO) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact ``(dQ, dK, dV)`` of ``L = <dO, softmax(QK^T) V>`` (docs/theory.md §7): the reference."""
    Q, K, V, dO = (np.asarray(a, dtype=np.float64) for a in (Q, K, V, dO))
    P = attention_probabilities(Q, K)
    A = dO @ V.T  # A_il = dO_i · v_l
    D = np.sum(P * A, axis=1, keepdims=True)  # D_i = E_{l~P_i}[dO_i · v_l]
    G = P * (A - D)  # dS, the gradient with respect to the scores
    return G @ K, G.T @ Q, P.T @ dO


def _row_sampler(Q, K, k):
    """Exact top-``k`` of every row of ``Q K^T`` once; returns ``draw(rows, samples, rng)``."""
    ids_all, top_all = top_k(Q @ K.T, k)
    n = K.shape[0]

    def draw(rows, samples, rng):
        return lazy_gumbel(ids_all[rows], top_all[rows], n - k,
                           lambda r, c: np.einsum("rd,rd->r", Q[rows[r]], K[c]), rng, samples=samples)

    return draw


#: Work per block of ``estimate_dV`` draws, in score-sized entries: a block holds about
#: ``DV_BLOCK_ELEMENTS / n`` draws, whose lazy-Gumbel scratch is ``O(k + n/k) <= O(n)`` each.
DV_BLOCK_ELEMENTS = 1 << 24


def estimate_dV(Q, K, V, dO, *, samples: int, rng: np.random.Generator, k: int | None = None,
                block: int | None = None) -> np.ndarray:
    """``dV = P^T dO`` by the two-step Markov chain (kNN §5), ``samples`` draws per column.

    Column ``j``: draw ``i`` with probability ``|dO_ij| / S_j`` (``S_j = Σ_i |dO_ij|``), then
    ``l ~ P_i`` by lazy Gumbel sampling; each draw adds ``sign(dO_ij) S_j / samples`` to ``dV_lj``.
    Unbiased: ``E = Σ_i (|dO_ij|/S_j) sign(dO_ij) S_j P_il = (P^T dO)_lj``. A column has ``n``
    entries, so its relative error is about ``sqrt(n / samples)``.

    Streamed: a column's draws are made and added up ``block`` at a time (default
    ``DV_BLOCK_ELEMENTS // n``), so memory is ``O(block · n + n · d)`` plus the ``n x n`` top-``k``
    search, whatever ``samples`` is. Per block the generator gives the row uniforms, then the lazy
    Gumbel draws; the estimator's law does not depend on ``block``, its numbers do.
    """
    Q, K, V, dO = (np.asarray(a, dtype=np.float64) for a in (Q, K, V, dO))
    n, d = K.shape[0], dO.shape[1]
    samples = check_int("samples", samples, 1)
    k = sqrt_k(n) if k is None else check_int("k", k, 1, n)
    block = max(1, DV_BLOCK_ELEMENTS // n) if block is None else check_int("block", block, 1)
    draw = _row_sampler(Q, K, k)
    weight = np.abs(dO)
    total = weight.sum(axis=0)  # S_j
    cdf = np.cumsum(weight, axis=0)
    sign = np.sign(dO)
    dV = np.zeros((n, d))
    for j in np.flatnonzero(total > 0):
        column = np.zeros(n)
        for start in range(0, samples, block):
            size = min(block, samples - start)
            rows = np.minimum(np.searchsorted(cdf[:, j], rng.random(size) * total[j], side="right"), n - 1)
            picked = draw(rows, 1, rng).index[:, 0]
            column += np.bincount(picked, weights=sign[rows, j], minlength=n)
        dV[:, j] = column * (total[j] / samples)
    return dV


def estimate_dQ(Q, K, V, dO, *, samples: int, rng: np.random.Generator, k: int | None = None) -> np.ndarray:
    """``dQ_i = Cov_{l~P_i}(dO_i·v_l, k_l)`` by the unbiased sample covariance of ``samples >= 2`` draws."""
    Q, K, V, dO = (np.asarray(a, dtype=np.float64) for a in (Q, K, V, dO))
    n = K.shape[0]
    samples = check_int("samples", samples, 2)
    k = sqrt_k(n) if k is None else check_int("k", k, 1, n)
    draws = _row_sampler(Q, K, k)(np.arange(Q.shape[0]), samples, rng)
    a = np.einsum("md,msd->ms", dO, V[draws.index])  # dO_i · v_l per sample
    keys = K[draws.index]  # (m, samples, d)
    a_c = a - a.mean(axis=1, keepdims=True)
    k_c = keys - keys.mean(axis=1, keepdims=True)
    return np.einsum("ms,msd->md", a_c, k_c) / (samples - 1)


# --- the INDEX-game cache -------------------------------------------------------------------


@dataclass
class KNNAttentionCache(ProbeThenExtend):
    """Every key and value (at ``dtype``) plus a norm-ordered index; answers by kNN attention.

    ``k = 0`` means ``ceil(sqrt(t))`` for ``t`` stored tokens. ``method="sample"`` draws
    ``samples`` lazy-Gumbel samples per group and takes the median of ``groups`` means;
    ``"topk"`` renormalises over the top-``k``. The current token is always in hand (read).
    Randomness: ``default_rng([seed, t, crc32(q, k, v)])`` per query, so ``probe`` equals ``step``.
    Memory: ``2 n d`` floats plus ``n`` 32-bit index entries: at least ``n d`` bits, as HO Theorem 6
    demands of any algorithm, adaptive or not.
    """

    k: int = 0
    samples: int = 32
    groups: int = 1
    method: str = "sample"
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.k = check_int("k", self.k, 0)
        self.samples = check_int("samples", self.samples, 1)
        self.groups = check_int("groups", self.groups, 1)
        _check_method(self.method)
        self.seed = check_int("seed", self.seed, 0)
        check_choice("dtype", self.dtype, ("float64", "float32", "float16"))
        self._index = NormOrderedIndex()
        self._values = np.zeros((0, 0))
        #: Instrumentation (not state): probes of the index and score reads of the samples.
        self.stats = {"queries": 0, "index_probes": 0, "sample_reads": 0}

    def _round(self, a) -> np.ndarray:
        return np.asarray(a, dtype=np.float64).astype(self.dtype).astype(np.float64)

    def _admit(self, K, V) -> None:
        K, V = self._round(np.atleast_2d(K)), self._round(np.atleast_2d(V))
        if K.shape[0] == 0:
            return
        self._index.add(K)
        self._values = V.copy() if self._values.size == 0 else np.vstack([self._values, V])


    def extend(self, Q, K, V) -> None:
        self._admit(K, V)

    def probe(self, Q, K, V) -> np.ndarray:
        Q, K_own, V_own = (np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (Q, K, V))
        t = len(self._index)
        if t == 0:
            return V_own.copy()
        keys, values = self._index.keys, self._values
        k = min(t, self.k or math.ceil(math.sqrt(t)))
        ids, scores, probes = self._index.query(Q, k)
        own_scores = np.einsum("md,md->m", Q, K_own)
        self.stats["queries"] += Q.shape[0]
        self.stats["index_probes"] += int(probes.sum())
        out = np.empty((Q.shape[0], values.shape[1]))
        if self.method == "topk":
            all_scores = np.hstack([scores, own_scores[:, None]])
            weights = softmax(all_scores, axis=1)
            return np.einsum("mk,mkd->md", weights[:, :k], values[ids]) + weights[:, k:] * V_own
        for r in range(Q.shape[0]):
            rng = np.random.default_rng([self.seed, t + 1, _crc(Q[r], K_own[r], V_own[r])])
            q = Q[r]
            draws = lazy_gumbel(
                np.broadcast_to(ids[r], (self.groups, k)), np.broadcast_to(scores[r], (self.groups, k)), t - k,
                lambda rows, c, q=q: keys[c] @ q, rng, samples=self.samples,
                extra_index=np.full((self.groups, 1), t), extra_scores=np.full((self.groups, 1), own_scores[r]),
                rows_per_query=self.groups,
            )
            self.stats["sample_reads"] += int(draws.distinct_reads.sum())
            table = np.vstack([values, V_own[r]])
            out[r] = median_of_means(table[draws.index])
        return out

    def budget_bits(self, n: int, d: int) -> int:
        """Message size after ``n`` tokens of dimension ``d``: header, keys, values, index (exact)."""
        return 8 * (HEADER_BYTES + n * (2 * d * np.dtype(self.dtype).itemsize + 4))

    def to_bytes(self) -> bytes:
        t = len(self._index)
        d = self._values.shape[1] if t else 0
        return (Writer(t, d).array(self._index.keys, self.dtype).array(self._values, self.dtype)
                .array(self._index.order, "uint32").finish())

    @classmethod
    def from_bytes(cls, data, **params) -> "KNNAttentionCache":
        cache = cls(**params)
        reader = Reader(data)
        t, d = reader.tokens, reader.dim
        keys = reader.array(cache.dtype, (t, d)).astype(np.float64)
        values = reader.array(cache.dtype, (t, d)).astype(np.float64)
        order = reader.array("uint32", (t,)).astype(np.int64)
        reader.done()
        cache._index = NormOrderedIndex(keys, order) if t else NormOrderedIndex()
        cache._values = values if t else np.zeros((0, 0))
        return cache


def _crc(*arrays) -> int:
    return zlib.crc32(b"".join(np.asarray(a, dtype=np.float64).tobytes() for a in arrays))


def zoo_members(n: int, d: int) -> list:
    """The kNN caches of the ``budget`` zoo: lazy-Gumbel samples and top-k renormalised."""
    return [KNNAttentionCache(samples=16, method="sample"), KNNAttentionCache(method="topk")]


#: ``caches.zoo.Family`` arguments: the kNN sampler stores everything, so it decodes like the exact cache.
ZOO_FAMILIES = [
    ("KNNAttentionCache", "adaptive sampling", "kNN attention, Haris 2025 (lazy Gumbel, LG 2017)", zoo_members, "kNN"),
]
