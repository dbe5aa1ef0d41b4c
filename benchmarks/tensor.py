"""Per-token time and memory of TA's 2-cache vs 4-cache as n grows (``make tensor`` runs it).

Each cache takes ``n`` random tokens, then ``--steps`` more through ``step`` (output and append),
each timed; the fastest step is reported (least disturbed by other load). Prints a table and the
time ratio 2-cache / 4-cache. Seconds are a measurement, so they live here and not in results.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from caches.tensor import ExactFourCache, ExactTwoCache


def per_token_seconds(cache, tokens: np.ndarray, n: int, steps: int) -> tuple[int, float]:
    """Memory after ``n`` tokens, and the fastest of ``steps`` further steps."""
    cache.extend(*(t[:n] for t in tokens))
    memory_bits = cache.memory_bits
    seconds = []
    for s in range(n, n + steps):
        start = time.perf_counter()
        cache.step(*(t[s] for t in tokens))
        seconds.append(time.perf_counter() - start)
    return memory_bits, min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--n", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--steps", type=int, default=7)
    args = parser.parse_args()
    print(f"{'n':>6} {'4-cache bits':>14} {'2-cache bits':>14} {'4-cache ms':>11} {'2-cache ms':>11} {'time ratio':>10}")
    for n in args.n:
        tokens = np.random.default_rng([0, n]).standard_normal((5, n + args.steps, args.d)) / math.sqrt(args.d)
        four, two = ExactFourCache("float64"), ExactTwoCache("float64")
        bits_four, t_four = per_token_seconds(four, tokens, n, args.steps)
        bits_two, t_two = per_token_seconds(two, tokens, n, args.steps)
        print(f"{n:>6} {bits_four:>14} {bits_two:>14} {t_four * 1e3:>11.3f} {t_two * 1e3:>11.3f}"
              f" {t_two / t_four:>10.2f}")


if __name__ == "__main__":
    main()
