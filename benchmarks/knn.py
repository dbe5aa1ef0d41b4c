"""Lazy Gumbel sampling (HO Algorithm 2, kNN attention) vs Gumbel-max over every score: time and reads.

Draws ``samples`` exact softmax samples for each of ``m`` queries over ``n`` keys of dimension
``d``. The exact route computes all ``n`` scores per query and perturbs every one; the lazy route is
given the index's top-``sqrt(n)`` (not timed: the index is the kNN paper's assumption, built while
streaming) and reads only the tail scores it draws. Prints both times, their ratio, and the score
reads of each. Run: ``python benchmarks/knn.py`` (part of ``make bench``).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from timing import best_of

from caches.lazy_gumbel import lazy_gumbel, top_k




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=65536)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    scale = 1.5 / args.d**0.25
    Q = scale * rng.standard_normal((args.queries, args.d))
    K = scale * rng.standard_normal((args.n, args.d))
    k = math.isqrt(args.n)
    ids, top = top_k(Q @ K.T, k)  # the index's answer, computed once outside the timing

    def exact():
        scores = Q @ K.T
        return np.stack([(scores + rng.gumbel(size=scores.shape)).argmax(axis=1) for _ in range(args.samples)], 1)

    def lazy():
        return lazy_gumbel(ids, top, args.n - k, lambda r, c: np.einsum("rd,rd->r", Q[r], K[c]), rng,
                           samples=args.samples)

    draws = lazy()
    exact_seconds = best_of(args.repeats, exact)
    lazy_seconds = best_of(args.repeats, lazy)
    lazy_reads = float(draws.distinct_reads.mean())
    print(f"n={args.n} d={args.d} queries={args.queries} samples={args.samples}: "
          f"Gumbel-max over all scores {exact_seconds * 1e3:.1f} ms ({args.n} reads/query), "
          f"lazy Gumbel at k={k} {lazy_seconds * 1e3:.1f} ms ({lazy_reads:.0f} reads/query); "
          f"time ratio {exact_seconds / lazy_seconds:.1f}x, read ratio {args.n / lazy_reads:.1f}x")


if __name__ == "__main__":
    main()
