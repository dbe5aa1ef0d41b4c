"""SubGen (Zandieh et al.; HO Definition 10, Theorem 11, docs/theory.md §9): sublinear memory in low dimension.

SubGen keeps two small summaries of the stream instead of the keys and values:

(a) **Online δ-clustering of the keys** (:class:`OnlineClustering`). A key joins the nearest existing
    centre within distance ``δ``, otherwise it opens a new centre (leader clustering). Each cluster
    keeps its count ``n_c`` and a uniform reservoir of ``t`` of its keys. The softmax denominator
    ``Z(q) = Σ_l exp(<q, k_l>)`` is estimated by ``Ẑ = Σ_c (n_c / t_c) Σ_{samples of c} exp(<q, k>)``
    with ``t_c = min(n_c, t)`` (exact for clusters with at most ``t`` members). Every key of a cluster
    lies within ``δ`` of its centre, so two keys of one cluster differ by at most ``2δ`` and, for
    ``||q|| <= r``, their scores by at most ``2δr``: the terms a reservoir averages are within a
    factor ``e^{2δr}`` of each other, which is where Theorem 11's ``t = O(ε^{-2} e^{2δr} log n)``
    comes from. (In Definition 10's terms the keys are ``(m, 2δ)``-clusterable with ``m`` the number
    of centres opened.)
(b) **Value-norm-weighted samples for the numerator** (:class:`ValueNormSampler`). ``s`` independent
    slots, each holding one pair drawn with probability ``||v_l||² / μ`` (``μ = Σ_l ||v_l||²``); a slot
    takes a new pair with probability ``||v||² / (μ + ||v||²)``. The numerator
    ``Σ_l exp(<q, k_l>) v_l`` is estimated by ``(μ / s) Σ_{slots} exp(<q, k>) v / ||v||²`` (unbiased).

:class:`SubGenCache` outputs numerator / denominator; the current token is in hand and enters both
exactly. Memory is ``O(d (m t + s))`` numbers: flat in ``n`` once the clusters saturate, and
exponential in ``d`` through ``m`` (covering numbers, HO Lemmas 13-14, :mod:`reductions.covering`).

Randomness comes only from seeded numpy Generators keyed by stream position: the draws of the token
at (0-based) position ``p`` are row ``p % 256`` of ``numpy.random.default_rng([seed, stream, p // 256])``
(:func:`position_uniforms`). The state needs no generator, a cache rebuilt from its bytes continues
with the same draws, and feeding a stream in one batch or token by token gives identical states.

Binary formats (all little-endian, sections in this order; see :mod:`caches.codec`):

* :class:`OnlineClustering` section: ``uint32 m``; ``m`` counts (uint32); ``m x dim`` centres at
  ``dtype``; then, cluster by cluster, the ``min(n_c, t)`` reservoir keys in slot order at ``dtype``
  (and as many payload rows of ``payload_dim`` numbers, if any). Sizes follow from the counts.
* :class:`ValueNormSampler` section: ``float64 μ``; ``uint32`` filled slots (0 or ``s``); the filled
  slots' keys then values (``filled x dim`` each) at ``dtype``.
* :class:`SubGenCache` message: the 9-byte header (tokens seen, d), the clustering section, the
  sampler section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from caches.attention import CHUNK_ROWS
from caches.base import ProbeThenExtend
from caches.codec import FLOAT_DTYPES, HEADER_BYTES, Reader, Writer
from caches.params import ParameterError, check_choice, check_int, check_real

__all__ = [
    "position_uniforms",
    "OnlineClustering",
    "ValueNormSampler",
    "SubGenCache",
    "subgen_parameters",
    "subgen_members",
    "ZOO_FAMILIES",
]

#: Keys assigned per block of the clustering, at most; fewer when there are many centres, so that the
#: ``block x m`` distance matrix stays below ``ASSIGN_ELEMENTS`` entries (32 MB).
ASSIGN_ROWS = 2048
ASSIGN_ELEMENTS = 1 << 22
#: Tokens the value sampler decides at once (bounds the ``block x s`` matrix of draws).
SAMPLER_ROWS = 4096
#: Tokens per block of position-keyed random draws (:func:`position_uniforms`).
DRAW_BLOCK = 256


def position_uniforms(seed: int, stream: int, start: int, count: int, width: int) -> np.ndarray:
    """Uniforms ``U[p, :width]`` for positions ``p = start .. start + count - 1`` (a ``count x width`` array).

    Row ``p`` is row ``p % DRAW_BLOCK`` of ``default_rng([seed, stream, p // DRAW_BLOCK]).random((DRAW_BLOCK,
    width))``: a function of the position alone, so any split of a stream into batches sees the same
    draws, and no generator has to be kept in the state.
    """
    out = np.empty((count, width))
    first, last = start // DRAW_BLOCK, (start + count - 1) // DRAW_BLOCK if count else start // DRAW_BLOCK - 1
    for block in range(first, last + 1):
        rows = np.random.default_rng([seed, stream, block]).random((DRAW_BLOCK, width))
        lo, hi = max(start, block * DRAW_BLOCK), min(start + count, (block + 1) * DRAW_BLOCK)
        out[lo - start : hi - start] = rows[lo - block * DRAW_BLOCK : hi - block * DRAW_BLOCK]
    return out


def _rounded(array, dtype: str, dim: int, name: str) -> np.ndarray:
    """``array`` as a float64 ``(rows, dim)`` matrix whose entries are exactly representable at ``dtype``."""
    out = np.asarray(array, dtype=np.float64)
    if out.ndim == 1:
        out = out.reshape(1, -1)
    if out.ndim != 2 or out.shape[1] != dim:
        raise ParameterError(f"{name} must have shape (rows, {dim}), got {np.shape(array)}")
    if not np.all(np.isfinite(out)):
        raise ParameterError(f"{name} must be finite")
    return out.astype(dtype).astype(np.float64)


class _Rows:
    """A growable float64 matrix with amortized O(dim) append."""

    def __init__(self, dim: int) -> None:
        self.data = np.empty((0, dim), dtype=np.float64)
        self.count = 0

    @property
    def rows(self) -> np.ndarray:
        return self.data[: self.count]

    def append(self, rows: np.ndarray) -> np.ndarray:
        """Append ``rows``; return their indices."""
        needed = self.count + rows.shape[0]
        if needed > self.data.shape[0]:
            grown = np.empty((max(needed, 2 * self.data.shape[0], 16), self.data.shape[1]), dtype=np.float64)
            grown[: self.count] = self.rows
            self.data = grown
        self.data[self.count : needed] = rows
        index = np.arange(self.count, needed)
        self.count = needed
        return index


class OnlineClustering:
    """Online δ-clustering of a stream of vectors with per-cluster reservoirs (docs/theory.md §9(a), HO Definition 10).

    A reusable building block (SubGen's denominator, SubGen-style tensor-attention caches, greedy
    δ-nets for HO Lemma 13):

    * ``add(keys, payload=None) -> labels``: keys arrive in order. Key ``k`` joins the nearest centre
      with ``||k - centre|| <= delta`` (ties: the older centre); if there is none, ``k`` becomes the
      centre of a new cluster. Centres never move, so the centres are pairwise more than ``delta``
      apart (a greedy ``delta``-net of the keys seen) and every key is within ``delta`` of its centre.
    * Each cluster ``c`` keeps its count ``n_c`` and a uniform reservoir of ``reservoir`` of its keys
      (Vitter's Algorithm R per cluster): slot ``j`` holds one of the cluster's keys, and at every time
      the kept keys are a uniform sample without replacement of the cluster's members. An optional
      ``payload`` row (``payload_dim`` numbers, e.g. the value) is kept with each sampled key.
    * ``log_partition(Q)``: ``log Ẑ(q)`` with ``Ẑ(q) = Σ_c (n_c / t_c) Σ_{j < t_c} exp(<q, key_{c,j}>)``,
      ``t_c = min(n_c, reservoir)``: an unbiased estimate of ``Σ_l exp(<q, k_l>)``, exact when no
      cluster has more than ``reservoir`` members.
    * ``write(writer)`` / ``OnlineClustering.read(reader, ...)``: the binary section described in
      the module docstring (no pickle). Sizes follow from the counts, so nothing else is stored.

    Keys, centres and payloads are stored rounded to ``dtype`` (the rounding happens on arrival), so
    a clustering rebuilt with :meth:`read` is identical to the one that wrote it and continues the
    same way. The reservoir draw of the key at position ``p`` (keys added before it) is
    :func:`position_uniforms` of ``(seed, stream)``, so batching does not change the state; use
    different ``stream`` numbers for independent clusterings that share a seed.

    Parameters: ``dim >= 1``; ``delta >= 0`` (finite; ``0`` merges only identical keys);
    ``reservoir >= 0`` keys per cluster (``0``: centres and counts only, e.g. a greedy net);
    ``seed, stream >= 0``; ``dtype`` one of ``float64, float32, float16``; ``payload_dim >= 0``.
    """

    def __init__(
        self,
        dim: int,
        delta: float,
        reservoir: int,
        seed: int = 0,
        *,
        stream: int = 0,
        dtype: str = "float64",
        payload_dim: int = 0,
    ) -> None:
        self.dim = check_int("dim", dim, 1)
        self.delta = check_real("delta", delta, 0.0)
        self.reservoir = check_int("reservoir", reservoir, 0)
        self.seed = check_int("seed", seed, 0)
        self.stream = check_int("stream", stream, 0)
        self.dtype = check_choice("dtype", dtype, FLOAT_DTYPES)
        self.payload_dim = check_int("payload_dim", payload_dim, 0)
        self._centres = _Rows(self.dim)
        self._counts = np.zeros(0, dtype=np.int64)
        # (cluster, slot) -> sample row; only as many columns as the fullest reservoir needs
        self._table = np.full((0, 0), -1, dtype=np.int64)
        self._keys = _Rows(self.dim)
        self._payload = _Rows(self.payload_dim)
        self._flat: tuple | None = None  # cached (keys, log_weights, labels, payload) in cluster order

    # --- public state -------------------------------------------------------------------------

    @property
    def clusters(self) -> int:
        """Number of centres opened so far (``m``)."""
        return self._centres.count

    @property
    def tokens(self) -> int:
        """Number of keys added so far (``Σ_c n_c``)."""
        return int(self._counts[: self.clusters].sum())

    @property
    def centres(self) -> np.ndarray:
        """The ``m x dim`` centres in order of creation (a read-only view)."""
        view = self._centres.rows.view()
        view.setflags(write=False)
        return view

    @property
    def counts(self) -> np.ndarray:
        """Members per cluster, ``n_c`` (a copy)."""
        return self._counts[: self.clusters].copy()

    def samples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """The reservoirs, cluster by cluster in slot order: ``(keys, weights, labels, payload)``.

        ``keys`` is ``S x dim``, ``weights[j] = n_c / t_c`` for the cluster ``c = labels[j]`` of sample
        ``j`` (so ``Σ_j weights[j] f(keys[j])`` estimates ``Σ_l f(k_l)`` without bias for any ``f``),
        ``payload`` is ``S x payload_dim`` (``None`` when ``payload_dim == 0``). Read-only arrays.
        """
        keys, log_weights, labels, payload = self._flattened()
        return keys, np.exp(log_weights), labels, payload

    # --- streaming ----------------------------------------------------------------------------

    def assign(self, keys) -> np.ndarray:
        """Nearest centre within ``delta`` of each row of ``keys`` (``-1`` if none); state unchanged."""
        keys = _rounded(keys, self.dtype, self.dim, "keys")
        labels = np.full(keys.shape[0], -1, dtype=np.int64)
        rows = max(64, min(ASSIGN_ROWS, ASSIGN_ELEMENTS // max(1, self.clusters)))
        for start in range(0, keys.shape[0], rows):
            block = keys[start : start + rows]
            best, best_d2 = self._nearest(block)
            labels[start : start + block.shape[0]] = np.where(best_d2 <= self.delta**2, best, -1)
        return labels

    def add(self, keys, payload=None) -> np.ndarray:
        """Add the rows of ``keys`` in order (with their ``payload`` rows); return their cluster labels."""
        keys = _rounded(keys, self.dtype, self.dim, "keys")
        if self.payload_dim:
            if payload is None:
                raise ParameterError(f"payload is required: this clustering keeps {self.payload_dim} numbers per sample")
            payload = _rounded(payload, self.dtype, self.payload_dim, "payload")
            if payload.shape[0] != keys.shape[0]:
                raise ParameterError(f"payload must have {keys.shape[0]} rows, got {payload.shape[0]}")
        elif payload is not None:
            raise ParameterError("payload given but payload_dim is 0")
        if keys.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        position = self.tokens
        labels = np.empty(keys.shape[0], dtype=np.int64)
        start = 0
        while start < keys.shape[0]:
            rows = max(64, min(ASSIGN_ROWS, ASSIGN_ELEMENTS // max(1, self.clusters)))
            labels[start : start + rows] = self._cluster_block(keys[start : start + rows])
            start += rows
        self._count_and_sample(keys, payload, labels, position)
        self._flat = None
        return labels

    def _nearest(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index and squared distance of the nearest centre for each row (``inf`` when there is none)."""
        if self.clusters == 0:
            return np.zeros(block.shape[0], dtype=np.int64), np.full(block.shape[0], np.inf)
        centres = self._centres.rows
        d2 = _squared_distances(block, centres)
        best = np.argmin(d2, axis=1)
        return best, d2[np.arange(block.shape[0]), best]

    def _cluster_block(self, block: np.ndarray) -> np.ndarray:
        """Leader clustering of one block in stream order; opens centres as needed."""
        best, best_d2 = self._nearest(block)
        limit = self.delta**2
        start = 0
        while True:
            pending = np.flatnonzero(best_d2[start:] > limit)
            if pending.size == 0:
                return best
            j = start + int(pending[0])  # the first key with no centre within delta opens one
            label = self.clusters
            self._centres.append(block[j : j + 1])
            self._counts = _grow(self._counts, label + 1, 0)
            self._table = _grow(self._table, label + 1, -1)
            best[j], best_d2[j] = label, 0.0
            rest = slice(j + 1, None)
            d2 = _squared_distances(block[rest], block[j : j + 1])[:, 0]
            closer = d2 < best_d2[rest]  # strictly: ties keep the older centre
            best[rest] = np.where(closer, label, best[rest])
            best_d2[rest] = np.where(closer, d2, best_d2[rest])
            start = j + 1

    def _count_and_sample(self, keys, payload, labels, position: int) -> None:
        order = np.argsort(labels, kind="stable")
        sorted_labels = labels[order]
        first = np.r_[0, np.flatnonzero(np.diff(sorted_labels)) + 1]
        rank = np.empty(labels.size, dtype=np.int64)
        rank[order] = np.arange(labels.size) - np.repeat(first, np.diff(np.r_[first, labels.size]))
        member = self._counts[labels] + rank + 1  # 1-based index of each key within its cluster
        self._counts += np.bincount(labels, minlength=self._counts.size)
        t = self.reservoir
        if t == 0:
            return
        u = position_uniforms(self.seed, self.stream, position, labels.size, 1)[:, 0]
        slot = np.where(member <= t, member - 1, np.floor(u * member).astype(np.int64))
        accepted = np.flatnonzero(slot < t)
        if accepted.size == 0:
            return
        # Several keys of one batch may land in the same (cluster, slot): the last one wins.
        latest_first = accepted[::-1]
        target, first_hit = np.unique(labels[latest_first] * t + slot[latest_first], return_index=True)
        source = latest_first[first_hit]
        cluster, where = np.divmod(target, t)
        width = int(where.max()) + 1
        if width > self._table.shape[1]:
            wider = np.full((self._table.shape[0], min(t, max(width, 2 * self._table.shape[1]))), -1, dtype=np.int64)
            wider[:, : self._table.shape[1]] = self._table
            self._table = wider
        rows = self._table[cluster, where]
        empty = rows < 0
        if empty.any():
            self._table[cluster[empty], where[empty]] = self._keys.append(keys[source[empty]])
            if self.payload_dim:
                self._payload.append(payload[source[empty]])
        full = ~empty
        self._keys.data[rows[full]] = keys[source[full]]
        if self.payload_dim:
            self._payload.data[rows[full]] = payload[source[full]]

    # --- estimates ----------------------------------------------------------------------------

    def _flattened(self):
        if self._flat is None:
            m = self.clusters
            filled = np.minimum(self._counts[:m], self.reservoir)
            mask = np.arange(self._table.shape[1])[None, :] < filled[:, None]
            rows = self._table[:m][mask]  # cluster-major, slot order
            labels = np.repeat(np.arange(m), filled)
            keys = self._keys.data[rows]
            log_weights = np.log(self._counts[labels]) - np.log(filled[labels]) if rows.size else np.zeros(0)
            payload = self._payload.data[rows] if self.payload_dim else None
            for array in (keys, log_weights, labels, payload):
                if array is not None:
                    array.setflags(write=False)
            self._flat = (keys, log_weights, labels, payload)
        return self._flat

    def log_partition(self, Q) -> np.ndarray:
        """``log Ẑ(q)`` for each row ``q`` of ``Q`` (``-inf`` while no key has been added)."""
        Q = np.asarray(Q, dtype=np.float64).reshape(-1, self.dim)
        keys, log_weights, _, _ = self._flattened()
        out = np.full(Q.shape[0], -np.inf)
        if keys.shape[0] == 0:
            if self.tokens and self.reservoir == 0:
                raise ParameterError("log_partition needs reservoir >= 1")
            return out
        for start in range(0, Q.shape[0], CHUNK_ROWS):
            scores = Q[start : start + CHUNK_ROWS] @ keys.T + log_weights
            top = scores.max(axis=1)
            out[start : start + CHUNK_ROWS] = top + np.log(np.exp(scores - top[:, None]).sum(axis=1))
        return out

    def partition(self, Q) -> np.ndarray:
        """``Ẑ(q)`` for each row of ``Q`` (may overflow for large scores; prefer :meth:`log_partition`)."""
        return np.exp(self.log_partition(Q))

    # --- binary format ------------------------------------------------------------------------

    def write(self, writer: Writer) -> Writer:
        """Append this clustering's section to ``writer`` (format in the module docstring)."""
        m = self.clusters
        keys, _, _, payload = self._flattened()
        writer.uint32(m).array(self._counts[:m], "uint32").array(self._centres.rows, self.dtype)
        writer.array(keys, self.dtype)
        if self.payload_dim:
            writer.array(payload, self.dtype)
        return writer

    @classmethod
    def read(
        cls,
        reader: Reader,
        dim: int,
        delta: float,
        reservoir: int,
        seed: int = 0,
        *,
        stream: int = 0,
        dtype: str = "float64",
        payload_dim: int = 0,
    ) -> "OnlineClustering":
        """Rebuild a clustering from its section (the parameters must be the writer's)."""
        out = cls(dim, delta, reservoir, seed, stream=stream, dtype=dtype, payload_dim=payload_dim)
        (m,) = reader.uint32()
        counts = reader.array("uint32", (m,)).astype(np.int64)
        if m and counts.min() < 1:
            raise ParameterError("a cluster in the message has no members")
        centres = reader.array(dtype, (m, out.dim)).astype(np.float64)
        filled = np.minimum(counts, out.reservoir)
        total = int(filled.sum())
        keys = reader.array(dtype, (total, out.dim)).astype(np.float64)
        payload = reader.array(dtype, (total, out.payload_dim)).astype(np.float64) if out.payload_dim else None
        out._centres.append(centres)
        out._counts = counts
        width = int(filled.max()) if m else 0
        out._table = np.full((m, width), -1, dtype=np.int64)
        if total:
            rows = out._keys.append(keys)
            if payload is not None:
                out._payload.append(payload)
            mask = np.arange(width)[None, :] < filled[:, None]
            out._table[mask] = rows
        return out


def _grow(array: np.ndarray, rows: int, fill) -> np.ndarray:
    """``array`` with at least ``rows`` rows (geometric growth; new rows set to ``fill``)."""
    if rows <= array.shape[0]:
        return array
    grown = np.full((max(rows, 2 * array.shape[0], 16), *array.shape[1:]), fill, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``||x_i - y_j||²`` (clipped at 0), by the expansion ``|x|² - 2<x,y> + |y|²``."""
    d2 = np.einsum("ij,ij->i", x, x)[:, None] - 2.0 * (x @ y.T) + np.einsum("ij,ij->i", y, y)[None, :]
    return np.maximum(d2, 0.0)


class ValueNormSampler:
    """``s`` independent value-norm-weighted samples of a stream of (key, value) pairs (docs/theory.md §9(b)).

    Each slot holds pair ``l`` with probability ``||v_l||² / μ``, ``μ = Σ_l ||v_l||²`` (pairs with
    ``v = 0`` are never kept; they contribute nothing to the numerator): slot ``j`` takes the pair
    at position ``p`` iff ``U[p, j] < ||v||² / (μ + ||v||²)``, with ``μ`` the sum before it and
    ``U[p, :]`` the :func:`position_uniforms` of ``(seed, stream)``. A batch applies exactly these
    per-token decisions (the last acceptance wins), so batching does not change the state.

    ``log_numerator_terms(Q)`` gives what the estimate ``(μ / s) Σ_slots exp(<q, k>) v / ||v||²``
    needs: the slot scores ``Q K_s^T`` and the rows ``(μ / s) v / ||v||²``.
    """

    def __init__(self, dim: int, samples: int, seed: int = 0, *, stream: int = 1, dtype: str = "float64") -> None:
        self.dim = check_int("dim", dim, 1)
        self.samples = check_int("samples", samples, 1)
        self.seed = check_int("seed", seed, 0)
        self.stream = check_int("stream", stream, 0)
        self.dtype = check_choice("dtype", dtype, FLOAT_DTYPES)
        self.seen = 0
        self.mu = 0.0
        self.keys = np.zeros((0, self.dim))
        self.values = np.zeros((0, self.dim))

    def add(self, keys, values) -> None:
        """Take the pairs ``(keys[i], values[i])`` in order."""
        keys = _rounded(keys, self.dtype, self.dim, "keys")
        values = _rounded(values, self.dtype, self.dim, "values")
        if keys.shape[0] != values.shape[0]:
            raise ParameterError(f"keys and values must have the same rows, got {keys.shape[0]} and {values.shape[0]}")
        for start in range(0, keys.shape[0], SAMPLER_ROWS):
            self._add_block(keys[start : start + SAMPLER_ROWS], values[start : start + SAMPLER_ROWS])

    def _add_block(self, keys: np.ndarray, values: np.ndarray) -> None:
        position, self.seen = self.seen, self.seen + keys.shape[0]
        weights = np.einsum("ij,ij->i", values, values)
        if not np.any(weights > 0):
            return
        mu_after = np.cumsum(np.r_[self.mu, weights])[1:]  # μ including each pair, summed in stream order
        probability = np.divide(weights, mu_after, out=np.zeros_like(weights), where=mu_after > 0)
        u = position_uniforms(self.seed, self.stream, position, keys.shape[0], self.samples)
        accepted = u < probability[:, None]  # (tokens, slots); the first nonzero value has probability 1
        hit = accepted.any(axis=0)
        last = keys.shape[0] - 1 - np.argmax(accepted[::-1], axis=0)
        if not len(self.keys):
            self.keys, self.values = np.zeros((self.samples, self.dim)), np.zeros((self.samples, self.dim))
        self.keys[hit], self.values[hit] = keys[last[hit]], values[last[hit]]
        self.mu = float(mu_after[-1])

    def numerator_rows(self) -> np.ndarray:
        """``(μ / s) v / ||v||²`` for each filled slot (``0 x dim`` before any nonzero value)."""
        if not len(self.values):
            return np.zeros((0, self.dim))
        norms = np.einsum("ij,ij->i", self.values, self.values)
        return (self.mu / self.samples) * self.values / norms[:, None]

    def write(self, writer: Writer) -> Writer:
        """Append ``μ`` (float64), the filled-slot count and the slots' keys and values."""
        filled = len(self.keys)
        return (writer.array(np.array([self.mu]), "float64").uint32(filled)
                .array(self.keys, self.dtype).array(self.values, self.dtype))

    @classmethod
    def read(cls, reader: Reader, dim: int, samples: int, seed: int = 0, *, seen: int, stream: int = 1,
             dtype: str = "float64") -> "ValueNormSampler":
        """Rebuild from a section; ``seen`` is the number of pairs taken so far (from the header)."""
        out = cls(dim, samples, seed, stream=stream, dtype=dtype)
        out.mu = float(reader.array("float64", (1,))[0])
        (filled,) = reader.uint32()
        if filled not in (0, out.samples):
            raise ParameterError(f"a sampler message must fill 0 or {out.samples} slots, got {filled}")
        out.keys = reader.array(dtype, (filled, out.dim)).astype(np.float64)
        out.values = reader.array(dtype, (filled, out.dim)).astype(np.float64)
        out.seen = check_int("seen", seen, 0)
        return out


@dataclass
class SubGenCache(ProbeThenExtend):
    """SubGen (HO Theorem 11, docs/theory.md §9): δ-clustered reservoirs for the denominator, value-norm samples
    for the numerator.

    ``delta``: join radius of the online clustering (clusters have diameter ``<= 2 delta``);
    ``t``: reservoir keys per cluster (denominator); ``s``: value-norm samples (numerator);
    ``seed``: public randomness; ``dtype``: storage precision. The number of clusters ``m`` is
    observed (:attr:`clusters`), not chosen. :func:`subgen_parameters` turns Theorem 11's
    ``(ε, δ, r, n, d)`` into ``(t, s)``. The current token is always in hand and enters both the
    numerator and the denominator exactly.
    """

    delta: float = 0.5
    t: int = 16
    s: int = 32
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.delta = check_real("delta", self.delta, 0.0)
        self.t = check_int("t", self.t, 1)
        self.s = check_int("s", self.s, 1)
        self.seed = check_int("seed", self.seed, 0)
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._seen = 0
        self._dim = 0
        self._clustering: OnlineClustering | None = None
        self._sampler: ValueNormSampler | None = None

    def _components(self, dim: int) -> None:
        self._dim = dim
        self._clustering = OnlineClustering(dim, self.delta, self.t, self.seed, stream=0, dtype=self.dtype)
        self._sampler = ValueNormSampler(dim, self.s, self.seed, stream=1, dtype=self.dtype)

    @property
    def clusters(self) -> int:
        """``m``: the number of clusters opened so far."""
        return 0 if self._clustering is None else self._clustering.clusters

    @property
    def clustering(self) -> OnlineClustering | None:
        """The key clustering (``None`` before the first token)."""
        return self._clustering

    def extend(self, Q, K, V) -> None:
        K = np.asarray(K, dtype=np.float64)
        V = np.asarray(V, dtype=np.float64)
        if K.ndim != 2 or V.shape != K.shape:
            raise ParameterError(f"keys and values must be n x d matrices of one shape, got {K.shape} and {V.shape}")
        if K.shape[0] == 0:
            return
        if self._clustering is None:
            self._components(K.shape[1])
        elif K.shape[1] != self._dim:
            raise ParameterError(f"keys must have dimension {self._dim}, got {K.shape[1]}")
        self._clustering.add(K)
        self._sampler.add(K, V)
        self._seen += K.shape[0]


    def probe(self, Q, K, V) -> np.ndarray:
        Q, K_own, V_own = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        own = np.einsum("rd,rd->r", Q, K_own)
        out = np.empty_like(V_own)
        if self._clustering is None or self._seen == 0:
            out[:] = V_own
            return out
        keys, log_weights, _, _ = self._clustering._flattened()
        slot_keys, rows = self._sampler.keys, self._sampler.numerator_rows()
        for start in range(0, Q.shape[0], CHUNK_ROWS):
            block = slice(start, start + CHUNK_ROWS)
            den_scores = Q[block] @ keys.T + log_weights
            num_scores = Q[block] @ slot_keys.T
            top = np.maximum.reduce([own[block], den_scores.max(axis=1, initial=-np.inf),
                                     num_scores.max(axis=1, initial=-np.inf)])
            own_w = np.exp(own[block] - top)
            denominator = np.exp(den_scores - top[:, None]).sum(axis=1) + own_w
            numerator = np.exp(num_scores - top[:, None]) @ rows + own_w[:, None] * V_own[block]
            out[block] = numerator / denominator[:, None]
        return out

    def budget_bits(self, n: int, d: int) -> int:
        """The largest message after ``n`` tokens of dimension ``d``: at most ``n`` clusters and ``n`` samples."""
        n, d = check_int("n", n, 0), check_int("d", d, 1)
        if n == 0:
            return 8 * HEADER_BYTES
        width = np.dtype(self.dtype).itemsize
        clustering = 4 + 4 * n + 2 * n * d * width  # m <= n centres, sum_c min(n_c, t) <= n samples
        sampler = 8 + 4 + 2 * self.s * d * width
        return 8 * (HEADER_BYTES + clustering + sampler)

    def to_bytes(self) -> bytes:
        writer = Writer(self._seen, self._dim)
        if self._clustering is not None:
            self._clustering.write(writer)
            self._sampler.write(writer)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "SubGenCache":
        cache = cls(**params)
        reader = Reader(data)
        if reader.tokens:
            if reader.dim < 1:
                raise ParameterError("a SubGen message with tokens must have d >= 1")
            cache._dim = reader.dim
            cache._clustering = OnlineClustering.read(reader, reader.dim, cache.delta, cache.t, cache.seed,
                                                      stream=0, dtype=cache.dtype)
            cache._sampler = ValueNormSampler.read(reader, reader.dim, cache.s, cache.seed, seen=reader.tokens,
                                                   stream=1, dtype=cache.dtype)
            if cache._clustering.tokens != reader.tokens:
                raise ParameterError("the clustering's counts do not add up to the tokens in the header")
        reader.done()
        cache._seen = reader.tokens
        return cache


def subgen_parameters(eps: float, delta: float, r: float, n: int, d: int,
                      c_t: float = 1.0, c_s: float = 1.0) -> tuple[int, int]:
    """Theorem 11's sample sizes: ``t = ceil(c_t ε^{-2} e^{2δr} ln n)``, ``s = ceil(c_s ε^{-2} d)``.

    ``δ`` is the clustering's join radius and ``r`` the query-norm bound; the constants ``c_t, c_s``
    are the ``O(·)``'s, which the paper does not give (1 by default).
    """
    eps = check_real("eps", eps, 0.0, 1.0, low_open=True)
    delta = check_real("delta", delta, 0.0)
    r = check_real("r", r, 0.0)
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    c_t = check_real("c_t", c_t, 0.0, low_open=True)
    c_s = check_real("c_s", c_s, 0.0, low_open=True)
    exponent = 2.0 * delta * r
    if exponent > 60:
        raise ParameterError(f"2·delta·r = {exponent:g} makes t astronomically large; it must be <= 60")
    t = math.ceil(c_t * math.exp(exponent) * math.log(n) / eps**2)
    s = math.ceil(c_s * d / eps**2)
    return t, s


def subgen_members(n: int, d: int) -> list[SubGenCache]:
    """SubGen at several budgets for the ``budget`` game (:mod:`caches.zoo`).

    The game's keys are unit vectors, so join radius 2 makes one cluster and the memory knob is the
    number of samples: ``t = s = n/256, n/64, n/16, n/4`` (float16), about ``16 f`` bits per encoded bit
    at fraction ``f = t/n`` plus the centre.
    """
    members: dict[str, SubGenCache] = {}
    for fraction in (256, 64, 16, 4):
        size = max(1, n // fraction)
        cache = SubGenCache(delta=2.0, t=size, s=size, dtype="float16")
        members.setdefault(repr(cache), cache)
    return list(members.values())


#: ``caches.zoo.Family`` fields for the zoo's one-line registration.
ZOO_FAMILIES = (
    ("SubGenCache", "clustering + sampling", "SubGen, Zandieh et al. 2024 (HO Theorem 11)", subgen_members, "SubGen"),
)
