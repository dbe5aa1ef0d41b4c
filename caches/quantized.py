"""Uniform b-bit quantization of keys (per channel) and values (per token), KIVI style.

KIVI: Liu, Yuan, Jin, Zhong, Xu, Braverman, Chen, Hu, "KIVI: A Tuning-Free Asymmetric 2bit
Quantization for KV Cache" (ICML 2024). Keys have outlier channels, so they are quantized per
channel; values per token.

Keys are quantized per channel over groups of ``group_size`` tokens; the tokens of the group
still being filled stay in float16 until it completes (the residual). Values are quantized per
token as they arrive. Minimums and scales are float16. Every code is bit-packed, so the memory is
``b`` bits per quantized entry plus the scales and the residual, all counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.base import KeyValueCache
from caches.codec import HEADER_BYTES, Reader, Writer, packed_size
from caches.params import check_int

SCALE_DTYPE = "float16"


def quantize(x: np.ndarray, bits: int, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Asymmetric uniform quantization along ``axis``: codes, minimums and scales (float16).

    ``x ≈ minimum + code * scale`` with ``code in [0, 2**bits - 1]``; the error is at most
    ``scale / 2`` plus the float16 rounding of ``minimum`` and ``scale``.
    """
    low = np.min(x, axis=axis, keepdims=True).astype(SCALE_DTYPE)
    high = np.max(x, axis=axis, keepdims=True)
    scale = ((high - low.astype(np.float64)) / (2**bits - 1)).astype(SCALE_DTYPE)
    low64, scale64 = low.astype(np.float64), scale.astype(np.float64)
    safe = np.where(scale64 > 0, scale64, 1.0)
    codes = np.clip(np.rint((x - low64) / safe), 0, 2**bits - 1).astype(np.uint8)
    return codes, np.squeeze(low, axis), np.squeeze(scale, axis)


def dequantize(codes: np.ndarray, low: np.ndarray, scale: np.ndarray, axis: int) -> np.ndarray:
    """Inverse of :func:`quantize` (up to the quantization error)."""
    low = np.expand_dims(low.astype(np.float64), axis)
    scale = np.expand_dims(scale.astype(np.float64), axis)
    return low + codes.astype(np.float64) * scale


@dataclass
class QuantizedCache(KeyValueCache):
    """``bits``-bit keys (per-channel scales per group of tokens) and values (per-token scales)."""

    bits: int = 4
    group_size: int = 64

    def __post_init__(self) -> None:
        self.bits = check_int("bits", self.bits, 1, 8)
        self.group_size = check_int("group_size", self.group_size, 1)
        self._key_codes: list[np.ndarray] = []  # one (group_size, d) block per completed group
        self._key_low: list[np.ndarray] = []
        self._key_scale: list[np.ndarray] = []
        self._residual = np.empty((0, 0), dtype=SCALE_DTYPE)
        self._value_codes: list[np.ndarray] = []
        self._value_low: list[np.ndarray] = []
        self._value_scale: list[np.ndarray] = []
        self._seen = 0
        self._decoded: tuple[np.ndarray, np.ndarray] | None = None

    def budget_bits(self, n: int, d: int) -> int:
        """The message size after ``n`` tokens of dimension ``d`` (it depends only on n, d)."""
        groups, residual = divmod(n, self.group_size)
        quantized = groups * self.group_size
        scale_bytes = np.dtype(SCALE_DTYPE).itemsize
        return 8 * (
            HEADER_BYTES
            + packed_size(self.bits, quantized * d) + 2 * groups * d * scale_bytes + residual * d * scale_bytes
            + packed_size(self.bits, n * d) + 2 * n * scale_bytes
        )

    def _admit(self, K, V) -> None:
        codes, low, scale = quantize(V, self.bits, axis=1)
        self._value_codes.append(codes)
        self._value_low.append(low)
        self._value_scale.append(scale)
        # Keys pass through float16 first, so a token quantizes the same whether it arrived in a
        # batch or waited in the residual.
        pending = np.concatenate([self._residual.reshape(-1, K.shape[1]), K.astype(SCALE_DTYPE)])
        pending = pending.astype(np.float64)
        groups = pending.shape[0] // self.group_size
        if groups:
            blocks = pending[: groups * self.group_size].reshape(groups, self.group_size, -1)
            codes, low, scale = quantize(blocks, self.bits, axis=1)
            self._key_codes.append(codes.reshape(-1, K.shape[1]))
            self._key_low.append(low)
            self._key_scale.append(scale)
        self._residual = pending[groups * self.group_size :].astype(SCALE_DTYPE)
        self._seen += K.shape[0]
        self._decoded = None

    def _arrays(self, dim: int):
        join = lambda parts, shape: np.concatenate(parts) if parts else np.empty(shape)  # noqa: E731
        return (
            join(self._key_codes, (0, dim)).astype(np.uint8),
            join(self._key_low, (0, dim)).astype(SCALE_DTYPE),
            join(self._key_scale, (0, dim)).astype(SCALE_DTYPE),
            join(self._value_codes, (0, dim)).astype(np.uint8),
            join(self._value_low, (0,)).astype(SCALE_DTYPE),
            join(self._value_scale, (0,)).astype(SCALE_DTYPE),
        )

    def _stored(self):
        if self._seen == 0:
            return np.empty((0, 0)), np.empty((0, 0)), None
        if self._decoded is None:
            dim = self._residual.shape[1] if self._residual.ndim == 2 else self._value_codes[0].shape[1]
            key_codes, key_low, key_scale, value_codes, value_low, value_scale = self._arrays(dim)
            groups = key_low.shape[0]
            keys = dequantize(key_codes.reshape(groups, self.group_size, dim), key_low, key_scale, axis=1)
            keys = np.concatenate([keys.reshape(-1, dim), self._residual.reshape(-1, dim).astype(np.float64)])
            values = dequantize(value_codes, value_low, value_scale, axis=1)
            self._decoded = (keys, values)
        return (*self._decoded, None)

    def to_bytes(self) -> bytes:
        if self._seen == 0:
            return Writer(0, 0).finish()
        dim = self._value_codes[0].shape[1]
        key_codes, key_low, key_scale, value_codes, value_low, value_scale = self._arrays(dim)
        return (
            Writer(self._seen, dim)
            .codes(key_codes, self.bits)
            .array(key_low, SCALE_DTYPE)
            .array(key_scale, SCALE_DTYPE)
            .array(self._residual.reshape(-1, dim), SCALE_DTYPE)
            .codes(value_codes, self.bits)
            .array(value_low, SCALE_DTYPE)
            .array(value_scale, SCALE_DTYPE)
            .finish()
        )

    @classmethod
    def from_bytes(cls, data, **params) -> "QuantizedCache":
        cache = cls(**params)
        reader = Reader(data)
        n, dim = reader.tokens, reader.dim
        groups, residual = divmod(n, cache.group_size)
        quantized = groups * cache.group_size
        key_codes = reader.codes(cache.bits, quantized * dim).reshape(quantized, dim)
        key_low = reader.array(SCALE_DTYPE, (groups, dim))
        key_scale = reader.array(SCALE_DTYPE, (groups, dim))
        residual_keys = reader.array(SCALE_DTYPE, (residual, dim))
        value_codes = reader.codes(cache.bits, n * dim).reshape(n, dim)
        value_low = reader.array(SCALE_DTYPE, (n,))
        value_scale = reader.array(SCALE_DTYPE, (n,))
        reader.done()
        if n:
            cache._key_codes, cache._key_low, cache._key_scale = [key_codes], [key_low], [key_scale]
            cache._residual = residual_keys
            cache._value_codes, cache._value_low, cache._value_scale = [value_codes], [value_low], [value_scale]
            cache._seen = n
        return cache
