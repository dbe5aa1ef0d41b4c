"""What the sandbox costs: the budget quick preset with sandboxed players vs the former harness.

Plays ``reductions.budget`` on its quick preset (the whole zoo at n = 1024, d = 128, two trials)
twice in one run: with :class:`protocols.sandbox.SandboxedPlayers` (every Alice and every Bob call
in a fresh confined process) and with the former harness style, kept here only for this
comparison (Alice in the caller's process, Bob in one long-lived spawned process, unable to stop
the cheats of ``tests/cheating.py``). Both must produce the same points. The machine's load
changes during a run, so the caches are played one at a time with the two harnesses in
alternating order, each ``--repeats`` times, and the fastest time of each counts. Prints the
start-up time of each harness, the time of the games, and their ratio (target <= 1.2). Run:
``python benchmarks/harness.py``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import time

from protocols.game import InProcessPlayers, frozen_spec, points_from_rows
from protocols.sandbox import SandboxedPlayers
from reductions.budget import BUDGET_PRESETS, budget_measure, players


def former_bob(request):
    """Bob's whole decoding in the long-lived process (what ``bob_decode`` did)."""
    return InProcessPlayers().bob(request)


class FormerPlayers:
    """The harness before the sandbox: Alice in-process, Bob in one long-lived spawned process."""

    isolated = True

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)
        self.pool.submit(int).result()  # the spawned Bob is up (numpy imported) before the first game
        return self

    def __exit__(self, *exc):
        self.pool.shutdown()

    def alice(self, reduction, cache, x):
        return InProcessPlayers().alice(reduction, cache, x)

    def bob(self, request):
        return self.pool.submit(former_bob, request).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs of each cache per harness; the fastest counts")
    args = parser.parse_args()
    config = BUDGET_PRESETS["quick"].to_dict()
    startup = {}
    harnesses = {}
    for name, players_class in (("former", FormerPlayers), ("sandboxed", SandboxedPlayers)):
        start = time.perf_counter()
        harnesses[name] = players_class().__enter__()
        startup[name] = time.perf_counter() - start
    games = {name: 0.0 for name in harnesses}
    points = {name: [] for name in harnesses}
    try:
        for k, cache in enumerate(players(config)):
            # cache by cache, the two harnesses in alternating order: both see the same load
            order = list(harnesses) if k % 2 == 0 else list(reversed(harnesses))
            fastest, point = dict.fromkeys(harnesses, math.inf), {}
            for _ in range(args.repeats):
                for name in order:
                    start = time.perf_counter()
                    rows = [row for trial in range(config["trials"])
                            for row in budget_measure(config, {"cache": frozen_spec(cache), "trial": trial}, 0,
                                                      harnesses[name])]
                    point[name] = points_from_rows(rows)[0]
                    fastest[name] = min(fastest[name], time.perf_counter() - start)
            for name in harnesses:
                games[name] += fastest[name]
                points[name].append(point[name])
    finally:
        for harness in harnesses.values():
            harness.__exit__(None, None, None)
    assert points["former"] == points["sandboxed"], "both harnesses must give the same results"
    count = len(points["sandboxed"]) * config["trials"]
    for name in harnesses:
        print(f"{name:9s}: start-up {startup[name]:5.2f} s, {count} games {games[name]:6.2f} s "
              f"({1e3 * games[name] / count:.1f} ms/game)")
    total = {name: startup[name] + games[name] for name in harnesses}
    print(f"sandboxed / former (start-up + games): {total['sandboxed'] / total['former']:.2f} (target <= 1.2); "
          f"games only: {games['sandboxed'] / games['former']:.2f}")

if __name__ == "__main__":
    main()
