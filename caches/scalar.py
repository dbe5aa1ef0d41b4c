"""HO Appendix E: attention in ``O(sqrt(n))`` memory when keys and values are scalars (d = 1).

With ``d = 1`` a query is a scalar, so the largest scores ``q·k_l`` belong to the largest keys when
``q > 0`` and to the smallest when ``q < 0``. Lazy Gumbel sampling (HO Algorithm 2,
:mod:`caches.lazy_gumbel`) samples exactly from ``softmax(q K)`` given the top-``k`` scores and a
uniform handful of the others. So the algorithm keeps

* the ``ceil(a sqrt(t))`` largest and the ``ceil(a sqrt(t))`` smallest keys seen (with values), and
* ``groups`` independent uniform reservoirs of about ``c sqrt(t)`` tokens each,

and answers a query by drawing ``samples`` exact softmax samples per reservoir (each reservoir
supplies the tail draws of its own group), averaging each group's values and taking the median
over groups (median of means, the boosting of HO Theorem 25). Each sample is exact unless the
Binomial tail count of Algorithm 2 exceeds the reservoir's part of the tail (an *overflow*; it
then uses the whole reservoir, a small bias). Memory is ``O(sqrt(n))``, consistent with HO
Theorem 1 because at ``d = 1`` its lower bound ``Ω(d·min{n, e^d})`` is a constant.

The buffers grow with ``t``. A key enters the top buffer only if it exceeds every key the buffer
ever dropped, so the buffer is always an exact top set: every other key is at most its minimum,
which is what Algorithm 2 needs. The reservoirs are Bernoulli samples with rate
``p_t = min(1, c/sqrt(t))``: members are thinned as ``t`` grows, so no dropped token is ever
needed again, and a reservoir's part of the tail is a uniform subset of the tail.

Randomness: admission of a batch starting after token ``t0`` draws from
``default_rng([seed, 0, t0, group])``; the query at position ``t`` from
``default_rng([seed, 1, t, crc32(q, k, v)])``, so ``probe`` row ``r`` equals ``step`` on that row.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from caches.base import StreamingAttention
from caches.codec import Reader, Writer
from caches.lazy_gumbel import lazy_gumbel
from caches.params import ParameterError, check_choice, check_int, check_real

_DTYPES = ("float64", "float32")


def top_capacity(t: int, factor: float) -> int:
    """Buffer size at time ``t``: ``ceil(factor * sqrt(t))`` (at least 1)."""
    return max(1, math.ceil(factor * math.sqrt(max(t, 1))))


def reservoir_rate(t: int, factor: float) -> float:
    """Inclusion probability of the Bernoulli reservoirs at time ``t``: ``min(1, factor/sqrt(t))``."""
    return min(1.0, factor / math.sqrt(max(t, 1)))


def median_of_means(values: np.ndarray) -> np.ndarray:
    """``values`` has shape ``(groups, samples, ...)``: the median over groups of each group's mean."""
    return np.median(np.mean(values, axis=1), axis=0)


class _Tokens:
    """Parallel arrays of kept tokens: key, value, 1-based position."""

    def __init__(self, keys=None, values=None, positions=None) -> None:
        self.keys = np.zeros(0) if keys is None else np.asarray(keys, dtype=np.float64)
        self.values = np.zeros(0) if values is None else np.asarray(values, dtype=np.float64)
        self.positions = np.zeros(0, np.int64) if positions is None else np.asarray(positions, dtype=np.int64)

    def __len__(self) -> int:
        return self.keys.size

    def take(self, mask_or_index) -> "_Tokens":
        return _Tokens(self.keys[mask_or_index], self.values[mask_or_index], self.positions[mask_or_index])

    def plus(self, other: "_Tokens") -> "_Tokens":
        return _Tokens(np.r_[self.keys, other.keys], np.r_[self.values, other.values],
                       np.r_[self.positions, other.positions])


@dataclass
class ScalarGumbelCache(StreamingAttention):
    """HO Appendix E: top/bottom ``sqrt(t)`` keys plus reservoirs, lazy Gumbel samples, median of means.

    ``samples`` exact softmax samples per group, ``groups`` groups (each with its own reservoir),
    buffers of ``ceil(top_factor sqrt(t))`` keys on each side, reservoirs of rate
    ``reservoir_factor / sqrt(t)``; keys and values stored at ``dtype``. Only ``d = 1``.
    """

    samples: int = 16
    groups: int = 5
    top_factor: float = 2.0
    reservoir_factor: float = 3.0
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        self.samples = check_int("samples", self.samples, 1)
        self.groups = check_int("groups", self.groups, 1, 255)
        self.top_factor = check_real("top_factor", self.top_factor, 0.0, low_open=True)
        self.reservoir_factor = check_real("reservoir_factor", self.reservoir_factor, 0.0, low_open=True)
        self.seed = check_int("seed", self.seed, 0)
        check_choice("dtype", self.dtype, _DTYPES)
        self._seen = 0
        self._top = _Tokens()
        self._bottom = _Tokens()
        self._top_dropped = -math.inf  # largest key the top buffer ever dropped
        self._bottom_dropped = math.inf  # smallest key the bottom buffer ever dropped
        self._reservoirs = [_Tokens() for _ in range(self.groups)]
        #: Instrumentation (not state): draws made, overflowed draws, distinct score reads.
        self.stats = {"draws": 0, "overflow": 0, "reads": 0}

    # --- streaming ------------------------------------------------------------------------

    @staticmethod
    def _scalars(name: str, a) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 2 and a.shape[1] != 1 or a.ndim > 2:
            raise ParameterError(
                f"d must be 1 for ScalarGumbelCache (HO Appendix E is the d = 1 algorithm), got {name} of shape {a.shape}")
        return a.reshape(-1)

    def step(self, q, k, v) -> np.ndarray:
        Q, K, V = (self._scalars(name, np.reshape(a, (1, -1))) for name, a in (("q", q), ("k", k), ("v", v)))
        output = self.probe(Q[:, None], K[:, None], V[:, None])[0]
        self._admit(K, V)
        return output

    def extend(self, Q, K, V) -> None:
        self._admit(self._scalars("K", K), self._scalars("V", V))

    def _round(self, a: np.ndarray) -> np.ndarray:
        return a.astype(self.dtype).astype(np.float64)

    def _admit(self, K: np.ndarray, V: np.ndarray) -> None:
        if K.size == 0:
            return
        t0, t1 = self._seen, self._seen + K.size
        batch = _Tokens(self._round(K), self._round(V), np.arange(t0 + 1, t1 + 1))
        capacity = top_capacity(t1, self.top_factor)
        self._top, dropped = self._keep_extreme(self._top.plus(batch.take(batch.keys > self._top_dropped)),
                                                capacity, largest=True)
        if dropped.size:
            self._top_dropped = max(self._top_dropped, float(dropped.max()))
        self._bottom, dropped = self._keep_extreme(
            self._bottom.plus(batch.take(batch.keys < self._bottom_dropped)), capacity, largest=False)
        if dropped.size:
            self._bottom_dropped = min(self._bottom_dropped, float(dropped.min()))
        p_old, p_new = reservoir_rate(t0, self.reservoir_factor), reservoir_rate(t1, self.reservoir_factor)
        for g, reservoir in enumerate(self._reservoirs):
            rng = np.random.default_rng([self.seed, 0, t0, g])
            survive = rng.random(len(reservoir)) < p_new / p_old if t0 else np.ones(0, bool)
            enter = rng.random(K.size) < p_new
            self._reservoirs[g] = reservoir.take(survive).plus(batch.take(enter))
        self._seen = t1

    @staticmethod
    def _keep_extreme(tokens: _Tokens, capacity: int, largest: bool) -> tuple[_Tokens, np.ndarray]:
        if len(tokens) <= capacity:
            return tokens, np.zeros(0)
        signed = -tokens.keys if largest else tokens.keys
        order = np.argsort(signed, kind="stable")
        return tokens.take(np.sort(order[:capacity])), tokens.keys[order[capacity:]]

    # --- queries --------------------------------------------------------------------------

    def probe(self, Q, K, V) -> np.ndarray:
        Q, K, V = self._scalars("Q", Q), self._scalars("K", K), self._scalars("V", V)
        out = np.empty(Q.size)
        if self._seen == 0:
            out[:] = V
            return out[:, None]
        sides = {True: self._side(self._top), False: self._side(self._bottom)}
        for r in range(Q.size):
            out[r] = self._estimate(Q[r], K[r], V[r], sides[bool(Q[r] >= 0)])
        return out[:, None]

    def _side(self, buffer: _Tokens) -> dict:
        """The lazy Gumbel inputs shared by every query of one sign: buffer, per-group tail pools."""
        pools = [res.take(~np.isin(res.positions, buffer.positions)) for res in self._reservoirs]
        sizes = np.array([len(p) for p in pools], dtype=np.int64)
        width = max(1, int(sizes.max()))
        b = len(buffer)
        ids = np.zeros((self.groups, width), dtype=np.int64)
        offset = b
        for g, size in enumerate(sizes):
            ids[g, :size] = offset + np.arange(size)
            offset += size
        keys = np.concatenate([buffer.keys, *(p.keys for p in pools), [0.0]])
        values = np.concatenate([buffer.values, *(p.values for p in pools), [0.0]])
        return {"b": b, "ids": ids, "sizes": sizes, "keys": keys, "values": values,
                "tail_size": self._seen - b}

    def _estimate(self, q: float, k_own: float, v_own: float, side: dict) -> float:
        rng = np.random.default_rng([self.seed, 1, self._seen + 1, _crc(q, k_own, v_own)])
        b, keys = side["b"], side["keys"]
        own = keys.size - 1
        top_index = np.broadcast_to(np.arange(b), (self.groups, b))
        draws = lazy_gumbel(
            top_index, np.broadcast_to(q * keys[:b], (self.groups, b)), side["tail_size"],
            lambda rows, ids: q * keys[ids], rng, samples=self.samples,
            pool=(side["ids"], side["sizes"]),
            extra_index=np.full((self.groups, 1), own), extra_scores=np.full((self.groups, 1), q * k_own),
            rows_per_query=self.groups,
        )
        self.stats["draws"] += draws.index.size
        self.stats["overflow"] += int(draws.overflow.sum())
        self.stats["reads"] += int(draws.distinct_reads.sum())
        values = side["values"].copy()
        values[own] = v_own
        return float(median_of_means(values[draws.index]))

    # --- serialization ---------------------------------------------------------------------

    def _parts(self) -> list[_Tokens]:
        return [self._top, self._bottom, *self._reservoirs]

    def to_bytes(self) -> bytes:
        parts = self._parts()
        writer = Writer(self._seen, 1 if self._seen else 0).uint32(*(len(p) for p in parts))
        writer.array([self._top_dropped, self._bottom_dropped], "float64")
        for part in parts:
            writer.array(part.keys, self.dtype).array(part.values, self.dtype).array(part.positions, "uint32")
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "ScalarGumbelCache":
        cache = cls(**params)
        reader = Reader(data)
        sizes = reader.uint32(2 + cache.groups)
        cache._top_dropped, cache._bottom_dropped = (float(x) for x in reader.array("float64", (2,)))
        parts = []
        for size in sizes:
            keys = reader.array(cache.dtype, (size,)).astype(np.float64)
            values = reader.array(cache.dtype, (size,)).astype(np.float64)
            parts.append(_Tokens(keys, values, reader.array("uint32", (size,)).astype(np.int64)))
        reader.done()
        cache._top, cache._bottom, cache._reservoirs = parts[0], parts[1], parts[2:]
        cache._seen = reader.tokens
        return cache

    # --- introspection for experiments ------------------------------------------------------

    @property
    def kept_tokens(self) -> int:
        """Tokens stored (buffers and reservoirs, with repetitions)."""
        return sum(len(p) for p in self._parts())


def _crc(*numbers: float) -> int:
    return zlib.crc32(np.asarray(numbers, dtype=np.float64).tobytes())
