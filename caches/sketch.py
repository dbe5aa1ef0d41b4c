"""Low rank: streaming Frequent-Directions sketches of K and of V, tokens kept as rank-r coefficients.

Frequent Directions (Liberty, "Simple and Deterministic Matrix Sketching", KDD 2013; Ghashami,
Liberty, Phillips, Woodruff, SIAM J. Comput. 2016) keeps ``B`` with at most ``2l`` rows such that
``0 <= x^T (A^T A - B^T B) x <= ||A||_F^2 / l`` for every unit ``x``: rows are appended to a
buffer of ``2l`` rows; when it is full, ``B = sqrt(max(S^2 - s_l^2, 0)) V^T`` from its SVD.

The cache (:class:`FrequentDirectionsCache`) runs one sketch over the keys and one over the values
with ``l = rank`` and stores each token as ``rank`` coefficients in the top-``rank`` right singular
basis of the sketch's buffer at the last shrink (the basis low-rank KV methods such as Palu or
Eigen Attention take from calibration data, here learned online). Tokens that arrived since
the last shrink are still in the buffer, at full ``dtype``. At each shrink the old coefficients
move to the new basis (``C <- C P_old^T P_new``), so the state is always: sketch, basis,
coefficients, pending rows. Everything is stored at ``dtype`` and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.base import KeyValueCache
from caches.codec import FLOAT_DTYPES, HEADER_BYTES, Reader, Writer
from caches.params import check_choice, check_int


def fd_shrink(buffer: np.ndarray, ell: int) -> tuple[np.ndarray, np.ndarray]:
    """One Frequent-Directions shrink: the sketch rows kept (nonzero ones) and ``V^T`` of ``buffer``."""
    _, sigma, vt = np.linalg.svd(np.asarray(buffer, dtype=np.float64), full_matrices=False)
    cut = sigma[ell - 1] ** 2 if sigma.size >= ell else 0.0
    shrunk = np.sqrt(np.maximum(sigma**2 - cut, 0.0))
    keep = shrunk > 0
    return shrunk[keep, None] * vt[keep], vt


def frequent_directions(A: np.ndarray, ell: int) -> np.ndarray:
    """The Frequent-Directions sketch of the rows of ``A`` (buffer of ``2 ell`` rows), for tests and reuse."""
    ell = check_int("ell", ell, 1)
    A = np.asarray(A, dtype=np.float64)
    sketch = np.empty((0, A.shape[1]))
    start = 0
    while start < A.shape[0]:
        take = 2 * ell - sketch.shape[0]
        sketch = np.concatenate([sketch, A[start : start + take]])
        start += take
        if sketch.shape[0] == 2 * ell:
            sketch, _ = fd_shrink(sketch, ell)
    return sketch


class _Projected:
    """One matrix (K or V) in the stream: FD sketch, basis, coefficients and pending rows at ``dtype``."""

    def __init__(self, rank: int, dtype: str) -> None:
        self.rank, self.dtype = rank, dtype
        self.sketch = self.basis = self.coefficients = self.pending = None
        self.dim = 0

    def _start(self, dim: int) -> None:
        self.dim = dim
        self.sketch = np.empty((0, dim), self.dtype)
        self.basis = np.empty((dim, 0), self.dtype)
        self.coefficients = np.empty((0, 0), self.dtype)
        self.pending = np.empty((0, dim), self.dtype)

    @property
    def ell(self) -> int:
        return min(self.rank, self.dim)

    def admit(self, X: np.ndarray) -> None:
        if self.sketch is None:
            self._start(X.shape[1])
        start = 0
        while start < X.shape[0]:
            take = 2 * self.ell - self.sketch.shape[0] - self.pending.shape[0]
            self.pending = np.concatenate([self.pending, X[start : start + take].astype(self.dtype)])
            start += take
            if self.sketch.shape[0] + self.pending.shape[0] == 2 * self.ell:
                self._flush()

    def _flush(self) -> None:
        buffer = np.concatenate([self.sketch, self.pending]).astype(np.float64)
        sketch, vt = fd_shrink(buffer, self.ell)
        new_basis = vt[: self.ell].T.astype(self.dtype)
        old = self.coefficients.astype(np.float64) @ (self.basis.astype(np.float64).T @ new_basis.astype(np.float64))
        fresh = self.pending.astype(np.float64) @ new_basis.astype(np.float64)
        self.coefficients = np.concatenate([old, fresh]).astype(self.dtype)
        self.basis, self.sketch = new_basis, sketch.astype(self.dtype)
        self.pending = np.empty((0, self.dim), self.dtype)

    def rows(self) -> np.ndarray:
        """The reconstructed rows, oldest first (float64)."""
        if self.sketch is None:
            return np.empty((0, 0))
        projected = self.coefficients.astype(np.float64) @ self.basis.astype(np.float64).T
        return np.concatenate([projected.reshape(-1, self.dim), self.pending.astype(np.float64)])

    def write(self, writer: Writer) -> None:
        if self.sketch is None:
            writer.uint32(0, 0, 0)
            return
        writer.uint32(self.sketch.shape[0], self.pending.shape[0], self.coefficients.shape[0])
        writer.array(self.sketch, self.dtype).array(self.pending, self.dtype)
        if self.coefficients.shape[0]:
            writer.array(self.basis, self.dtype).array(self.coefficients, self.dtype)

    def read(self, reader: Reader) -> None:
        self._start(reader.dim)
        sketch_rows, pending_rows, coefficient_rows = reader.uint32(3)
        self.sketch = reader.array(self.dtype, (sketch_rows, self.dim))
        self.pending = reader.array(self.dtype, (pending_rows, self.dim))
        if coefficient_rows:
            self.basis = reader.array(self.dtype, (self.dim, self.ell))
            self.coefficients = reader.array(self.dtype, (coefficient_rows, self.ell))


@dataclass
class FrequentDirectionsCache(KeyValueCache):
    """Keys and values each kept as ``rank`` coefficients in a basis tracked by Frequent Directions."""

    rank: int = 16
    dtype: str = "float16"

    def __post_init__(self) -> None:
        self.rank = check_int("rank", self.rank, 1)
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._k = _Projected(self.rank, self.dtype)
        self._v = _Projected(self.rank, self.dtype)
        self._seen = 0
        self._decoded: tuple[np.ndarray, np.ndarray] | None = None

    def budget_bits(self, n: int, d: int) -> int:
        r = min(self.rank, d)
        floats = d * r + n * r + (2 * r - 1) * d  # basis, coefficients, sketch + pending (< 2r rows)
        return 8 * (HEADER_BYTES + 2 * (12 + floats * np.dtype(self.dtype).itemsize))

    def _admit(self, K, V) -> None:
        self._k.admit(K)
        self._v.admit(V)
        self._seen += K.shape[0]
        self._decoded = None

    def _stored(self):
        if self._decoded is None:
            self._decoded = (self._k.rows(), self._v.rows())
        return (*self._decoded, None)

    def to_bytes(self) -> bytes:
        writer = Writer(self._seen, self._k.dim)
        self._k.write(writer)
        self._v.write(writer)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "FrequentDirectionsCache":
        cache = cls(**params)
        reader = Reader(data)
        cache._seen = reader.tokens
        if reader.tokens:
            cache._k.read(reader)
            cache._v.read(reader)
        else:
            for part in (cache._k, cache._v):
                part.read(reader)
            cache._k, cache._v = _Projected(cache.rank, cache.dtype), _Projected(cache.rank, cache.dtype)
        reader.done()
        return cache
