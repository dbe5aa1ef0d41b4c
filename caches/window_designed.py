"""A designed cache for sliding-window attention (HO eq. 20): the window as key hashes and value bits.

:class:`WindowHashedBitsCache` is :class:`caches.designed.HashedBitsCache`'s encoding restricted to
the window, plus what eq. 20 needs about the tokens that left it (docs/theory.md §5):

* the last ``window - 1`` tokens (at the next step they and the new token fill the attention
  window of ``window`` tokens): each key as an ``hash_bits``-bit SimHash (plus ``norm_bits`` of
  log-norm, 0: norm taken as 1), each value as one bit per entry between that token's own two
  float16 levels (its minimum and maximum, :func:`caches.designed.binarize`);
* every older token weighs exactly ``e^0 = 1`` in eq. 20, so they enter only through their count
  (``tokens - (window - 1)``, from the message header) and the sum of their values. The cache
  accumulates the sum of the *stored* (one-bit) values as they leave the window, in float64, and
  the message carries their mean with ``outside_bits`` per entry: uniform codes between the
  vector's float16 minimum and maximum (exact when all entries are equal, as for zero values).

Memory after ``n >= window`` tokens of dimension ``d``: ``(window-1)(hash_bits + norm_bits + d + 32)``
bits for the window plus ``d·outside_bits + 32`` bits for the outside mean, plus the header: ``O(W·d)`` bits, a
small constant above the ``W·d`` bits of HO Theorem 26's INDEX (the experiment ``window_outside``
measures the constant).

Contract notes: a token's hash and bits do not depend on how tokens are batched, and the outside
sum is accumulated left to right, so ``extend`` equals stepping. The probe reads the outside mean
quantized exactly as the message stores it, so a rebuilt cache gives the same
outputs and the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.base import ProbeThenExtend
from caches.codec import HEADER_BYTES, Reader, Writer, packed_size
from caches.designed import LEVEL_DTYPE, binarize, dequantize_norms, hashed_attention, quantize_norms
from caches.params import check_int
from caches.qjl import jl_projection, sign_sketch

__all__ = ["WindowHashedBitsCache"]


@dataclass
class WindowHashedBitsCache(ProbeThenExtend):
    """Eq. 20 from SimHash keys and 1-bit values of the window, plus the count and mean of what left it.

    ``window`` is the attention window (the query's own token included), as for
    :class:`caches.sliding.RunningSumWindowCache`; the cache stores ``window - 1`` tokens.
    """

    window: int = 128
    hash_bits: int = 20
    norm_bits: int = 0
    outside_bits: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        self.window = check_int("window", self.window, 1)
        self.hash_bits = check_int("hash_bits", self.hash_bits, 1, 1 << 12)
        self.norm_bits = check_int("norm_bits", self.norm_bits, 0, 8)
        self.outside_bits = check_int("outside_bits", self.outside_bits, 1, 16)
        self.seed = check_int("seed", self.seed, 0)
        self._seen = self._dim = 0
        self._hashes = np.empty((0, self.hash_bits), dtype=np.uint8)
        self._norm_codes = np.empty(0, dtype=np.uint8)
        self._bits = np.empty((0, 0), dtype=np.uint8)
        self._levels = np.empty((0, 2), dtype=LEVEL_DTYPE)
        self._sum: np.ndarray | None = None  # float64 sum of the stored values of the tokens that left

    # --- state ------------------------------------------------------------------------------------

    @property
    def kept(self) -> int:
        """Tokens stored: the last ``window - 1``."""
        return self.window - 1

    @property
    def outside_count(self) -> int:
        """Tokens outside the attention window of the next query (each weighs 1 in eq. 20)."""
        return max(0, self._seen - self.kept)

    def _projection(self) -> np.ndarray:
        return jl_projection(self.seed, self.hash_bits, self._dim)

    def _values(self, bits: np.ndarray, levels: np.ndarray) -> np.ndarray:
        levels = levels.astype(np.float64)
        return levels[:, :1] + (levels[:, 1:] - levels[:, :1]) * bits.astype(np.float64)

    def _outside_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """The outside mean as the message stores it: float16 ``[low, high]`` and one code per entry."""
        mean = self._sum / self.outside_count
        levels = np.asarray([mean.min(), mean.max()]).astype(LEVEL_DTYPE)
        low, high = levels.astype(np.float64)
        top = 2**self.outside_bits - 1
        scaled = (mean - low) / (high - low) * top if high > low else np.zeros_like(mean)
        return levels, np.clip(np.rint(scaled), 0, top).astype(np.uint16)

    def _dequantized(self, levels: np.ndarray, codes: np.ndarray) -> np.ndarray:
        low, high = levels.astype(np.float64)
        return low + (high - low) * codes.astype(np.float64) / (2**self.outside_bits - 1)

    def _outside_mean(self) -> np.ndarray:
        """The mean of the values outside, as the message stores it."""
        return self._dequantized(*self._outside_codes())

    # --- streaming ------------------------------------------------------------------------------

    def extend(self, Q, K, V) -> None:
        K = np.asarray(K, dtype=np.float64)
        V = np.asarray(V, dtype=np.float64)
        if K.shape[0] == 0:
            return
        if self._seen == 0:
            self._dim = K.shape[1]
            self._bits = np.empty((0, V.shape[1]), dtype=np.uint8)
        hashes = sign_sketch(K, self._projection())
        codes = quantize_norms(np.linalg.norm(K, axis=1), self.norm_bits) if self.norm_bits else self._norm_codes[:0]
        encoded = [binarize(row[None, :]) for row in V]  # one token at a time: its own two levels
        bits = np.vstack([b for b, _, _ in encoded]).astype(np.uint8)
        levels = np.asarray([(low, high) for _, low, high in encoded], dtype=LEVEL_DTYPE)
        all_hashes = np.concatenate([self._hashes, hashes])
        all_codes = np.concatenate([self._norm_codes, codes])
        all_bits = np.concatenate([self._bits, bits])
        all_levels = np.concatenate([self._levels, levels])
        leaving = all_bits.shape[0] - self.kept
        if leaving > 0:
            left = self._values(all_bits[:leaving], all_levels[:leaving])
            start = np.zeros((1, left.shape[1])) if self._sum is None else self._sum[None, :]
            self._sum = np.cumsum(np.vstack([start, left]), axis=0)[-1]  # left to right, like single steps
        keep = slice(max(0, leaving), None)
        self._hashes, self._bits, self._levels = all_hashes[keep], all_bits[keep], all_levels[keep]
        self._norm_codes = all_codes[keep] if self.norm_bits else all_codes
        self._seen += K.shape[0]

    def probe(self, Q, K, V) -> np.ndarray:
        Q = np.asarray(Q, dtype=np.float64)
        if self._seen == 0:
            return np.asarray(V, dtype=np.float64).copy()
        norms = dequantize_norms(self._norm_codes, self.norm_bits) if self.norm_bits else np.ones(self._hashes.shape[0])
        count = self.outside_count
        return hashed_attention(Q, K, V, self._hashes, norms, self._values(self._bits, self._levels),
                                self._projection(), count, self._outside_mean() * count if count else None)

    # --- message --------------------------------------------------------------------------------

    def budget_bits(self, n: int, d: int) -> int:
        kept = min(n, self.kept)
        outside = packed_size(self.outside_bits, d) + 2 * np.dtype(LEVEL_DTYPE).itemsize if n > self.kept else 0
        return 8 * (HEADER_BYTES + packed_size(1, kept * self.hash_bits) + packed_size(self.norm_bits, kept)
                    + packed_size(1, kept * d) + kept * 2 * np.dtype(LEVEL_DTYPE).itemsize + outside)

    def to_bytes(self) -> bytes:
        writer = Writer(self._seen, self._dim).codes(self._hashes, 1)
        if self.norm_bits:
            writer.codes(self._norm_codes, self.norm_bits)
        writer.codes(self._bits, 1).array(self._levels, LEVEL_DTYPE)
        if self.outside_count:
            levels, codes = self._outside_codes()
            writer.array(levels, LEVEL_DTYPE).codes(codes, self.outside_bits)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "WindowHashedBitsCache":
        cache = cls(**params)
        reader = Reader(data)
        n, d = reader.tokens, reader.dim
        kept = min(n, cache.kept)
        cache._seen, cache._dim = n, d
        cache._hashes = reader.codes(1, kept * cache.hash_bits).reshape(kept, cache.hash_bits)
        if cache.norm_bits:
            cache._norm_codes = reader.codes(cache.norm_bits, kept)
        cache._bits = reader.codes(1, kept * d).reshape(kept, d).astype(np.uint8)
        cache._levels = reader.array(LEVEL_DTYPE, (kept, 2))
        if cache.outside_count:
            levels = reader.array(LEVEL_DTYPE, (2,))
            cache._sum = cache._dequantized(levels, reader.codes(cache.outside_bits, d)) * cache.outside_count
        reader.done()
        return cache
