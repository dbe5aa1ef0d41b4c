"""QJL: 1-bit sign sketches of Johnson-Lindenstrauss-projected keys, with quantized values.

Zandieh, Daliri, Han, "QJL: 1-Bit Quantized JL Transform for KV Cache Quantization with Zero
Overhead" (2024; AAAI 2025). A key ``k`` is stored as ``sign(S k)`` (``m`` bits) and its norm;
``S`` is an ``m x d`` Gaussian matrix drawn from public randomness (the ``seed``). The inner
product with a query is estimated without quantizing the query::

    <q, k>  ~  sqrt(pi/2) / m * ||k|| * <S q, sign(S k)>

which is unbiased (``E[<s, S q> sign(<s, S k>)] = sqrt(2/pi) <q, k> / ||k||`` for a Gaussian row
``s``). It is linear in ``q``, so the cache is attention over reconstructed keys
``k_hat = sqrt(pi/2)/m ||k|| S^T sign(S k)``. Values are quantized per token to ``value_bits``
bits (:func:`caches.quantized.quantize`). The paper also keeps outlier channels and a recent
window in full precision; this is the core transform only.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from caches.base import KeyValueCache
from caches.codec import HEADER_BYTES, Reader, Writer, packed_size
from caches.params import check_int
from caches.quantized import SCALE_DTYPE, dequantize, quantize


@functools.lru_cache(maxsize=16)
def jl_projection(seed: int, rows: int, dim: int) -> np.ndarray:
    """The public ``rows x dim`` standard Gaussian matrix of seed ``seed`` (read-only)."""
    matrix = np.random.default_rng([seed, rows, dim]).standard_normal((rows, dim))
    matrix.setflags(write=False)
    return matrix


def sign_sketch(X: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Bits ``[<s_j, x> >= 0]`` for every row ``x`` of ``X`` and row ``s_j`` of ``projection`` (uint8 0/1)."""
    return (np.asarray(X, dtype=np.float64) @ projection.T >= 0).astype(np.uint8)


def qjl_keys(bits: np.ndarray, norms: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Reconstructed keys ``sqrt(pi/2)/m ||k|| S^T (2 bits - 1)``: ``<q, k_hat>`` is the QJL estimate."""
    signs = 2.0 * bits.astype(np.float64) - 1.0
    m = projection.shape[0]
    return (math.sqrt(math.pi / 2) / m) * norms.astype(np.float64)[:, None] * (signs @ projection)


@dataclass
class QJLCache(KeyValueCache):
    """``sketch_dim`` sign bits and a float16 norm per key; values at ``value_bits`` bits per token."""

    sketch_dim: int = 128
    value_bits: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        self.sketch_dim = check_int("sketch_dim", self.sketch_dim, 1, 1 << 16)
        self.value_bits = check_int("value_bits", self.value_bits, 1, 8)
        self.seed = check_int("seed", self.seed, 0)
        self._signs: list[np.ndarray] = []
        self._norms: list[np.ndarray] = []
        self._value_codes: list[np.ndarray] = []
        self._value_low: list[np.ndarray] = []
        self._value_scale: list[np.ndarray] = []
        self._seen = 0
        self._dim = 0
        self._decoded: tuple[np.ndarray, np.ndarray] | None = None

    def budget_bits(self, n: int, d: int) -> int:
        half = np.dtype(SCALE_DTYPE).itemsize
        return 8 * (HEADER_BYTES + packed_size(1, n * self.sketch_dim) + n * half
                    + packed_size(self.value_bits, n * d) + 2 * n * half)

    def _projection(self) -> np.ndarray:
        return jl_projection(self.seed, self.sketch_dim, self._dim)

    def _admit(self, K, V) -> None:
        self._dim = K.shape[1]
        self._signs.append(sign_sketch(K, self._projection()))
        self._norms.append(np.linalg.norm(K, axis=1).astype(SCALE_DTYPE))
        codes, low, scale = quantize(V, self.value_bits, axis=1)
        self._value_codes.append(codes)
        self._value_low.append(low)
        self._value_scale.append(scale)
        self._seen += K.shape[0]
        self._decoded = None

    def _arrays(self):
        join = lambda parts, shape, dtype: (np.concatenate(parts) if parts else np.empty(shape)).astype(dtype)  # noqa: E731
        return (
            join(self._signs, (0, self.sketch_dim), np.uint8),
            join(self._norms, (0,), SCALE_DTYPE),
            join(self._value_codes, (0, self._dim), np.uint8),
            join(self._value_low, (0,), SCALE_DTYPE),
            join(self._value_scale, (0,), SCALE_DTYPE),
        )

    def _stored(self):
        if self._seen == 0:
            return np.empty((0, 0)), np.empty((0, 0)), None
        if self._decoded is None:
            signs, norms, codes, low, scale = self._arrays()
            self._decoded = (qjl_keys(signs, norms, self._projection()), dequantize(codes, low, scale, axis=1))
        return (*self._decoded, None)

    def to_bytes(self) -> bytes:
        signs, norms, codes, low, scale = self._arrays()
        return (
            Writer(self._seen, self._dim)
            .codes(signs, 1)
            .array(norms, SCALE_DTYPE)
            .codes(codes, self.value_bits)
            .array(low, SCALE_DTYPE)
            .array(scale, SCALE_DTYPE)
            .finish()
        )

    @classmethod
    def from_bytes(cls, data, **params) -> "QJLCache":
        cache = cls(**params)
        reader = Reader(data)
        n, d = reader.tokens, reader.dim
        signs = reader.codes(1, n * cache.sketch_dim).reshape(n, cache.sketch_dim)
        norms = reader.array(SCALE_DTYPE, (n,))
        codes = reader.codes(cache.value_bits, n * d).reshape(n, d)
        low = reader.array(SCALE_DTYPE, (n,))
        scale = reader.array(SCALE_DTYPE, (n,))
        reader.done()
        cache._dim, cache._seen = d, n
        if n:
            cache._signs, cache._norms = [signs], [norms]
            cache._value_codes, cache._value_low, cache._value_scale = [codes], [low], [scale]
        return cache
