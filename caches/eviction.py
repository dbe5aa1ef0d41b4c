"""Eviction caches: keep a bounded subset of the tokens (exactly, at ``dtype``), drop the rest.

Every policy here stores whole (key, value) rows and differs only in which rows survive:

* :class:`WindowCache`: the last ``window`` tokens (sliding-window attention, e.g. Longformer,
  Beltagy et al. 2020; Mistral's rolling cache).
* :class:`SinkWindowCache`: the first ``sinks`` tokens plus the last ``window`` (StreamingLLM,
  Xiao et al. 2024, "Efficient Streaming Language Models with Attention Sinks", ICLR 2024).
* :class:`HeavyHitterCache`: the ``recent`` last tokens plus the ``heavy`` tokens with the largest
  accumulated attention (H2O, Zhang et al. 2023, "H2O: Heavy-Hitter Oracle for Efficient
  Generative Inference of Large Language Models", NeurIPS 2023).
* :class:`KNormCache`: the ``budget`` tokens of smallest key norm (the kvpress ``KnormPress`` rule,
  Devoto et al. 2024, "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression").
* :class:`RandomEvictionCache`: a uniform reservoir (Vitter 1985, Algorithm R).

``budget_bits(n, d)`` declares the largest message each can produce after ``n`` tokens of
dimension ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.attention import softmax
from caches.base import KeyValueCache
from caches.codec import FLOAT_DTYPES, Reader, Writer
from caches.params import check_choice, check_int
from caches.rows import RowBuffer, StoredRowsCache, rows_budget_bits


@dataclass
class WindowCache(StoredRowsCache):
    """Keeps the last ``window`` tokens (the common sliding-window practice); older ones are gone."""

    window: int = 128
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.window = check_int("window", self.window, 1)
        self._init_rows()

    def _capacity(self) -> int:
        return self.window

    def _admit(self, K, V) -> None:
        self._keys.append(K[-self.window :])
        self._values.append(V[-self.window :])
        self._keys.keep_last(self.window)
        self._values.keep_last(self.window)
        self._seen += K.shape[0]


@dataclass
class SinkWindowCache(StoredRowsCache):
    """The first ``sinks`` tokens (attention sinks) and the last ``window`` tokens.

    StreamingLLM (Xiao et al. 2024) keeps a few initial tokens because trained models park
    attention mass on them. The message is the sink rows, then the window rows, oldest first.
    """

    sinks: int = 4
    window: int = 124
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.sinks = check_int("sinks", self.sinks, 0)
        self.window = check_int("window", self.window, 1)
        self._init_rows()
        self._sink_keys = RowBuffer(self.dtype)
        self._sink_values = RowBuffer(self.dtype)

    def _capacity(self) -> int:
        return self.sinks + self.window

    def _admit(self, K, V) -> None:
        into_sinks = max(0, min(self.sinks - self._seen, K.shape[0]))
        if into_sinks:
            self._sink_keys.append(K[:into_sinks])
            self._sink_values.append(V[:into_sinks])
        self._keys.append(K[into_sinks:][-self.window :])
        self._values.append(V[into_sinks:][-self.window :])
        self._keys.keep_last(self.window)
        self._values.keep_last(self.window)
        self._seen += K.shape[0]

    def _stored(self):
        keys = np.concatenate([self._sink_keys.rows, self._keys.rows]) if self._seen else np.empty((0, 0))
        values = np.concatenate([self._sink_values.rows, self._values.rows]) if self._seen else np.empty((0, 0))
        return keys.astype(np.float64), values.astype(np.float64), None

    def to_bytes(self) -> bytes:
        keys, values, _ = self._stored()
        dim = keys.shape[1] if keys.size else 0
        return Writer(self._seen, dim).array(keys, self.dtype).array(values, self.dtype).finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "SinkWindowCache":
        cache = cls(**params)
        reader = Reader(data)
        sinks = min(reader.tokens, cache.sinks)
        kept = sinks + min(reader.tokens - sinks, cache.window)
        keys = reader.array(cache.dtype, (kept, reader.dim))
        values = reader.array(cache.dtype, (kept, reader.dim))
        reader.done()
        if sinks:
            cache._sink_keys.append(keys[:sinks])
            cache._sink_values.append(values[:sinks])
        if kept > sinks:
            cache._keys.append(keys[sinks:])
            cache._values.append(values[sinks:])
        cache._seen = reader.tokens
        return cache


@dataclass
class HeavyHitterCache(KeyValueCache):
    """H2O: the last ``recent`` tokens plus the ``heavy`` tokens with the most accumulated attention.

    At every step the query's softmax weights over the kept tokens and its own token are added
    to each token's running score (float32, part of the message: 32 bits per kept row). When more
    than ``heavy + recent`` tokens are kept, the one with the smallest score outside the recent
    window is evicted (ties: the oldest). The policy is sequential by definition: each step's
    attention depends on the previous evictions, so ``extend`` loops over tokens (the work inside
    a step is vectorized).
    """

    heavy: int = 64
    recent: int = 64
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.heavy = check_int("heavy", self.heavy, 0)
        self.recent = check_int("recent", self.recent, 1)
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._seen = 0
        capacity = self.heavy + self.recent
        self._k = np.empty((capacity + 1, 0), dtype=self.dtype)
        self._v = np.empty((capacity + 1, 0), dtype=self.dtype)
        self._k64, self._v64 = np.empty((capacity + 1, 0)), np.empty((capacity + 1, 0))
        self._score = np.zeros(capacity + 1, dtype=np.float32)
        self._position = np.zeros(capacity + 1, dtype=np.int64)
        self._count = 0

    def _capacity(self) -> int:
        return self.heavy + self.recent

    def budget_bits(self, n: int, d: int) -> int:
        return rows_budget_bits(min(n, self._capacity()), d, self.dtype, extra_bits_per_row=32)

    def _ensure_dim(self, d: int) -> None:
        if self._k.shape[1] != d:
            self._k = np.zeros((self._capacity() + 1, d), dtype=self.dtype)
            self._v = np.zeros((self._capacity() + 1, d), dtype=self.dtype)
            # The kept rows at the cache's precision, widened once to float64 (working copies, not
            # part of the message): a step reads them without converting every kept row again.
            self._k64 = np.zeros((self._capacity() + 1, d))
            self._v64 = np.zeros((self._capacity() + 1, d))

    def _order(self) -> np.ndarray:
        return np.argsort(self._position[: self._count], kind="stable")

    def _stored(self):
        order = self._order()
        return self._k[order].astype(np.float64), self._v[order].astype(np.float64), None

    def step(self, q, k, v) -> np.ndarray:
        return self._advance(q, k, v, output=True)

    def _advance(self, q, k, v, output: bool):
        q, k, v = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (q, k, v))
        self._ensure_dim(k.size)
        count = self._count
        self._k[count], self._v[count] = k, v  # the own token, at the cache's precision
        self._k64[count], self._v64[count] = self._k[count], self._v[count]
        self._position[count] = self._seen
        self._score[count] = 0.0
        saved_k, saved_v = self._k64[count].copy(), self._v64[count].copy()
        self._k64[count], self._v64[count] = k, v  # the current token itself is in hand at full precision
        if q.any():
            weights = softmax(self._k64[: count + 1] @ q)
        else:  # every score is 0: softmax is uniform (the same floats, without the product)
            weights = np.full(count + 1, 1.0 / (count + 1))
        result = weights @ self._v64[: count + 1] if output else None
        self._k64[count], self._v64[count] = saved_k, saved_v
        self._score[: count + 1] += weights.astype(np.float32)
        self._count += 1
        self._seen += 1
        if self._count > self._capacity():
            self._evict()
        return result

    def _evict(self) -> None:
        count = self._count
        candidates = np.flatnonzero(self._position[:count] < self._seen - self.recent)
        scores = self._score[candidates]
        lowest = candidates[scores == scores.min()]
        victim, last = lowest[np.argmin(self._position[lowest])], count - 1  # smallest score, then oldest
        for array in (self._k, self._v, self._k64, self._v64, self._score, self._position):
            array[victim] = array[last]
        self._count -= 1

    def extend(self, Q, K, V) -> None:
        for q, k, v in zip(np.asarray(Q), np.asarray(K), np.asarray(V)):
            self._advance(q, k, v, output=False)

    def _admit(self, K, V) -> None:  # never used: step and extend are overridden
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        order = self._order()
        dim = self._k.shape[1] if self._count else 0
        return (
            Writer(self._seen, dim)
            .array(self._k[order], self.dtype)
            .array(self._v[order], self.dtype)
            .array(self._score[order], "float32")
            .finish()
        )

    @classmethod
    def from_bytes(cls, data, **params) -> "HeavyHitterCache":
        cache = cls(**params)
        reader = Reader(data)
        kept = min(reader.tokens, cache._capacity())
        keys = reader.array(cache.dtype, (kept, reader.dim))
        values = reader.array(cache.dtype, (kept, reader.dim))
        scores = reader.array("float32", (kept,))
        reader.done()
        if kept:
            cache._ensure_dim(reader.dim)
            cache._k[:kept], cache._v[:kept], cache._score[:kept] = keys, values, scores
            cache._k64[:kept], cache._v64[:kept] = cache._k[:kept], cache._v[:kept]
            # Only the order of positions matters (recency and ties), so consecutive ones suffice.
            cache._position[:kept] = reader.tokens - kept + np.arange(kept)
        cache._count, cache._seen = kept, reader.tokens
        return cache


@dataclass
class KNormCache(StoredRowsCache):
    """Keeps the ``budget`` tokens whose keys have the smallest L2 norm (kvpress ``KnormPress``).

    Devoto et al. (2024) observe that low key norm predicts high attention. Norms are taken of the
    keys as stored (at ``dtype``); ties keep the older token. Kept rows stay in arrival order.
    """

    budget: int = 128
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.budget = check_int("budget", self.budget, 1)
        self._init_rows()

    def _capacity(self) -> int:
        return self.budget

    def _admit(self, K, V) -> None:
        self._seen += K.shape[0]
        if self._keys.count + K.shape[0] <= self.budget:
            self._keys.append(K)
            self._values.append(V)
            return
        keys = np.concatenate([self._keys.rows, K.astype(self.dtype)]) if self._keys.count else K.astype(self.dtype)
        values = np.concatenate([self._values.rows, V.astype(self.dtype)]) if self._values.count else V.astype(self.dtype)
        if keys.shape[0] > self.budget:
            norms = np.linalg.norm(keys.astype(np.float64), axis=1)
            keep = np.sort(np.argsort(norms, kind="stable")[: self.budget])
            keys, values = keys[keep], values[keep]
        self._keys, self._values = RowBuffer(self.dtype), RowBuffer(self.dtype)
        self._keys.append(keys)
        self._values.append(values)


#: Tokens per block of pre-drawn uniforms of :class:`RandomEvictionCache` (a step draws one block).
DRAW_BLOCK = 256


def position_uniforms(seed: int, positions: np.ndarray) -> np.ndarray:
    """One uniform per 1-based token position, a function of ``(seed, position)`` only."""
    index = np.asarray(positions, dtype=np.int64) - 1
    blocks = index // DRAW_BLOCK
    draws = np.empty(index.size)
    for block in np.unique(blocks):
        chosen = blocks == block
        draws[chosen] = np.random.default_rng([seed, int(block)]).random(DRAW_BLOCK)[index[chosen] % DRAW_BLOCK]
    return draws


@dataclass
class RandomEvictionCache(StoredRowsCache):
    """A uniform reservoir of ``budget`` tokens (Vitter's Algorithm R).

    Token ``t`` (1-based) enters with probability ``budget / t`` and replaces a uniform slot, so
    at every time the kept set is a uniform sample of the tokens seen. Token ``t``'s uniform draw
    depends on ``t`` alone: it is entry ``(t-1) % DRAW_BLOCK`` of
    ``numpy.random.default_rng([seed, (t-1) // DRAW_BLOCK]).random(DRAW_BLOCK)``. The state needs
    no generator, a rebuilt cache continues with the same draws, and stepping, one ``extend`` or
    any chunking of the stream give the same bytes.
    """

    budget: int = 128
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.budget = check_int("budget", self.budget, 1)
        self.seed = check_int("seed", self.seed, 0)
        self._init_rows()

    def _capacity(self) -> int:
        return self.budget

    def _admit(self, K, V) -> None:
        free = max(0, min(self.budget - self._seen, K.shape[0]))
        self._keys.append(K[:free])
        self._values.append(V[:free])
        positions = self._seen + 1 + np.arange(free, K.shape[0])  # 1-based token index
        self._seen += K.shape[0]
        if positions.size == 0:
            return
        slots = np.floor(position_uniforms(self.seed, positions) * positions).astype(np.int64)
        accepted = np.flatnonzero(slots < self.budget)
        # When several tokens of one batch land in the same slot, the last one wins.
        latest_first = accepted[::-1]
        target, first = np.unique(slots[latest_first], return_index=True)
        source = free + latest_first[first]
        self._keys.rows[target] = K[source]
        self._values.rows[target] = V[source]
