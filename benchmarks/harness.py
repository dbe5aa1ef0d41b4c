"""What the sandbox costs: the budget quick preset with sandboxed players vs the former harness.

Plays ``reductions.budget`` on its quick preset (the whole zoo at n = 1024, d = 128, two trials)
twice in one run: with :class:`protocols.sandbox.SandboxedPlayers` (every Alice and every Bob call
in a fresh confined process) and with the former harness style, kept here only for this
comparison (Alice in the caller's process, Bob in one long-lived spawned process, unable to stop
the cheats of ``tests/cheating.py``). Both must produce the same summary. Prints the cold
start-up time of each, the fastest run of the games, and their ratio (target <= 1.2). Run:
``python benchmarks/harness.py``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import time

from protocols.game import InProcessPlayers
from protocols.sandbox import SandboxedPlayers
from reductions.budget import BUDGET_PRESETS, run_budget


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


def timed_run(players_class, config: dict) -> tuple[float, float, dict]:
    """Start-up seconds, run seconds and the summary of one budget run with these players."""
    start = time.perf_counter()
    with players_class() as players:
        ready = time.perf_counter()
        summary = run_budget(dict(config), 0, players)["summary"]
    return ready - start, time.perf_counter() - ready, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="runs per harness; the fastest counts")
    args = parser.parse_args()
    config = BUDGET_PRESETS["quick"]
    startups, runs, summaries = {}, {}, {}
    for _ in range(args.repeats):  # alternate, so slow spells of a shared machine hit both
        for name, players_class in (("former", FormerPlayers), ("sandboxed", SandboxedPlayers)):
            startup, run, summaries[name] = timed_run(players_class, config)
            startups.setdefault(name, startup)  # cold: the fork server starts once per process
            runs[name] = min(run, runs.get(name, run))
    assert summaries["former"] == summaries["sandboxed"], "both harnesses must give the same results"
    games = len(summaries["sandboxed"]["points"]) * config["trials"]
    for name in runs:
        print(f"{name:9s}: start-up {startups[name]:5.2f} s, {games} games {runs[name]:6.2f} s "
              f"({1e3 * runs[name] / games:.1f} ms/game)")
    total = {name: startups[name] + runs[name] for name in runs}
    print(f"sandboxed / former (start-up + games): {total['sandboxed'] / total['former']:.2f} (target <= 1.2); "
          f"games only: {runs['sandboxed'] / runs['former']:.2f}")

if __name__ == "__main__":
    main()
