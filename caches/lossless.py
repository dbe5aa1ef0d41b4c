"""Generic lossless compression of the exact state: zlib (DEFLATE) and lzma (LZMA2, .xz).

The cache keeps every key and value at ``dtype`` (as :class:`caches.exact.ExactCache`) and its
message is that exact message compressed by a general-purpose codec: DEFLATE (Deutsch, RFC 1951,
in the zlib container of RFC 1950) or LZMA2 in the .xz container (Pavlov; Python's ``lzma``).
Outputs are those of the exact cache at ``dtype``. In the INDEX game the codec squeezes the
two-valued values towards their one bit of entropy, but Bob still needs every bit that identifies
the keys: the barrier is about information, not representation.

``budget_bits(n, d)`` is the codec's worst case (incompressible input) on the exact message.
"""

from __future__ import annotations

import lzma
import zlib
from dataclasses import dataclass

from caches.codec import HEADER_BYTES, MessageError
from caches.exact import ExactCache
from caches.params import check_int

import numpy as np


class CompressedExactCache(ExactCache):
    """Shared part: an exact cache whose message is ``compress(ExactCache message)``."""

    def _compress(self, raw: bytes) -> bytes:
        raise NotImplementedError

    @classmethod
    def _decompress(cls, data: bytes) -> bytes:
        raise NotImplementedError

    def _worst_case(self, size: int) -> int:
        raise NotImplementedError

    def budget_bits(self, n: int, d: int) -> int:
        raw = HEADER_BYTES + 2 * n * d * np.dtype(self.dtype).itemsize
        return 8 * self._worst_case(raw)

    def to_bytes(self) -> bytes:
        return self._compress(super().to_bytes())

    @classmethod
    def from_bytes(cls, data, **params):
        try:
            raw = cls._decompress(bytes(data))
        except (zlib.error, lzma.LZMAError) as error:
            raise MessageError(f"{cls.__name__}: message does not decompress: {error}") from None
        return super().from_bytes(raw, **params)


@dataclass
class ZlibCache(CompressedExactCache):
    """The exact state at ``dtype``, compressed with zlib at ``level`` (0-9)."""

    dtype: str = "float16"
    level: int = 9

    def __post_init__(self) -> None:
        self.level = check_int("level", self.level, 0, 9)
        super().__post_init__()

    def _compress(self, raw: bytes) -> bytes:
        return zlib.compress(raw, self.level)

    @classmethod
    def _decompress(cls, data: bytes) -> bytes:
        return zlib.decompress(data)

    def _worst_case(self, size: int) -> int:
        # Stored DEFLATE blocks: 5 bytes per 16 KiB block (level 0 uses 64 KiB ones), 2 + 4 bytes of zlib framing.
        return size + 5 * (size // 16383 + 1) + 6


@dataclass
class LzmaCache(CompressedExactCache):
    """The exact state at ``dtype``, compressed with lzma (.xz container) at ``preset`` (0-9)."""

    dtype: str = "float16"
    preset: int = 6

    def __post_init__(self) -> None:
        self.preset = check_int("preset", self.preset, 0, 9)
        super().__post_init__()

    def _compress(self, raw: bytes) -> bytes:
        return lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE, preset=self.preset)

    @classmethod
    def _decompress(cls, data: bytes) -> bytes:
        return lzma.decompress(data, format=lzma.FORMAT_XZ)

    def _worst_case(self, size: int) -> int:
        # Uncompressed LZMA2 chunks: 3 bytes per 64 KiB; .xz stream, block and index framing < 128 bytes.
        return size + 3 * (size // 65536 + 1) + 128
