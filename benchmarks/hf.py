"""Bob's probe through a real ``transformers.DynamicCache``: per-row ``update`` vs one batched call.

``caches/hf.py:HFCache.probe`` used to answer each of Bob's rows with its own ``update`` on a
shallow copy of the layer; it now answers a whole batch in one torch call over the stored keys and
values plus each query's own token. This script times both on the same state, in one run, and
prints the ratio (extra ``hf``: ``.venv-kvpress/bin/python benchmarks/hf.py``). The per-row path
is copied here so the comparison survives the change.
"""

from __future__ import annotations

import argparse
import copy
import math

import numpy as np
from timing import best_of

from caches.hf import HFCache, torch_attention


def per_row_probe(cache: HFCache, Q, K, V) -> np.ndarray:
    """The adapter's former probe: one ``update`` on a shallow copy of the layer per row."""
    layer = cache._cache.layers[0]
    out = np.empty((len(Q), np.shape(V)[1]))
    for r in range(len(Q)):
        keys, values = copy.copy(layer).update(cache._states(K[r]), cache._states(V[r]))
        out[r] = torch_attention(Q[r : r + 1], keys, values)[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="tokens in the cache and rows Bob probes")
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--kind", default="dynamic", choices=["dynamic", "sliding", "quantized"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    Q, K, V = (rng.standard_normal((args.n, args.d)) / math.sqrt(args.d) for _ in range(3))
    cache = HFCache(args.kind)
    cache.extend(Q, K, V)
    vectorized = cache.probe(Q, K, V)
    error = float(np.max(np.abs(vectorized - per_row_probe(cache, Q, K, V))))
    row_seconds = best_of(args.repeats, lambda: per_row_probe(cache, Q, K, V))
    batch_seconds = best_of(args.repeats, lambda: cache.probe(Q, K, V))
    print(f"HFCache(kind={args.kind!r}), n = {args.n}, d = {args.d}: {args.n} rows probed")
    print(f"  per-row update:  {row_seconds * 1e3:9.1f} ms")
    print(f"  one batched call: {batch_seconds * 1e3:8.1f} ms")
    print(f"  speed-up {row_seconds / batch_seconds:.1f}x (max |difference| {error:.1e})")


if __name__ == "__main__":
    main()
