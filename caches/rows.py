"""Caches whose state is a set of (key, value) rows kept at one float precision.

The message is the header (tokens seen, d), then the kept keys and values at ``dtype``. How many
rows are kept follows from the tokens seen and the cache's capacity, so it is not stored.
"""

from __future__ import annotations

import numpy as np

from caches.base import KeyValueCache
from caches.codec import FLOAT_DTYPES, HEADER_BYTES, Reader, Writer
from caches.params import check_choice


def rows_budget_bits(rows: int, d: int, dtype: str, extra_bits_per_row: int = 0) -> int:
    """Bits of a message holding ``rows`` keys and values at ``dtype`` (plus per-row extras)."""
    return 8 * HEADER_BYTES + rows * (2 * d * 8 * np.dtype(dtype).itemsize + extra_bits_per_row)


class RowBuffer:
    """Rows with amortized O(d) append, drop-oldest and in-place replacement."""

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self._buffer = np.empty((0, 0), dtype=dtype)
        self._start = 0
        self.count = 0

    @property
    def rows(self) -> np.ndarray:
        """The kept rows, oldest first (a writable view)."""
        return self._buffer[self._start : self._start + self.count]

    def append(self, rows: np.ndarray) -> None:
        needed = self.count + rows.shape[0]
        if self._start + needed > self._buffer.shape[0] or self._buffer.shape[1] != rows.shape[1]:
            grown = np.empty((max(needed, 2 * self.count, 8), rows.shape[1]), dtype=self.dtype)
            if self.count:
                grown[: self.count] = self.rows
            self._buffer, self._start = grown, 0
        self._buffer[self._start + self.count : self._start + needed] = rows
        self.count = needed

    def keep_last(self, limit: int) -> None:
        """Drop the oldest rows so that at most ``limit`` remain."""
        dropped = max(0, self.count - limit)
        self._start += dropped
        self.count -= dropped


class StoredRowsCache(KeyValueCache):
    """Shared state and serialization of the row-keeping caches; subclasses set the policy.

    Subclasses are dataclasses with a ``dtype`` field, call ``_init_rows()`` in
    ``__post_init__`` and implement ``_admit`` and ``_capacity``.
    """

    dtype: str

    def _init_rows(self) -> None:
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._keys = RowBuffer(self.dtype)
        self._values = RowBuffer(self.dtype)
        self._seen = 0

    def _capacity(self) -> int | None:
        """Most rows kept (``None``: unbounded)."""
        return None

    def budget_bits(self, n: int, d: int) -> int:
        capacity = self._capacity()
        return rows_budget_bits(n if capacity is None else min(n, capacity), d, self.dtype)

    def _stored(self):
        return (
            self._keys.rows.astype(np.float64, copy=False),
            self._values.rows.astype(np.float64, copy=False),
            None,
        )

    def to_bytes(self) -> bytes:
        keys, values = self._keys.rows, self._values.rows
        dim = keys.shape[1] if keys.size else 0
        return Writer(self._seen, dim).array(keys, self.dtype).array(values, self.dtype).finish()

    @classmethod
    def from_bytes(cls, data, **params):
        cache = cls(**params)
        reader = Reader(data)
        capacity = cache._capacity()
        kept = reader.tokens if capacity is None else min(reader.tokens, capacity)
        keys = reader.array(cache.dtype, (kept, reader.dim))
        values = reader.array(cache.dtype, (kept, reader.dim))
        reader.done()
        if kept:
            cache._keys.append(keys)
            cache._values.append(values)
        cache._seen = reader.tokens
        return cache
