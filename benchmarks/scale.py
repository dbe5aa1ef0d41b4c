"""The scale targets, measured in one run and printed as ratios (run: ``python benchmarks/scale.py``).

1. Workers: wall time of ``barriers run budget`` (quick preset) with ``--workers 1`` over
   ``--workers 2`` (target >= 1.6 on 2 cores). Both write the same files (checked). Also the
   speed-up of the units alone (what the workers share) with the bound it puts on the command's,
   and the command's speed-up at n = 4096.
2. Resume: wall time of running that command again on its finished trial store over running it
   (target <= 5%), for the quick preset and for n = 4096. At a clean git revision a finished run
   whose files are unchanged is up to date (start-up and a check of the files); in a modified
   tree the files are made again from the store (summary and figure).
3. Window caches: tokens per second of ``extend`` for the O(W)-state window caches, against a bare
   numpy append of the same rows (every key and value row copied into arrays allocated and
   touched before the timing), on the same chunks (target: within 2x).
4. Bob's decoding at n = 8192, d = 256 against the bare numpy floor (``benchmarks/decode.py``;
   target <= 1.3).

Each timing is the fastest of ``--repeats`` runs (least disturbed by other load on the machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from decode import decode_ratio
from timing import best_of

from caches.eviction import SinkWindowCache, WindowCache
from caches.sliding import Algorithm1Cache, RunningSumWindowCache

BARRIERS = [sys.executable, "-m", "barriers.cli"]
FILES = ("summary.json", "trials.csv", "budget.pdf", "budget.png")


#: The Makefile's thread settings: one BLAS thread per worker process.
THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def timed_run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([*BARRIERS, "run", "budget", *args], check=True, capture_output=True,
                   env={**os.environ, **THREADS})
    return time.perf_counter() - start


def workers_and_resume(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = {count: Path(scratch) / f"workers{count}" for count in (1, 2)}
        seconds = {count: best_of_runs(repeats, lambda c=count: timed_run(
            ["--out", str(out[c]), "--workers", str(c), "--fresh"])) for count in (1, 2)}
        same = all((out[1] / "budget" / f).read_bytes() == (out[2] / "budget" / f).read_bytes() for f in FILES)
        units = {count: units_seconds(count) for count in (1, 2)}
        print(f"budget quick, --workers 1: {seconds[1]:.1f} s, --workers 2: {seconds[2]:.1f} s, "
              f"speed-up {seconds[1] / seconds[2]:.2f} (target >= 1.6); same files: {same}")
        print(f"  its {units[1]:.1f} s of units on 1 worker take {units[2]:.1f} s on 2: speed-up "
              f"{units[1] / units[2]:.2f}; the other {seconds[2] - units[2]:.1f} s (start-up, cluster, "
              f"summary, figure) do not divide, so the command's speed-up is at most "
              f"{seconds[1] / (seconds[2] - units[2] + units[1] / 2):.2f}")
        larger = {count: timed_run(["--out", str(out[count]), "--workers", str(count), "--fresh", "--set", "n=4096"])
                  for count in (1, 2)}
        print(f"budget n = 4096, --workers 1: {larger[1]:.1f} s, --workers 2: {larger[2]:.1f} s, "
              f"speed-up {larger[1] / larger[2]:.2f} (target >= 1.6)")
        for label, extra in (("quick", []), ("n = 4096", ["--set", "n=4096"])):
            fresh = best_of_runs(repeats, lambda: timed_run(["--out", str(out[1]), "--fresh", *extra]))
            resumed = best_of_runs(repeats, lambda: timed_run(["--out", str(out[1]), *extra]))
            print(f"budget {label}, run {fresh:.1f} s, resume of the finished run {resumed:.2f} s: "
                  f"{100 * resumed / fresh:.1f}% (target <= 5%)")


def units_seconds(workers: int) -> float:
    """Wall time of the budget quick preset's units on a local cluster of ``workers`` (after every
    worker has played once, so imports and fork servers are not counted)."""
    code = f"""
import time
from barriers.experiments import get_experiment
from protocols.cluster import Cluster
experiment = get_experiment("budget")
config = experiment.config("quick", {{}})
units = experiment.sweep(config, 0)
with Cluster({workers}) as cluster:
    list(cluster.measure(experiment, config, units[:{workers}], 0))
    start = time.perf_counter()
    list(cluster.measure(experiment, config, units, 0))
    print(time.perf_counter() - start)
"""
    # `python -c`: Dask's spawned workers re-run a main script, but there is none to re-run here
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                            env={**os.environ, **THREADS, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return float(result.stdout.split()[-1])


def best_of_runs(repeats: int, run) -> float:
    return min(run() for _ in range(repeats))


def append_rows(chunks, keys: np.ndarray, values: np.ndarray) -> None:
    """The floor: every key and value row copied into arrays allocated (and touched) beforehand."""
    seen = 0
    for K, V in chunks:
        m = K.shape[0]
        keys[seen : seen + m], values[seen : seen + m] = K, V
        seen += m


def window_extend(repeats: int, n: int = 65536, d: int = 128, window: int = 256, chunk: int = 4096) -> None:
    rng = np.random.default_rng([0, 13])
    K, V = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    Q = np.zeros_like(K)
    chunks = [(K[s : s + chunk], V[s : s + chunk]) for s in range(0, n, chunk)]
    keys, values = np.zeros((n, d)), np.zeros((n, d))
    floor = best_of(repeats, lambda: append_rows(chunks, keys, values))
    print(f"window extend, n={n} d={d} W={window} in chunks of {chunk}: numpy append of the rows "
          f"{n / floor / 1e6:.1f} M tokens/s")
    for cache_class in (WindowCache, SinkWindowCache, RunningSumWindowCache, Algorithm1Cache):
        def feed(cache_class=cache_class):
            cache = cache_class(window=window)
            for start in range(0, n, chunk):
                cache.extend(Q[start : start + chunk], K[start : start + chunk], V[start : start + chunk])
        seconds = best_of(repeats, feed)
        print(f"  {cache_class.__name__:22s} {n / seconds / 1e6:6.2f} M tokens/s, "
              f"{seconds / floor:.2f}x the floor (target <= 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    workers_and_resume(args.repeats)
    window_extend(args.repeats + 1)
    bob, floor = decode_ratio(8192, 256, args.repeats + 1)
    print(f"decode n=8192 d=256 (all n·d bits): Bob {bob * 1e3:.0f} ms, numpy floor {floor * 1e3:.0f} ms, "
          f"ratio {bob / floor:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
