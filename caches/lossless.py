"""Generic lossless compression of the exact state: zlib (DEFLATE) and lzma (LZMA2, .xz).

The cache keeps every key and value at ``dtype`` (as :class:`caches.exact.ExactCache`) and its
message is that exact message compressed by a general-purpose codec: DEFLATE (Deutsch, RFC 1951,
in the zlib container of RFC 1950) or LZMA2 in the .xz container (Pavlov; Python's ``lzma``).
Outputs are those of the exact cache at ``dtype``. In the INDEX game the codec squeezes the
two-valued values towards their one bit of entropy, but Bob still needs every bit that identifies
the keys: the barrier is about information, not representation.

``budget_bits(n, d)`` is the codec's worst case (incompressible input) on the exact message.

:class:`CompressedCache` is the same compression as a wrapper around *any* cache (triples, or the
5-tuples of tensor attention): outputs are the inner cache's, the message is its message
compressed.
"""

from __future__ import annotations

import lzma
import math
import zlib
from dataclasses import dataclass

from caches.base import StreamingAttention
from caches.codec import HEADER_BYTES, MessageError
from caches.exact import ExactCache
from caches.params import check_cache, check_choice, check_int

import numpy as np


def zlib_worst_case(size: int) -> int:
    """Bytes zlib may take on ``size`` incompressible bytes."""
    # Stored DEFLATE blocks: 5 bytes per 16 KiB block (level 0 uses 64 KiB ones), 2 + 4 bytes of zlib framing.
    return size + 5 * (size // 16383 + 1) + 6


def lzma_compress(raw: bytes, preset: int) -> bytes:
    return lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE, preset=preset)


def lzma_decompress(data: bytes) -> bytes:
    return lzma.decompress(data, format=lzma.FORMAT_XZ)


def lzma_worst_case(size: int) -> int:
    """Bytes lzma (.xz) may take on ``size`` incompressible bytes."""
    # Uncompressed LZMA2 chunks: 3 bytes per 64 KiB; .xz stream, block and index framing < 128 bytes.
    return size + 3 * (size // 65536 + 1) + 128


#: ``name: (compress(raw, level), decompress(data), worst_case(size))``; levels are 0-9 for both.
CODECS = {
    "zlib": (zlib.compress, zlib.decompress, zlib_worst_case),
    "lzma": (lzma_compress, lzma_decompress, lzma_worst_case),
}


def decompress(codec: str, data: bytes, owner: str) -> bytes:
    """``data`` decompressed by ``codec``; a corrupt message raises :class:`MessageError` naming ``owner``."""
    try:
        return CODECS[codec][1](bytes(data))
    except (zlib.error, lzma.LZMAError) as error:
        raise MessageError(f"{owner}: message does not decompress: {error}") from None


class CompressedExactCache(ExactCache):
    """Shared part: an exact cache whose message is ``compress(ExactCache message)``."""

    #: A key of :data:`CODECS`.
    codec = ""

    def _level(self) -> int:
        raise NotImplementedError

    def budget_bits(self, n: int, d: int) -> int:
        raw = HEADER_BYTES + 2 * n * d * np.dtype(self.dtype).itemsize
        return 8 * CODECS[self.codec][2](raw)

    def to_bytes(self) -> bytes:
        return CODECS[self.codec][0](super().to_bytes(), self._level())

    @classmethod
    def from_bytes(cls, data, **params):
        return super().from_bytes(decompress(cls.codec, data, cls.__name__), **params)


@dataclass
class ZlibCache(CompressedExactCache):
    """The exact state at ``dtype``, compressed with zlib at ``level`` (0-9)."""

    dtype: str = "float16"
    level: int = 9

    def __post_init__(self) -> None:
        self.level = check_int("level", self.level, 0, 9)
        super().__post_init__()

    codec = "zlib"

    def _level(self) -> int:
        return self.level


@dataclass
class LzmaCache(CompressedExactCache):
    """The exact state at ``dtype``, compressed with lzma (.xz container) at ``preset`` (0-9)."""

    dtype: str = "float16"
    preset: int = 6

    def __post_init__(self) -> None:
        self.preset = check_int("preset", self.preset, 0, 9)
        super().__post_init__()

    codec = "lzma"

    def _level(self) -> int:
        return self.preset


@dataclass
class CompressedCache(StreamingAttention):
    """Any cache whose message is compressed losslessly by ``codec`` (``"zlib"`` or ``"lzma"``) at ``level`` (0-9).

    ``inner`` is any cache (``step``/``extend``/``probe`` take however many arrays a token has:
    triples, or the 5-tuples of :mod:`caches.tensor`); outputs are exactly ``inner``'s. The
    message is ``compress(inner.to_bytes())`` and ``from_bytes`` rebuilds the inner cache from
    the decompressed message and its own parameters. ``budget_bits`` is the codec's worst case
    on the inner cache's budget (``None`` when the inner cache declares none).
    """

    inner: object
    codec: str = "zlib"
    level: int = 9

    def __post_init__(self) -> None:
        check_cache("inner", self.inner)
        check_choice("codec", self.codec, tuple(CODECS))
        self.level = check_int("level", self.level, 0, 9)

    def step(self, *arrays) -> np.ndarray:
        return self.inner.step(*arrays)

    def extend(self, *arrays) -> None:
        self.inner.extend(*arrays)

    def probe(self, *arrays) -> np.ndarray:
        return self.inner.probe(*arrays)

    def to_bytes(self) -> bytes:
        return CODECS[self.codec][0](self.inner.to_bytes(), self.level)

    def budget_bits(self, n: int, d: int) -> int | None:
        budget = getattr(self.inner, "budget_bits", None)
        bits = budget(n, d) if callable(budget) else None
        return None if bits is None else 8 * CODECS[self.codec][2](math.ceil(bits / 8))

    @classmethod
    def from_bytes(cls, data, *, inner, codec="zlib", level=9) -> "CompressedCache":
        check_choice("codec", codec, tuple(CODECS))
        raw = decompress(codec, data, cls.__name__)
        return cls(type(inner).from_bytes(raw, **inner.params()), codec, level)
