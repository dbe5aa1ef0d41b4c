"""Caches that try to profit from sparse attention (players for HO Corollary 16).

Corollary 16 promises the algorithm that almost every attention weight is near zero and still
concludes Ω(nd) bits. These players act on that promise; both are below ``n·d`` bits on the
corollary's instances and both read only a few stored values per query:

* :class:`TopKHashedCache`: the keys and values of :class:`caches.designed.HashedBitsCache`
  (SimHash keys, one-bit values, optionally a covering code), but a query attends only over the
  ``k`` stored tokens with the highest estimated scores (and its own token): top-k attention.
* :class:`SparseValueCache`: SimHash keys and *sparse values*: per token only the ``keep`` entries
  of largest magnitude survive (their positions, a sign bit each and one float16 magnitude per
  token; every other entry decodes as 0). At probe time the tokens whose estimated score is more
  than ``margin`` below the query's best estimate are dropped (thresholded attention).

Both count the stored value rows a probe reads (``values_read``, ``queries_answered``): the
suite's evidence that they use the sparsity rather than ignore it. Neither helps: Fano's bound
(HO Theorem 5) holds for any message, sparse or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from caches.attention import CHUNK_ROWS
from caches.base import KeyValueCache
from caches.codec import HEADER_BYTES, Reader, Writer, packed_size
from caches.designed import HashedBitsCache
from caches.params import check_int, check_real
from caches.qjl import jl_projection, sign_sketch

MAGNITUDE_DTYPE = "float16"


def hashed_scores(Q: np.ndarray, hashes: np.ndarray, norms: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """SimHash angle estimates ``||q|| ||k|| cos(pi h / m)`` for every row of ``Q`` and stored hash
    (the score of :func:`caches.designed.hashed_attention`), shape ``(rows, stored)``."""
    m = projection.shape[0]
    signs = 2.0 * hashes.astype(np.float64) - 1.0
    query_signs = 2.0 * sign_sketch(Q, projection) - 1.0
    distance = 0.5 * (m - query_signs @ signs.T)
    return np.cos(np.pi * distance / m) * norms[None, :] * np.linalg.norm(Q, axis=1)[:, None]


def sparse_softmax(Q, K_own, V_own, scores, keep, values) -> np.ndarray:
    """Softmax over the stored tokens where ``keep`` is true (``(rows, stored)``) plus each row's own token.

    Values of dropped tokens are never touched: row ``r`` reads ``values[keep[r]]`` only.
    """
    own = np.einsum("rd,rd->r", Q, np.asarray(K_own, dtype=np.float64))
    masked = np.where(keep, scores, -np.inf)
    top = np.maximum(masked.max(axis=1), own)
    weights = np.where(keep, np.exp(masked - top[:, None]), 0.0)
    own_weight = np.exp(own - top)
    out = np.empty((Q.shape[0], np.shape(V_own)[1]))
    for r in range(Q.shape[0]):
        chosen = np.flatnonzero(keep[r])
        out[r] = weights[r, chosen] @ values[chosen] + own_weight[r] * V_own[r]
    return out / (weights.sum(axis=1) + own_weight)[:, None]


class _ReadCounter:
    """Counts the stored value rows read by probes (not part of the state or the message)."""

    def _count_reads(self, keep: np.ndarray) -> None:
        self.values_read = getattr(self, "values_read", 0) + int(keep.sum())
        self.queries_answered = getattr(self, "queries_answered", 0) + int(keep.shape[0])


@dataclass
class TopKHashedCache(HashedBitsCache, _ReadCounter):
    """HashedBitsCache's state; a query attends over its ``k`` highest SimHash estimates only (top-k)."""

    k: int = 4

    def __post_init__(self) -> None:
        self.k = check_int("k", self.k, 1)
        super().__post_init__()

    def probe(self, Q, K, V) -> np.ndarray:
        Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        if self._seen == 0:
            return V.copy()
        values, norms, projection = self._values(), self._norms(), self._projection()
        out = np.empty((Q.shape[0], V.shape[1]))
        k = min(self.k, self._seen)
        for start in range(0, Q.shape[0], CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            scores = hashed_scores(Q[rows], self._hashes, norms, projection)
            best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            keep = np.zeros(scores.shape, dtype=bool)
            np.put_along_axis(keep, best, True, axis=1)
            self._count_reads(keep)
            out[rows] = sparse_softmax(Q[rows], K[rows], V[rows], scores, keep, values)
        return out


@dataclass
class SparseValueCache(KeyValueCache, _ReadCounter):
    """SimHash keys; per token only its ``keep`` largest-magnitude value entries; thresholded attention.

    State per token: an ``hash_bits``-bit SimHash of the key (norms taken as 1, as
    :class:`caches.designed.HashedBitsCache` with ``norm_bits=0``), the positions of its ``keep``
    largest ``|v_j|`` (``ceil(log2 d)`` bits each; ties to the lower index), one sign bit each,
    and their mean magnitude (float16). Entry ``j`` decodes as ``sign_j * magnitude`` if kept,
    else 0. A query attends over the stored tokens whose estimated score is at least its best
    estimate minus ``margin`` (a large ``margin`` keeps all of them), plus its own token exactly.
    Memory ``n (hash_bits + keep (ceil(log2 d) + 1) + 16)`` bits plus the header.
    """

    hash_bits: int = 20
    keep: int = 8
    margin: float = 4.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.hash_bits = check_int("hash_bits", self.hash_bits, 1, 1 << 12)
        self.keep = check_int("keep", self.keep, 1)
        self.margin = check_real("margin", self.margin, 0.0)
        self.seed = check_int("seed", self.seed, 0)
        self._hashes = np.empty((0, self.hash_bits), dtype=np.uint8)
        self._positions = np.empty((0, 0), dtype=np.int64)
        self._signs = np.empty((0, 0), dtype=np.uint8)
        self._magnitudes = np.empty(0, dtype=MAGNITUDE_DTYPE)
        self._seen = self._dim = 0

    @staticmethod
    def _position_bits(d: int) -> int:
        return max(1, math.ceil(math.log2(max(d, 2))))

    def _kept(self, d: int) -> int:
        return min(self.keep, d)

    def _position_bytes(self, count: int, d: int) -> int:
        bits = self._position_bits(d)
        return packed_size(bits, count) if bits <= 8 else 2 * count

    def budget_bits(self, n: int, d: int) -> int:
        kept = self._kept(d)
        return 8 * (HEADER_BYTES + packed_size(1, n * self.hash_bits) + self._position_bytes(n * kept, d)
                    + packed_size(1, n * kept) + n * np.dtype(MAGNITUDE_DTYPE).itemsize)

    def _admit(self, K, V) -> None:
        if K.shape[0] == 0:
            return
        self._dim = K.shape[1]
        kept = self._kept(V.shape[1])
        self._hashes = np.concatenate([self._hashes, sign_sketch(K, jl_projection(self.seed, self.hash_bits, self._dim))])
        order = np.argsort(-np.abs(V), axis=1, kind="stable")[:, :kept]
        positions = np.sort(order, axis=1)
        chosen = np.take_along_axis(V, positions, axis=1)
        self._positions = np.concatenate([self._positions.reshape(-1, kept), positions])
        self._signs = np.concatenate([self._signs.reshape(-1, kept), (chosen < 0).astype(np.uint8)])
        magnitude = np.abs(chosen).mean(axis=1).astype(MAGNITUDE_DTYPE)
        self._magnitudes = np.concatenate([self._magnitudes, magnitude])
        self._seen += K.shape[0]

    def _values(self) -> np.ndarray:
        values = np.zeros((self._seen, self._dim))
        levels = self._magnitudes.astype(np.float64)[:, None] * (1.0 - 2.0 * self._signs)
        np.put_along_axis(values, self._positions, levels, axis=1)
        return values

    def _stored(self):
        raise NotImplementedError("SparseValueCache scores from hashes; use probe")

    def probe(self, Q, K, V) -> np.ndarray:
        Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        if self._seen == 0:
            return V.copy()
        values, projection = self._values(), jl_projection(self.seed, self.hash_bits, self._dim)
        norms = np.ones(self._seen)
        out = np.empty((Q.shape[0], V.shape[1]))
        for start in range(0, Q.shape[0], CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            scores = hashed_scores(Q[rows], self._hashes, norms, projection)
            keep = scores >= scores.max(axis=1, keepdims=True) - self.margin
            self._count_reads(keep)
            out[rows] = sparse_softmax(Q[rows], K[rows], V[rows], scores, keep, values)
        return out

    def to_bytes(self) -> bytes:
        bits = self._position_bits(self._dim) if self._seen else 1
        writer = Writer(self._seen, self._dim).codes(self._hashes, 1)
        if bits <= 8:
            writer.codes(self._positions.astype(np.uint8), bits)
        else:
            writer.array(self._positions.astype("uint16"), "uint16")
        return writer.codes(self._signs, 1).array(self._magnitudes, MAGNITUDE_DTYPE).finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "SparseValueCache":
        cache = cls(**params)
        reader = Reader(data)
        n, d = reader.tokens, reader.dim
        kept = cache._kept(d) if n else 0
        bits = cache._position_bits(d)
        cache._hashes = reader.codes(1, n * cache.hash_bits).reshape(n, cache.hash_bits)
        if bits <= 8:
            positions = reader.codes(bits, n * kept)
        else:
            positions = reader.array("uint16", (n * kept,))
        cache._positions = positions.astype(np.int64).reshape(n, kept)
        cache._signs = reader.codes(1, n * kept).reshape(n, kept)
        cache._magnitudes = reader.array(MAGNITUDE_DTYPE, (n,))
        reader.done()
        cache._seen, cache._dim = n, d
        return cache
