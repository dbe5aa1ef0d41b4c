"""Bob's decoding speed vs the bare numpy floor (target: ratio <= 1.3).

Decodes all n·d bits of an ExactCache instance of HO Theorem 6 at n=8192, d=256 (n batched
probes, Remark 7) and, in the same run, times the floor on the same shapes: scores matmul,
stable softmax, product with V. Prints both times and their ratio. Run: ``make bench``. Bob runs
in this process (:class:`protocols.game.InProcessPlayers`): the decoding work, not the sandbox's
process costs, which ``benchmarks/harness.py`` measures.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import best_of

from caches import ExactCache
from caches.spec import object_spec
from protocols.game import BobRequest, InProcessPlayers, trial_input
from reductions.thm6 import ExactOutputReduction


def numpy_floor(Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    scores = Q @ K.T
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores @ V


def decode_ratio(n: int, d: int, repeats: int) -> tuple[float, float]:
    """Seconds for Bob to decode all n·d bits of an exact-cache message, and for the numpy floor."""
    reduction, x = trial_input(ExactOutputReduction(n, d), seed=0, trial=0)
    cache = ExactCache("float64")
    players = InProcessPlayers()
    message = players.alice(reduction, cache, x)
    request = BobRequest(object_spec(cache), message, object_spec(reduction), tuple(range(n)))
    decoded = players.bob(request)  # also warms the codebook cache (public randomness is not decoding work)
    assert np.array_equal(decoded, x), "decoding must be exact for the benchmark to mean anything"
    bob_seconds = best_of(repeats, lambda: players.bob(request))
    keys = reduction.keys
    Q, K, V = reduction.scale * keys, keys, x.astype(np.float64)
    floor_seconds = best_of(repeats, lambda: numpy_floor(Q, K, V))
    return bob_seconds, floor_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bob_seconds, floor_seconds = decode_ratio(args.n, args.d, args.repeats)
    print(f"n={args.n} d={args.d}: decode all n·d bits {bob_seconds * 1e3:.1f} ms, "
          f"numpy floor {floor_seconds * 1e3:.1f} ms, ratio {bob_seconds / floor_seconds:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
