"""HO Theorems 6 and 8: decoding succeeds where the theorems say, fails where they say it must."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from caches import ExactCache
from caches.params import ParameterError
from protocols.game import score, trial_input
from reductions.spike import Delta_bound, delta_bound, paper_C, threshold_C
from barriers.experiments import EXPERIMENTS
from protocols.runner import run_sweep
from reductions.thm6 import ExactOutputReduction, phase_headline
from reductions.thm8 import adversary_for

N, D = 256, 128


@pytest.fixture(scope="module")
def game(isolated_bob):
    reduction, x = trial_input(ExactOutputReduction(N, D, C=1.0), seed=11, trial=0)
    return reduction, x, isolated_bob.alice(reduction, ExactCache(), x)


def accuracy(game, bob, C, eta):
    reduction, x, message = game
    scaled = ExactOutputReduction(N, D, C, eta, reduction.codebook, reduction.public_seed)
    return score(bob, scaled, adversary_for(scaled), message, x).accuracy


def test_bounds_are_complementary_and_cross_at_eq16():
    n, eps = 1000, 0.2
    C = threshold_C(n, eps)
    assert delta_bound(C, eps, n) == pytest.approx(0.5)
    assert delta_bound(C * 1.01, eps, n) < Delta_bound(C * 1.01, eps, n)
    assert delta_bound(C * 0.99, eps, n) > Delta_bound(C * 0.99, eps, n)


def test_theorem8_threshold_is_where_the_approximate_gap_opens():
    n, eps, eta = 1000, 0.3, 0.4
    C = threshold_C(n, eps, eta)
    for factor, opens in ((1.001, True), (0.999, False)):
        delta = delta_bound(C * factor, eps, n)
        assert ((1 + eta) * delta < (1 - eta) * (1 - delta)) is opens


def test_paper_C_decodes_all_bits_with_exact_outputs(game, isolated_bob):
    reduction = game[0]
    assert reduction.eps < 0.5
    assert accuracy(game, isolated_bob, paper_C(N, reduction.eps), 0.0) == 1.0


@pytest.mark.parametrize("eta", [0.1, 0.3, 0.6])
def test_approximate_outputs_decode_above_the_exact_threshold(game, isolated_bob, eta):
    C = threshold_C(N, game[0].eps, eta)
    assert accuracy(game, isolated_bob, C * 1.05, eta) == 1.0


# Below the hiding limit the worst (1±η) output hides the bits: tests/test_adversary.py.


def test_decoding_fails_when_the_spike_is_too_weak(game, isolated_bob):
    assert accuracy(game, isolated_bob, 0.1 * math.log(N), 0.0) < 0.9


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: ExactOutputReduction(1, 8), "n"),
        (lambda: ExactOutputReduction(16, 0), "d"),
        (lambda: ExactOutputReduction(16.5, 8), "n"),
        (lambda: ExactOutputReduction(16, 8, C=0.0), "C"),
        (lambda: ExactOutputReduction(16, 8, C=-1.0), "C"),
        (lambda: ExactOutputReduction(16, 8, eta=1.0), "eta"),
        (lambda: ExactOutputReduction(16, 8, eta=-0.1), "eta"),
        (lambda: ExactOutputReduction(16, 8, codebook="hadamard"), "codebook"),
        (lambda: threshold_C(16, 0.5), "eps"),
        (lambda: paper_C(16, 0.0), "eps"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


def test_paper_C_undefined_when_eps_too_large():
    with pytest.raises(ParameterError, match="eps"):
        ExactOutputReduction(512, 8).scale


def test_phase_experiment_finds_the_boundary(isolated_bob):
    result = run_sweep(EXPERIMENTS["phase"], {"log2_n_values": [6, 8], "d_values": [8, 128], "codebook": "normalized",
                                              "trials": 3}, 0, isolated_bob)
    points = {(p["log2_n"], p["d"]): p for p in result["summary"]["points"]}
    assert points[(8, 128)]["success_theorem_C"] is True
    assert points[(8, 8)]["theorem_C"] is None  # eps >= 1/2 at d = 8
    assert points[(8, 128)]["min_C"] < points[(8, 128)]["theorem_C"]
    # one search per trial: the point's min_C is the largest of its 3 draws, which differ (fresh codebooks)
    draws = points[(8, 128)]["min_C_draws"]
    assert len(draws) == 3 == points[(8, 128)]["trials"] and max(draws) == points[(8, 128)]["min_C"]
    assert len(set(draws)) > 1
    text = phase_headline(result["summary"])
    assert "(3 draws) · ln n" in text and "single draw" not in text


@pytest.mark.parametrize("ratio", [0.01, 0.3, 0.5, 0.77, 1.25, 3.0, 9.0])
def test_phase_search_finds_the_same_smallest_C_in_fewer_calls(ratio):
    """search_min_C answers as smallest_working_C over [0.05, 8] ln n (within its 3%), inside or
    outside its starting bracket, and uses fewer evaluations when the answer is inside it."""
    from reductions.spike import smallest_working_C
    from reductions.thm6 import search_min_C

    n = 256
    target = ratio * math.log(n)
    calls = {"new": 0, "old": 0}

    def accuracy(which):
        def at(C):
            calls[which] += 1
            return 1.0 if C >= target else 0.9
        return at

    new, acc_new = search_min_C(accuracy("new"), n)
    old, acc_old = smallest_working_C(accuracy("old"), 0.05 * math.log(n), 8 * math.log(n))
    if ratio > 8:
        assert new is old is None and acc_new is acc_old is None
        return
    assert acc_new == acc_old == 1.0
    assert max(target, 0.05 * math.log(n)) <= new <= max(target, 0.05 * math.log(n)) * 1.03 + 1e-12
    assert old == pytest.approx(new, rel=0.031)
    if 0.5 < ratio <= 1.25:
        assert calls["new"] < calls["old"]


def test_threshold_experiment_curves(isolated_bob):
    config = {"n": 128, "d": 128, "etas": [0.0, 0.3], "c_points": 6, "codebook": "normalized", "trials": 1}
    summary = run_sweep(EXPERIMENTS["threshold"], config, 0, isolated_bob)["summary"]
    for curve in summary["curves"]:
        accuracies = np.array(curve["accuracy"])
        above = np.array(curve["C"]) > curve["theorem_threshold"]
        assert above.any() and np.all(accuracies[above] == 1.0)


def test_the_three_c_sweeps_share_keys_and_counts(isolated_bob):
    """threshold, window and tensor_threshold build their curves with reductions.spike's C sweep."""
    from reductions.thm17 import threshold_curves, threshold_rows

    small = {"d": 64, "etas": [0.0, 0.3], "c_points": 3, "codebook": "normalized", "trials": 1}
    sweeps = [run_sweep(EXPERIMENTS["threshold"], {**small, "n": 32}, 0, isolated_bob)["summary"]["curves"],
              threshold_curves({**small, "n": 32, "W": 8}, threshold_rows({**small, "n": 32, "W": 8}, 0, 0, isolated_bob), 0),
              run_sweep(EXPERIMENTS["tensor_threshold"], {**small, "n": 16}, 0, isolated_bob)["summary"]["curves"]]
    for curves in sweeps:
        for curve in curves:
            assert {"eta", "C", "accuracy", "flipped_accuracy", "hidden_fraction", "correct", "total"} <= set(curve)
            for accuracy, flipped, correct, total in zip(curve["accuracy"], curve["flipped_accuracy"],
                                                         curve["correct"], curve["total"]):
                assert accuracy == correct / total and flipped == 1.0 - accuracy


def test_threshold_reports_eps_and_thresholds_over_the_trials_codebooks(isolated_bob):
    """Each trial has its own public codebook: ε and the exact thresholds are medians with [min, max]
    over the trials, and a unit's rows depend on that unit alone (the grid is fixed by the sweep)."""
    experiment = EXPERIMENTS["threshold"]
    config = {**experiment.presets["quick"].to_dict(), "n": 32, "d": 64, "etas": [0.0, 0.3], "c_points": 3,
              "trials": 3}
    units = experiment.sweep(config, 0)
    assert [u["trial"] for u in units] == [0, 1, 2] and all(u["C"] == units[0]["C"] for u in units)
    result = run_sweep(experiment, config, 0, isolated_bob)
    summary, rows = result["summary"], result["trials"]
    eps = sorted({row["trial"]: row["eps_measured"] for row in rows}.values())
    assert len(set(eps)) == 3
    assert summary["eps_measured"] == eps[1] and summary["eps_interval"] == [eps[0], eps[2]]
    for curve in summary["curves"]:
        low, high = curve["theorem_threshold_interval"]
        assert low < curve["theorem_threshold"] < high
        assert [low, high] == [threshold_C(32, eps[0], curve["eta"]), threshold_C(32, eps[2], curve["eta"])]
        assert curve["total"] == [3 * 32 * 64] * len(curve["C"])
    alone = experiment.measure(config, json.loads(json.dumps(units[1])), 0, isolated_bob)
    assert json.loads(json.dumps(alone)) == [row for row in rows if row["trial"] == 1]


def test_success_probability_range_is_exactly_n_at_least_5():
    """9/10 - 1/n > 2/3 fails at n = 4: the engine must refuse the wider range."""
    import sympy as sp

    from reductions.tactics import ge, gt
    from reductions.tactics import Implies

    n = sp.Symbol("n", positive=True)
    assert not Implies(gt(sp.Rational(9, 10) - 1 / n, sp.Rational(2, 3)), hypotheses=[ge(n, 4)], engine="z3").verify().ok
    assert Implies(gt(sp.Rational(9, 10) - 1 / n, sp.Rational(2, 3)), hypotheses=[ge(n, 5)], engine="z3").verify().ok
