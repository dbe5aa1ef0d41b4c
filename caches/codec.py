"""The explicit binary format every cache serializes to (no pickle, no zip).

A message is a small fixed header (format version, token count, dimension: 9 bytes) followed by
sections written in a fixed order by the cache. Floats are little-endian IEEE; b-bit codes are
bit-packed, most significant bit first, so ``b * count`` bits take ``ceil(b * count / 8)`` bytes.
"""

from __future__ import annotations

import struct

import numpy as np

FORMAT_VERSION = 1
_HEADER = struct.Struct("<BII")
HEADER_BYTES = _HEADER.size

FLOAT_DTYPES = ("float64", "float32", "float16")


class MessageError(ValueError):
    """A message is too short, too long, or has an unexpected header."""


def pack_codes(codes: np.ndarray, bits: int) -> bytes:
    """Bit-pack unsigned integer ``codes`` (each ``< 2**bits``, ``1 <= bits <= 8``)."""
    codes = np.asarray(codes, dtype=np.uint8).reshape(-1)
    if bits == 8:
        return codes.tobytes()
    planes = np.unpackbits(codes[:, None], axis=1)[:, 8 - bits :]
    return np.packbits(planes.reshape(-1)).tobytes()


def unpack_codes(data: bytes | memoryview, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_codes` for ``count`` codes."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if bits == 8:
        return raw[:count].copy()
    planes = np.unpackbits(raw, count=bits * count).reshape(count, bits)
    padded = np.zeros((count, 8), dtype=np.uint8)
    padded[:, 8 - bits :] = planes
    return np.packbits(padded, axis=1).reshape(-1)


def packed_size(bits: int, count: int) -> int:
    """Bytes taken by ``count`` codes of ``bits`` bits."""
    return (bits * count + 7) // 8


class Writer:
    """Appends the sections of one message."""

    def __init__(self, tokens: int, dim: int) -> None:
        self._parts = [_HEADER.pack(FORMAT_VERSION, tokens, dim)]

    def array(self, values: np.ndarray, dtype: str) -> "Writer":
        self._parts.append(np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<")).tobytes())
        return self

    def codes(self, codes: np.ndarray, bits: int) -> "Writer":
        self._parts.append(pack_codes(codes, bits))
        return self

    def uint32(self, *values: int) -> "Writer":
        self._parts.append(struct.pack(f"<{len(values)}I", *values))
        return self

    def finish(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Reads the sections of one message in the order they were written."""

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise MessageError(f"a message must be bytes, got {type(data).__name__}")
        self._data = memoryview(bytes(data))
        if len(self._data) < HEADER_BYTES:
            raise MessageError(f"message of {len(self._data)} bytes is shorter than the {HEADER_BYTES}-byte header")
        version, self.tokens, self.dim = _HEADER.unpack_from(self._data, 0)
        if version != FORMAT_VERSION:
            raise MessageError(f"message format version {version}, expected {FORMAT_VERSION}")
        self._offset = HEADER_BYTES

    def _take(self, size: int) -> memoryview:
        if self._offset + size > len(self._data):
            raise MessageError("message ends before all its sections were read")
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def array(self, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        dt = np.dtype(dtype).newbyteorder("<")
        count = int(np.prod(shape))
        return np.frombuffer(self._take(count * dt.itemsize), dtype=dt).reshape(shape).astype(dtype)

    def codes(self, bits: int, count: int) -> np.ndarray:
        return unpack_codes(self._take(packed_size(bits, count)), bits, count)

    def uint32(self, count: int = 1) -> tuple[int, ...]:
        return struct.unpack(f"<{count}I", self._take(4 * count))

    def done(self) -> None:
        """Raise unless every byte was consumed."""
        if self._offset != len(self._data):
            raise MessageError(f"{len(self._data) - self._offset} trailing bytes after the last section")
