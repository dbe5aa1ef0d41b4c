"""The strongest compressor this suite has for the INDEX game: short key hashes, one-bit values.

Where do the bits of HO Theorem 6's instance go? Bob's query is ``C k_i``, so a cache must tell
key ``i`` from the other ``n - 1`` (at least ``log2 n`` bits per token), and must return row ``i``
of the values (``d`` bits of entropy per token). :class:`HashedBitsCache` spends little more:

* **keys**: an ``m``-bit SimHash ``sign(S k)`` (Charikar, "Similarity Estimation Techniques from
  Rounding Algorithms", STOC 2002; the random-hyperplane rounding of Goemans and Williamson 1995)
  with ``m = hash_bits``, plus the norm on a ``norm_bits`` log scale (``0``: not stored, taken as 1).
  The score is the angle estimate ``<q, k> ~ ||q|| ||k|| cos(pi h / m)``, ``h`` the Hamming distance
  between the hashes of ``q`` and ``k``. A positive multiple of ``k_i`` has exactly ``k_i``'s hash, so
  Bob's key scores ``C ||k_i||`` and a key at distance ``h`` loses ``C (1 - cos(pi h / m))``.
* **values**: one bit per entry, the two levels shared by a group of ``group_size`` tokens (the
  group's minimum and maximum, float16), like the 1-bit case of KIVI with coarser scales; tokens of
  an unfinished group wait at float16. Optionally the bits are further quantized, 32 at a time,
  by a covering code with ``parity`` parity bits (:mod:`caches.bitcode`): rate ``1 - parity/32``
  for a small Hamming distortion, approaching the Fano frontier below one bit per entry.

All of it works for any stream (it is an attention approximation, exact in no case), but its
choices are tuned for the game: two-valued values and nearly orthogonal keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from caches.attention import CHUNK_ROWS
from caches.base import KeyValueCache
from caches.bitcode import BLOCK, blocks_of, covering_code, rows_of
from caches.codec import HEADER_BYTES, Reader, Writer, packed_size
from caches.params import check_int
from caches.qjl import jl_projection, sign_sketch

LEVEL_DTYPE = "float16"
#: Norms are quantized on a log2 scale over [2**-LOG2_RANGE, 2**LOG2_RANGE].
LOG2_RANGE = 12.0


def quantize_norms(norms: np.ndarray, bits: int) -> np.ndarray:
    """Codes of ``norms`` on a uniform log2 grid of ``2**bits`` points over ``[2^-12, 2^12]``."""
    step = 2 * LOG2_RANGE / (2**bits - 1)
    logs = np.log2(np.maximum(np.asarray(norms, dtype=np.float64), 2.0**-LOG2_RANGE))
    return np.clip(np.rint((logs + LOG2_RANGE) / step), 0, 2**bits - 1).astype(np.uint8)


def dequantize_norms(codes: np.ndarray, bits: int) -> np.ndarray:
    """Inverse of :func:`quantize_norms`: relative error at most ``2**(step/2) - 1``."""
    step = 2 * LOG2_RANGE / (2**bits - 1)
    return 2.0 ** (codes.astype(np.float64) * step - LOG2_RANGE)


def binarize(block: np.ndarray) -> tuple[np.ndarray, float, float]:
    """One bit per entry of ``block``: ``x > (low + high)/2``, with ``low``/``high`` its float16 extremes."""
    low = float(np.float16(block.min()))
    high = float(np.float16(block.max()))
    return (block > 0.5 * (low + high)).astype(np.uint8), low, high


def hashed_attention(Q, K_own, V_own, hashes, norms, values, projection, outside_count: int = 0,
                     outside_sum=None) -> np.ndarray:
    """Row ``r``: softmax attention of ``Q[r]`` with SimHash angle scores, plus its own token exactly.

    ``outside_count > 0`` adds HO eq. 20's out-of-window tokens: each scores 0 (weight ``e^0``), and
    together they add ``outside_sum`` to the numerator (:class:`caches.window_designed.WindowHashedBitsCache`).
    """
    Q = np.asarray(Q, dtype=np.float64)
    own_scores = np.einsum("rd,rd->r", Q, np.asarray(K_own, dtype=np.float64))
    out = np.empty((Q.shape[0], np.shape(V_own)[1]), dtype=np.float64)
    if outside_count:
        d = np.shape(V_own)[1]
        hashes = np.vstack([hashes.reshape(-1, projection.shape[0]), np.zeros((1, projection.shape[0]), np.uint8)])
        norms = np.concatenate([norms, [0.0]])  # a norm-0 pseudo-token scores exactly 0 ...
        values = np.vstack([values.reshape(-1, d), np.asarray(outside_sum, dtype=np.float64)[None, :] / outside_count])
        multiplicity = np.concatenate([np.ones(norms.size - 1), [float(outside_count)]])  # ... with count copies
    elif hashes.shape[0] == 0:
        out[:] = V_own
        return out
    else:
        multiplicity = None
    m = projection.shape[0]
    signs = 2.0 * hashes.astype(np.float64) - 1.0
    for start in range(0, Q.shape[0], CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        query_signs = 2.0 * sign_sketch(Q[rows], projection) - 1.0
        distance = 0.5 * (m - query_signs @ signs.T)
        scores = np.cos(np.pi * distance / m) * norms[None, :] * np.linalg.norm(Q[rows], axis=1)[:, None]
        top = np.maximum(scores.max(axis=1), own_scores[rows])
        np.exp(scores - top[:, None], out=scores)
        if multiplicity is not None:
            scores *= multiplicity[None, :]
        own = np.exp(own_scores[rows] - top)
        out[rows] = (scores @ values + own[:, None] * V_own[rows]) / (scores.sum(axis=1) + own)[:, None]
    return out


@dataclass
class HashedBitsCache(KeyValueCache):
    """``hash_bits``-bit SimHash keys (+ ``norm_bits`` log-norms), 1-bit values (+ covering code)."""

    hash_bits: int = 20
    norm_bits: int = 0
    parity: int = 0
    group_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        self.hash_bits = check_int("hash_bits", self.hash_bits, 1, 1 << 12)
        self.norm_bits = check_int("norm_bits", self.norm_bits, 0, 8)
        self.parity = check_int("parity", self.parity, 0, 12)
        self.group_size = check_int("group_size", self.group_size, 1)
        self.seed = check_int("seed", self.seed, 0)
        self._hashes = np.empty((0, self.hash_bits), dtype=np.uint8)
        self._norm_codes = np.empty(0, dtype=np.uint8)
        self._value_info: list[np.ndarray] = []  # per finished group: coded bits, (group_size, bits per token)
        self._levels: list[tuple[float, float]] = []
        self._residual = np.empty((0, 0), dtype=LEVEL_DTYPE)
        self._seen = self._dim = 0
        self._decoded: np.ndarray | None = None

    # --- sizes -----------------------------------------------------------------------------------

    def _bits_per_token(self, d: int) -> int:
        """Stored value bits per token of a finished group."""
        return d if self.parity == 0 else -(-d // BLOCK) * covering_code(self.parity).info

    def budget_bits(self, n: int, d: int) -> int:
        groups, residual = divmod(n, self.group_size)
        level_bytes = 2 * np.dtype(LEVEL_DTYPE).itemsize
        return 8 * (
            HEADER_BYTES + packed_size(1, n * self.hash_bits) + packed_size(self.norm_bits, n)
            + packed_size(1, groups * self.group_size * self._bits_per_token(d)) + groups * level_bytes
            + residual * d * np.dtype(LEVEL_DTYPE).itemsize
        )

    # --- streaming -------------------------------------------------------------------------------

    def _projection(self) -> np.ndarray:
        return jl_projection(self.seed, self.hash_bits, self._dim)

    def _admit(self, K, V) -> None:
        self._dim = K.shape[1]
        self._hashes = np.concatenate([self._hashes, sign_sketch(K, self._projection())])
        if self.norm_bits:
            self._norm_codes = np.concatenate([self._norm_codes, quantize_norms(np.linalg.norm(K, axis=1), self.norm_bits)])
        pending = np.concatenate([self._residual.reshape(-1, self._dim), V.astype(LEVEL_DTYPE)]).astype(np.float64)
        groups = pending.shape[0] // self.group_size
        for g in range(groups):  # one iteration per finished group (group_size tokens), vectorized inside
            self._finish_group(pending[g * self.group_size : (g + 1) * self.group_size])
        self._residual = pending[groups * self.group_size :].astype(LEVEL_DTYPE)
        self._seen += K.shape[0]
        self._decoded = None

    def _finish_group(self, block: np.ndarray) -> None:
        bits, low, high = binarize(block)
        if self.parity:
            bits = covering_code(self.parity).encode(blocks_of(bits)).reshape(block.shape[0], -1)
        self._value_info.append(bits)
        self._levels.append((low, high))

    def _values(self) -> np.ndarray:
        if self._decoded is None:
            parts = []
            for info, (low, high) in zip(self._value_info, self._levels):
                bits = info
                if self.parity:
                    code = covering_code(self.parity)
                    bits = rows_of(code.decode(info.reshape(-1, code.info)), info.shape[0], self._dim)
                parts.append(low + (high - low) * bits.astype(np.float64))
            parts.append(self._residual.reshape(-1, self._dim).astype(np.float64))
            self._decoded = np.concatenate(parts)
        return self._decoded

    def _norms(self) -> np.ndarray:
        if self.norm_bits == 0:
            return np.ones(self._hashes.shape[0])
        return dequantize_norms(self._norm_codes, self.norm_bits)

    def _stored(self):  # not used by probe; keys are not reconstructable from hashes
        raise NotImplementedError("HashedBitsCache scores from hashes; use probe")

    def probe(self, Q, K, V) -> np.ndarray:
        if self._seen == 0:
            return np.asarray(V, dtype=np.float64).copy()
        return hashed_attention(Q, K, V, self._hashes, self._norms(), self._values(), self._projection())

    # --- message ---------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        per_token = self._bits_per_token(self._dim)
        info = np.concatenate(self._value_info) if self._value_info else np.empty((0, per_token), np.uint8)
        levels = np.asarray(self._levels, dtype=LEVEL_DTYPE).reshape(-1, 2)
        writer = Writer(self._seen, self._dim).codes(self._hashes, 1)
        if self.norm_bits:
            writer.codes(self._norm_codes, self.norm_bits)
        return (
            writer.codes(info, 1).array(levels, LEVEL_DTYPE)
            .array(self._residual.reshape(-1, self._dim), LEVEL_DTYPE).finish()
        )

    @classmethod
    def from_bytes(cls, data, **params) -> "HashedBitsCache":
        cache = cls(**params)
        reader = Reader(data)
        n, d = reader.tokens, reader.dim
        groups, residual = divmod(n, cache.group_size)
        per_token = cache._bits_per_token(d)
        cache._hashes = reader.codes(1, n * cache.hash_bits).reshape(n, cache.hash_bits)
        if cache.norm_bits:
            cache._norm_codes = reader.codes(cache.norm_bits, n)
        info = reader.codes(1, groups * cache.group_size * per_token).reshape(groups, cache.group_size, per_token)
        levels = reader.array(LEVEL_DTYPE, (groups, 2)).astype(np.float64)
        cache._residual = reader.array(LEVEL_DTYPE, (residual, d))
        reader.done()
        cache._value_info = list(info)
        cache._levels = [(float(low), float(high)) for low, high in levels]
        cache._seen, cache._dim = n, d
        return cache


def hash_bits_for(n: int) -> int:
    """A SimHash width that makes a wrong exact match rare: ``ceil(log2 n) + 6`` bits (P ~ 1/64 per query)."""
    return math.ceil(math.log2(max(n, 2))) + 6
