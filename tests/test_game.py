"""The INDEX game: sandboxed players, the frontier, and contract breaches reported clearly."""

from __future__ import annotations

import pytest

import cheating
from caches import ExactCache, QuantizedCache, RandomEvictionCache, WindowCache
from protocols.game import CacheContractError, InProcessPlayers, play
from protocols.guard import InformationLeak
from barriers.experiments import EXPERIMENTS
from protocols.runner import run_sweep
from reductions.thm6 import ExactOutputReduction

SMALL = ExactOutputReduction(n=128, d=128)


def test_exact_cache_decodes_every_bit_isolated(isolated_bob):
    point, outcomes = play(SMALL, ExactCache(), trials=2, seed=1, bob=isolated_bob)
    assert point["accuracy"] == 1.0
    assert point["memory_bits"] == 8 * (9 + 2 * 128 * 128 * 8)
    assert [o.correct for o in outcomes] == [128 * 128] * 2


def test_cheat_wins_in_process_and_falls_to_chance_isolated(isolated_bob):
    cheating.reset()
    with pytest.raises(InformationLeak, match=r"CheatingCache\(\) with 0 bits of memory decoded 100\.00%"):
        play(SMALL, cheating.CheatingCache(), trials=1, seed=2, bob=InProcessPlayers())  # the frontier exposes it
    cheating.reset()
    isolated, _ = play(SMALL, cheating.CheatingCache(), trials=1, seed=2, bob=isolated_bob)
    cheating.reset()
    assert abs(isolated["accuracy"] - 0.5) < 0.02
    assert isolated["accuracy_low"] <= isolated["fano_max_accuracy"]


def test_no_budget_point_beats_the_fano_frontier(isolated_bob):
    result = run_sweep(EXPERIMENTS["budget"], {"n": 256, "d": 64, "trials": 2, "codebook": "normalized"}, 3, isolated_bob)
    points = result["summary"]["points"]
    assert len(points) >= 10
    for point in points:
        assert point["accuracy_low"] <= point["fano_max_accuracy"], point["cache"]
    exact = [p for p in points if p["cache"] == "ExactCache(dtype='float64')"]
    assert exact[0]["accuracy"] == 1.0
    below_one = [p for p in points if p["memory_ratio"] < 1]
    assert below_one and all(p["accuracy"] < 0.99 for p in below_one)


@pytest.mark.parametrize("cache", [WindowCache(window=8), RandomEvictionCache(budget=8)], ids=repr)
def test_small_eviction_budgets_fail(isolated_bob, cache):
    point, _ = play(SMALL, cache, trials=1, seed=4, bob=isolated_bob)
    assert point["accuracy"] < 0.6  # 8 of 128 rows kept: about 8/128 + chance on the rest


def test_quantized_cache_plays(isolated_bob):
    point, _ = play(SMALL, QuantizedCache(bits=4), trials=1, seed=5, bob=isolated_bob)
    assert point["accuracy"] > 0.99 and point["memory_ratio"] < 16


@pytest.mark.parametrize("mode, match", [("from_bytes", "BrokenCache.from_bytes raised RuntimeError: corrupt message"),
                                         ("shape", "shape"),
                                         ("nan", "non-finite")])
def test_contract_breaches_are_reported(isolated_bob, mode, match):
    with pytest.raises(CacheContractError, match=match):
        play(SMALL, cheating.BrokenCache(mode), trials=1, seed=0, bob=isolated_bob)


def test_same_seed_same_instances():
    a, b = (play(SMALL, WindowCache(window=32), trials=2, seed=9, bob=InProcessPlayers())[0] for _ in range(2))
    assert a == b
    c = play(SMALL, WindowCache(window=32), trials=2, seed=10, bob=InProcessPlayers())[0]
    assert c["accuracy"] != a["accuracy"]
