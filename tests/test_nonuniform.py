"""Experiment ``nonuniform`` (reductions/nonuniform.py): the water-filling frontier, the popular-row
reduction, the guard, and the measured ranking of the eviction rules."""

from __future__ import annotations

import numpy as np
import pytest

from barriers.experiments import EXPERIMENTS
from caches.eviction import HeavyHitterCache, RandomEvictionCache
from caches.exact import ExactCache
from caches.params import ParameterError
from protocols.fano import binary_entropy, max_accuracy, nonuniform_max_accuracy
from protocols.game import InProcessPlayers, alice_plays, frozen_spec
from protocols.guard import InformationLeak, check_weighted_point
from protocols.runner import run_sweep
from reductions.certify import all_claims, run_claim
from reductions.nonuniform import PopularQueryReduction, nonuniform_headline
from reductions.thm6 import ExactOutputReduction
from protocols.headline import unqualified_numbers


def zipf(n, s=1.0):
    return 1.0 / np.arange(1, n + 1) ** s


@pytest.mark.parametrize("n,d", [(16, 8), (64, 32), (1024, 128)])
def test_uniform_p_gives_theorem_5(n, d):
    memory = np.linspace(0.0, 1.3, 27) * n * d
    got = nonuniform_max_accuracy(memory, np.ones(n), d)
    assert np.max(np.abs(got - max_accuracy(memory, n * d))) < 1e-9


def test_skew_raises_the_frontier_and_it_binds():
    n, d = 256, 16
    memory = np.linspace(0.01, 0.99, 25) * n * d
    skewed = nonuniform_max_accuracy(memory, zipf(n), d)
    uniform = max_accuracy(memory, n * d)
    assert np.all(skewed >= uniform - 1e-12) and np.all(skewed[:-1] > uniform[:-1] + 1e-3)
    assert np.all(np.diff(skewed) > 0)
    # the KKT allocation spends the whole budget: recompute it from the returned accuracy's λ
    assert nonuniform_max_accuracy(0.0, zipf(n), d) == 0.5
    assert nonuniform_max_accuracy(n * d, zipf(n), d) == 1.0
    # rows of p = 0 cost nothing: half the rows unasked, half the memory decodes everything asked
    half = np.r_[np.ones(n // 2), np.zeros(n // 2)]
    assert nonuniform_max_accuracy(n // 2 * d, half, d) == 1.0


def test_no_feasible_allocation_beats_water_filling():
    rng = np.random.default_rng(7)
    n, d = 12, 4
    p = rng.dirichlet(np.full(n, 0.3))
    for _ in range(300):
        a = rng.uniform(0.5, 1.0, n)
        cost = d * np.sum(1.0 - binary_entropy(a))
        assert p @ a <= nonuniform_max_accuracy(cost, p, d) + 1e-9


def test_frontier_rejects_bad_input():
    with pytest.raises(ParameterError):
        nonuniform_max_accuracy(10, np.zeros(4), 2)
    with pytest.raises(ParameterError):
        nonuniform_max_accuracy(10, np.array([1.0, -1.0]), 2)


def test_guard_stops_a_point_above_the_nonuniform_frontier():
    p = zipf(64) / zipf(64).sum()
    frontier = check_weighted_point("fine", 100, p, 8, 0.5, 1000.0)
    with pytest.raises(InformationLeak):
        check_weighted_point("cheat", 100, p, 8, min(1.0, frontier + 0.2), 1e6)


def test_queries_do_not_change_what_the_exact_cache_stores():
    reduction = PopularQueryReduction(64, 64, public_seed=3)
    plain = ExactOutputReduction(64, 64, public_seed=3)
    x = np.random.default_rng(1).integers(0, 2, (64, 64))
    Q, K, V = reduction.alice_stream(x)
    assert np.count_nonzero(Q[1:]) > 0 and np.array_equal(K, plain.alice_stream(x)[1])
    spec = frozen_spec(ExactCache("float64"))
    assert alice_plays(spec, tuple(reduction.alice_stream(x))) == alice_plays(spec, tuple(plain.alice_stream(x)))


def test_pointers_are_earlier_rows_and_p_is_the_popularity():
    reduction = PopularQueryReduction(200, 64, fanout=3, zipf=1.2, public_seed=11)
    pointers = reduction.pointers()
    assert pointers.shape == (199, 3)
    assert np.all(pointers < np.arange(1, 200)[:, None]) and np.all(pointers >= 0)
    p = reduction.row_distribution()
    assert abs(p.sum() - 1.0) < 1e-12 and np.allclose(np.sort(p)[::-1], zipf(200, 1.2) / zipf(200, 1.2).sum())
    # popular rows are pointed at more often than unpopular ones (among rows of the first half)
    counts = np.bincount(pointers.ravel(), minlength=200)
    first = np.arange(100)
    top, bottom = first[np.argsort(-p[first])[:10]], first[np.argsort(p[first])[:50]]
    assert counts[top].mean() > 5 * counts[bottom].mean()


@pytest.fixture(scope="module")
def summary():
    config = {**EXPERIMENTS["nonuniform"].presets["quick"].to_dict(), "n": 128, "d": 128, "trials": 8,
              "families": ["HeavyHitterCache", "RandomEvictionCache"], "max_ratio": 4.5}
    return run_sweep(EXPERIMENTS["nonuniform"], config, 0, InProcessPlayers())["summary"]


def test_exact_cache_decodes_everything():
    config = {**EXPERIMENTS["nonuniform"].presets["quick"].to_dict(), "n": 64, "d": 128, "trials": 1,
              "families": ["ExactCache"], "max_ratio": None}
    exact = run_sweep(EXPERIMENTS["nonuniform"], config, 0, InProcessPlayers())["summary"]["points"]
    assert len(exact) == 3 and all(p["accuracy"] == 1.0 and p["uniform_accuracy"] == 1.0 for p in exact)


def test_no_player_beats_the_nonuniform_frontier(summary):
    for p in summary["points"]:
        assert p["accuracy_low"] <= p["nonuniform_frontier"] + 1e-12, p
        assert p["nonuniform_frontier"] >= p["uniform_frontier"] - 1e-12


def test_h2o_outranks_the_reservoir_at_the_same_budget(summary):
    """Measured (seed 0, n = 128, 8 trials): H2O keeps popular rows, the reservoir a uniform sample.
    At both budgets H2O's p-weighted accuracy is above the reservoir's, and at the n/8 budget
    (memory ratio about 4) by more than 0.1; only H2O gains from the skew (p-weighted above its plain
    accuracy). The row-level weighted Wilson intervals still overlap (even at 20 trials: H2O's lower
    bound 0.609, the reservoir's upper 0.621), so no interval separation is asserted."""
    h2o = next(p for p in summary["points"] if p["cache"].startswith("HeavyHitterCache(heavy=8,"))
    reservoir = next(p for p in summary["points"] if p["cache"].startswith("RandomEvictionCache(budget=16,"))
    assert h2o["accuracy"] > reservoir["accuracy"] + 0.1, (h2o, reservoir)
    small_h2o = next(p for p in summary["points"] if p["cache"].startswith("HeavyHitterCache(heavy=2,"))
    small_reservoir = next(p for p in summary["points"] if p["cache"].startswith("RandomEvictionCache(budget=4,"))
    assert small_h2o["accuracy"] > small_reservoir["accuracy"]
    assert h2o["accuracy"] > h2o["uniform_accuracy"] + 0.05  # H2O's advantage is the skew, not more rows
    assert abs(reservoir["accuracy"] - reservoir["uniform_accuracy"]) < 0.05


def test_headline_qualifies_every_number(summary):
    text = nonuniform_headline({**summary, "report_ratio": 4.5, "ranking_within_ratio_1": None})
    assert not unqualified_numbers(text) and "H2O" in text and "frontier" in text


@pytest.mark.parametrize("name", ["non-uniform frontier: independent rows and Fano per row",
                                  "non-uniform frontier: water-filling is the optimum",
                                  "nonuniform_max_accuracy matches the water-filling frontier"])
def test_claims_hold(name):
    entry = next(c for c in all_claims() if c.name == name)
    assert run_claim(entry).verdict.status.holds
