"""HO Theorems 17/26: INDEX on W·d bits through sliding-window attention; eq. 84 printed vs corrected."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.params import ParameterError
from barriers.experiments import EXPERIMENTS
from caches.sliding import Algorithm1Cache, RunningSumWindowCache
from protocols.game import BobRequest, play, score, trial_input
from protocols.runner import run_sweep
from reductions.spike import Delta_bound, delta_bound, threshold_C
from reductions.thm17 import (
    SlidingWindowReduction,
    adversary_for,
    printed_eq84_C,
)

N, W, D = 512, 16, 128


@pytest.fixture(scope="module")
def game(isolated_bob):
    reduction, x = trial_input(SlidingWindowReduction(N, W, D, C=1.0), seed=5, trial=0)
    return reduction, x, isolated_bob.alice(reduction, RunningSumWindowCache(window=W + 1), x)


def accuracy(game, bob, C, eta):
    reduction, x, message = game
    scaled = SlidingWindowReduction(N, W, D, C, eta, reduction.codebook, reduction.public_seed)
    return score(bob, scaled, adversary_for(scaled), message, x).accuracy


def test_alice_stream_is_the_printed_one():
    reduction, x = trial_input(SlidingWindowReduction(40, 6, 32), seed=1, trial=0)
    Q, K, V = reduction.alice_stream(x)
    assert Q.shape == K.shape == V.shape == (40, 32)
    assert not Q.any() and not K[:34].any() and not V[:34].any()
    np.testing.assert_array_equal(K[34:], reduction.keys)
    np.testing.assert_array_equal(V[34:], x)
    queries = reduction.bob_queries(np.array([2]))[0]
    np.testing.assert_allclose(queries[0], reduction.scale * K[36])  # C·f(e_{n-W+i}), i = 3 (1-based)
    assert reduction.attention_window == 7 and reduction.shape == (6, 32)


def test_window_shift_window_w_plus_one_decodes_everything_window_w_loses_row_one(isolated_bob):
    """Bob's token takes a window slot: with window W the oldest bit row is outside at his step."""
    reduction = SlidingWindowReduction(N, W, D)
    right, _ = play(reduction, RunningSumWindowCache(window=W + 1), trials=1, seed=2, bob=isolated_bob)
    assert right["accuracy"] == 1.0
    reduction, x = trial_input(reduction, seed=2, trial=0)
    message = isolated_bob.alice(reduction, RunningSumWindowCache(window=W), x)
    from caches.spec import object_spec

    decoded = isolated_bob.bob(BobRequest(object_spec(RunningSumWindowCache(window=W)), message,
                                          object_spec(reduction), tuple(range(W))))
    per_row = (decoded == x).mean(axis=1)
    assert np.all(per_row[1:] == 1.0)
    assert per_row[0] < 0.8  # row 1 only at chance: its key scored 0 like the zeros


def test_sampling_window_algorithms_decode_at_the_default_C(isolated_bob):
    point, _ = play(SlidingWindowReduction(N, W, D), Algorithm1Cache(window=W + 1, dtype="float16"),
                    trials=1, seed=3, bob=isolated_bob)
    assert point["accuracy"] == 1.0


@pytest.mark.parametrize("eta", [0.1, 0.3, 0.6])
def test_worst_approximation_decodes_above_the_corrected_threshold(game, isolated_bob, eta):
    C = threshold_C(N, game[0].eps, eta)
    assert accuracy(game, isolated_bob, 1.05 * C, eta) == 1.0


# Below the hiding limit the worst (1±η) output hides the bits: tests/test_adversary.py.


def test_exact_outputs_fail_when_the_spike_is_too_weak(game, isolated_bob):
    assert accuracy(game, isolated_bob, 0.1 * math.log(N), 0.0) < 0.9


@pytest.mark.parametrize("eta", [0.1, 0.5, 0.9])
def test_eq84_as_printed_is_too_small(eta):
    n, eps = 1000, 0.2
    printed, corrected = printed_eq84_C(n, eps, eta), threshold_C(n, eps, eta)
    assert printed < corrected
    for C in (printed, 0.5 * (printed + corrected)):  # the gap is still empty
        delta = delta_bound(C, eps, n)
        assert (1 + eta) * delta >= (1 - eta) * Delta_bound(C, eps, n)
    delta = delta_bound(1.001 * corrected, eps, n)
    assert (1 + eta) * delta < (1 - eta) * Delta_bound(1.001 * corrected, eps, n)
    assert printed_eq84_C(n, eps, 0.0) == pytest.approx(threshold_C(n, eps, 0.0))


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: SlidingWindowReduction(64, 1, 32), "W"),
        (lambda: SlidingWindowReduction(8, 16, 32), "n"),
        (lambda: SlidingWindowReduction(64, 8, 0), "d"),
        (lambda: SlidingWindowReduction(64, 8, 32, C=-1.0), "C"),
        (lambda: SlidingWindowReduction(64, 8, 32, eta=1.0), "eta"),
        (lambda: SlidingWindowReduction(64, 8, 4).scale, "eps"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


def test_window_experiment_has_no_point_above_the_frontier(isolated_bob):
    from plots.window import window_figure

    config = {"n": 64, "W": 8, "d": 64, "trials": 1, "codebook": "normalized", "etas": [0.3], "c_points": 3}
    summary = run_sweep(EXPERIMENTS["window"], config, 0, isolated_bob)["summary"]
    for point in summary["points"]:
        assert {"cache", "memory_bits", "bits_encoded", "accuracy", "trials", "fano_max_accuracy"} <= set(point)
        assert point["bits_encoded"] == 8 * 64
        assert point["accuracy_low"] <= point["fano_max_accuracy"] + 1e-12, point["cache"]
    exact = [p for p in summary["points"] if p["role"] == "window algorithm"]
    assert exact and all(p["accuracy"] == 1.0 for p in exact)
    assert len(window_figure(summary).axes) == 2
    assert len(window_figure({"experiment": "window"}).axes) == 2


def test_memory_for_99_percent_grows_with_W_not_n(isolated_bob):
    from plots.window import window_memory_figure

    config = {"n_values": [64, 256], "W_fixed": 8, "W_values": [4, 8], "n_fixed": 128, "d": 64, "trials": 1,
              "codebook": "normalized", "target": 0.99}
    summary = run_sweep(EXPERIMENTS["window_memory"], config, 0, isolated_bob)["summary"]

    def needed(sweep, family):
        return {(p["n"], p["W"]): p["memory_bits"] for p in summary["points"]
                if p["sweep"] == sweep and p["family"] == family and p["reached"]}

    running = needed("n", "RunningSumWindowCache")
    assert running[(64, 8)] == running[(256, 8)]  # flat in n
    exact = needed("n", "ExactCache")
    assert exact[(256, 8)] > 3 * exact[(64, 8)]  # the generic cache grows with n
    by_w = needed("W", "RunningSumWindowCache")
    assert by_w[(128, 8)] > by_w[(128, 4)]
    for p in summary["points"]:
        assert p["memory_bits"] >= summary["fano_min_ratio"] * p["W"] * p["d"] or not p["reached"]
    assert len(window_memory_figure(summary).axes) == 2
    assert len(window_memory_figure({"experiment": "window_memory"}).axes) == 2
