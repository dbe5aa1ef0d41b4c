"""A sublinear maximum-inner-product index whose every key access is counted (docs/theory.md §6).

:class:`IVFIndex` is an inverted-file index: the keys are partitioned into about ``sqrt(n)`` cells
by k-means (k-means++ seeding, then a few Lloyd steps, all from ``default_rng(seed)``); a query
scores every cell centroid, then scans the keys of its best ``probes`` cells (more if fewer than
``k`` keys were scanned) and returns the top-``k`` of the scanned keys by exact score.

Cost model. A query's **reads** are the centroid scores it evaluates plus the keys it scans, each
counted where it is computed (:meth:`IVFIndex._score_keys`, :meth:`IVFIndex._score_centroids`);
``IVFIndex.reads_total`` accumulates them over every query. Building the index touches keys only
(key–centroid distances, never a query–key score); that work is reported as ``build_ops``
(distance evaluations) and is not a score read of any query: it is amortised over the queries
the index serves, as the norm-ordered index's sort is.

Ties. Keys equidistant from several centroids (duplicates, e.g. the all-zero keys of HO
Theorem 27's instances) are split among those cells uniformly at random, so duplicate keys do not
pile up in one cell; empty cells are dropped. Probes of equal centroid score go in cell order.

The returned top-``k`` is exact among the scanned keys and approximate overall (recall < 1 when
a true neighbour sits in an unprobed cell); :meth:`IVFIndex.query` has the signature of
:meth:`caches.knn.NormOrderedIndex.query`, so the estimators of :mod:`reductions.thm19` run on it.
"""

from __future__ import annotations

import math

import numpy as np

from caches.params import ParameterError, check_int

__all__ = ["IVFIndex", "default_cells"]


def default_cells(n: int) -> int:
    """``ceil(sqrt(n))`` cells: centroid reads and the keys of one cell balance at ``sqrt(n)`` each."""
    return max(1, math.ceil(math.sqrt(n)))


def _squared_distances(X: np.ndarray, C: np.ndarray, x_norms: np.ndarray | None = None) -> np.ndarray:
    x_norms = (X * X).sum(1) if x_norms is None else x_norms
    return np.maximum(0.0, x_norms[:, None] - 2.0 * np.einsum("id,cd->ic", X, C) + (C * C).sum(1)[None, :])


def _matvec(X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``X @ v`` by einsum (the threaded BLAS matrix-vector product is slow on a loaded machine)."""
    return np.einsum("ij,j->i", X, v)


class IVFIndex:
    """Inverted-file maximum-inner-product index over ``keys`` ``(n, d)``, reads counted.

    ``cells``: number of k-means cells (default ``ceil(sqrt(n))``); ``probes``: cells scanned per
    query; ``iterations``: Lloyd steps after k-means++ seeding; ``seed``: every random choice of the
    build (the same seed builds the same index).
    """

    def __init__(self, keys: np.ndarray, *, probes: int = 1, cells: int | None = None, iterations: int = 2,
                 seed=0) -> None:
        self.keys = np.atleast_2d(np.asarray(keys, dtype=np.float64))
        n = self.keys.shape[0]
        if n < 1:
            raise ParameterError("an IVF index needs at least one key")
        cells = default_cells(n) if cells is None else check_int("cells", cells, 1, n)
        self.probes = check_int("probes", probes, 1)
        check_int("iterations", iterations, 0)
        rng = np.random.default_rng(seed)
        self.build_ops = 0
        self._norms = (self.keys * self.keys).sum(1)
        centroids = self._seed_centroids(rng, cells)
        assign = self._assign(centroids, rng)
        for _ in range(iterations):
            counts = np.bincount(assign, minlength=centroids.shape[0])
            sums = np.stack([np.bincount(assign, weights=self.keys[:, j], minlength=centroids.shape[0])
                             for j in range(self.keys.shape[1])], axis=1)
            filled = counts > 0
            centroids[filled] = sums[filled] / counts[filled, None]
            assign = self._assign(centroids, rng)
        used = np.unique(assign)
        self.centroids = centroids[used]
        relabel = np.full(centroids.shape[0], -1, dtype=np.int64)
        relabel[used] = np.arange(used.size)
        self.assign = relabel[assign]
        order = np.argsort(self.assign, kind="stable")
        self.cell_keys = np.split(order, np.cumsum(np.bincount(self.assign, minlength=used.size))[:-1])
        self.reads_total = 0

    def __len__(self) -> int:
        return self.keys.shape[0]

    @property
    def cells(self) -> int:
        return self.centroids.shape[0]

    def _seed_centroids(self, rng: np.random.Generator, cells: int) -> np.ndarray:
        """k-means++: each next centroid a key drawn with probability ∝ squared distance to the chosen
        ones (uniformly when every key coincides with a chosen centroid)."""
        n = len(self)
        chosen = [int(rng.integers(n))]
        nearest = _squared_distances(self.keys, self.keys[chosen], self._norms).reshape(-1)
        self.build_ops += n
        for _ in range(cells - 1):
            total = nearest.sum()
            if total > 0:  # inverse-CDF draw ∝ nearest
                pick = min(n - 1, int(np.searchsorted(np.cumsum(nearest), rng.random() * total, side="right")))
            else:
                pick = int(rng.integers(n))
            chosen.append(pick)
            c = self.keys[pick]
            nearest = np.minimum(nearest, np.maximum(0.0, self._norms - 2.0 * _matvec(self.keys, c) + c @ c))
            self.build_ops += n
        return self.keys[chosen].copy()

    def _assign(self, centroids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Nearest centroid per key; ties split uniformly at random among the tied cells."""
        dist = _squared_distances(self.keys, centroids, self._norms)
        self.build_ops += dist.size
        best = dist.min(axis=1, keepdims=True)
        tied = dist <= best + 1e-9 * (1.0 + best)
        return np.argmax(tied * rng.random(dist.shape), axis=1)

    def _score_centroids(self, q: np.ndarray) -> tuple[np.ndarray, int]:
        return _matvec(self.centroids, q), self.cells

    def _score_keys(self, q: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, int]:
        return _matvec(self.keys[ids], q), int(ids.size)

    def search(self, q: np.ndarray, k: int, probes: int | None = None) -> tuple[np.ndarray, np.ndarray, int, int]:
        """One query: ``(ids, scores, reads, scanned)``; ``ids`` sorted by decreasing score."""
        q = np.asarray(q, dtype=np.float64).reshape(-1)
        k = check_int("k", k, 1, len(self))
        probes = self.probes if probes is None else check_int("probes", probes, 1)
        centroid_scores, reads = self._score_centroids(q)
        ranked = np.argsort(-centroid_scores, kind="stable")
        scanned_ids, total = [], 0
        for j, cell in enumerate(ranked):
            if j >= probes and total >= k:
                break
            scanned_ids.append(self.cell_keys[cell])
            total += self.cell_keys[cell].size
        ids = np.concatenate(scanned_ids)
        scores, key_reads = self._score_keys(q, ids)
        reads += key_reads
        self.reads_total += reads
        top = np.argsort(-scores, kind="stable")[:k]
        return ids[top], scores[top], reads, int(ids.size)

    def query(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-``k`` ids and scores per row of ``Q`` among the scanned keys, and each row's reads
        (centroids scored + keys scanned): the interface of :meth:`caches.knn.NormOrderedIndex.query`."""
        Q = np.atleast_2d(np.asarray(Q, dtype=np.float64))
        results = [self.search(q, k) for q in Q]
        return (np.stack([r[0] for r in results]), np.stack([r[1] for r in results]),
                np.array([r[2] for r in results], dtype=np.int64))
