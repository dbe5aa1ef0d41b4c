"""HO Corollary 9 / Theorem 1 in low dimension: codebooks, the bounded-norm reduction, its capacity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.exact import ExactCache
from caches.params import ParameterError
from protocols.game import trial_input
from reductions.codes import (
    coherence,
    lemma3_log_capacity,
    make_code,
    max_inner_product,
    welch_bound,
)
from caches.adversary import AdversarialApproximation
from reductions.cor9 import (
    COR9_PRESETS,
    BoundedNormReduction,
    Cor9Config,
    capacity_search,
    cor9_sweep,
    fit_exponent,
    random_code_exponent,
    game_accuracy,
    worst_case_cap,
)

# --- codebooks --------------------------------------------------------------------------------


def test_codebooks_lie_in_the_unit_ball_and_packing_beats_random():
    for kind in ("random", "packed"):
        keys = make_code(kind, 64, 8, [1], beta=8.0)
        np.testing.assert_allclose(np.linalg.norm(keys, axis=1), 1.0, rtol=1e-12)
    gaussian = make_code("gaussian", 64, 8, [1])
    assert np.linalg.norm(gaussian, axis=1).max() == pytest.approx(1.0)
    random, packed = make_code("random", 64, 8, [1]), make_code("packed", 64, 8, [1], beta=8.0)
    assert max_inner_product(packed) < 0.6 < max_inner_product(random)
    np.testing.assert_array_equal(packed, make_code("packed", 64, 8, [1], beta=8.0))  # seeded, deterministic
    for keys in (random, packed, gaussian):
        assert coherence(keys) >= welch_bound(64, 8)


def test_lemma3_promises_fewer_than_two_keys_up_to_d_66():
    """HO Lemma 3 in d dimensions: ln n' <= d (ε²-ε³)/12 < d/96, vacuous for the d the suite measures."""
    for d in (2, 8, 24, 66):
        assert lemma3_log_capacity(d, r=10.0 * d) < math.log(2)
    assert lemma3_log_capacity(67, r=1000.0) > math.log(2) * 0.99
    assert lemma3_log_capacity(24, 12.0, "corrected") < lemma3_log_capacity(24, 12.0, "printed")


def test_welch_bound_values():
    assert welch_bound(4, 4) == 0.0
    assert welch_bound(3, 2) == pytest.approx(0.5)  # three lines at 60 degrees attain it
    angles = np.array([0, np.pi / 3, 2 * np.pi / 3])
    assert coherence(np.c_[np.cos(angles), np.sin(angles)]) == pytest.approx(0.5)


# --- the reduction ----------------------------------------------------------------------------


def test_queries_have_norm_r_and_rows_are_recovered():
    reduction = BoundedNormReduction(40, 6, r=3.0, codebook="gaussian", public_seed=5)
    Q, K, V = reduction.bob_queries(np.arange(40))
    np.testing.assert_allclose(np.linalg.norm(Q, axis=1), 3.0)
    assert not K.any() and not V.any()
    np.testing.assert_array_equal(reduction.rows_of(Q), np.arange(40))
    spike, rest = reduction.weights(np.arange(40))
    assert np.all((spike > 0) & (rest > 0) & (spike + rest < 1))  # Bob's own zero key keeps some weight


def test_worst_approximation_is_a_valid_one_plus_minus_eta_approximation():
    reduction, x = trial_input(BoundedNormReduction(50, 6, 3.0, eta=0.2, codebook="packed"), 0, 0)
    exact = ExactCache()
    exact.extend(*reduction.alice_stream(x))
    worst = AdversarialApproximation(exact, reduction.eta, reduction)
    queries = reduction.bob_queries(np.arange(50))
    truth, moved = exact.probe(*queries), worst.probe(*queries)
    assert np.all(np.abs(moved - truth) <= 0.2 * np.abs(truth) + 1e-15)
    assert np.any(moved != truth)
    assert worst.to_bytes() == exact.to_bytes()
    # per-row thresholds: a coordinate whose interval contains its row's threshold is output as it
    tau = reduction.thresholds(np.arange(50))[:, None]
    inside = np.abs(truth - tau) <= 0.2 * np.abs(truth)
    assert inside.any() and np.all(moved[inside] == np.broadcast_to(tau, truth.shape)[inside])
    assert np.all(np.abs(moved - tau)[~inside] < np.abs(truth - tau)[~inside])


def test_no_codebook_has_a_worst_case_gap_above_the_cap():
    """Certificate 'bounded query norm caps the reduction', checked on real codebooks."""
    r, eta = 1.5, 0.1
    n = int(2 * worst_case_cap(r, eta))
    for kind in ("random", "packed"):  # the unit-ball codebooks (Gaussian keys have median norm 1)
        spike, rest = BoundedNormReduction(n, 16, r, eta, kind).weights(np.arange(n))
        assert np.all((1 + eta) * rest >= (1 - eta) * spike)


@pytest.mark.parametrize("eta", [0.0, 0.1])
def test_decoding_succeeds_below_capacity_and_fails_well_above(isolated_bob, eta):
    d, r = 8, 4.0
    found = capacity_search(d, r, eta, "packed", seed=3, bob=isolated_bob, grid_ratio=1.25, max_n=1024)
    capacity = found["capacity"]
    assert not found["censored"] and 16 <= capacity <= 300  # measured 57 (η = 0.1) and 89 (η = 0) here
    below, _ = game_accuracy(BoundedNormReduction(capacity // 2, d, r, eta, "packed"), 3, 1, isolated_bob)
    above, _ = game_accuracy(BoundedNormReduction(4 * capacity, d, r, eta, "packed"), 3, 1, isolated_bob)
    assert below >= 0.99
    assert above < 0.9


def test_fixed_query_norm_saturates(isolated_bob):
    """At r = 1.5 the guarantee stops at 1 + e^3 ≈ 21 keys and typical decoding near e^{4r}/7 ≈ 60:
    adding dimensions cannot help, so decoding fails at 200 keys even in d = 24."""
    accuracy, _ = game_accuracy(BoundedNormReduction(200, 24, 1.5, 0.0, "packed"), 0, 0, isolated_bob)
    assert accuracy < 0.95
    accuracy, _ = game_accuracy(BoundedNormReduction(200, 24, 12.0, 0.0, "packed"), 0, 0, isolated_bob)
    assert accuracy >= 0.99  # the same keys at r = d/2 decode


def test_fit_exponent_recovers_a_slope():
    ds = [2, 4, 6, 8]
    fit = fit_exponent(ds, [round(math.exp(0.5 * d + 0.3)) for d in ds])
    assert fit["c"] == pytest.approx(0.5, abs=0.02)
    assert fit_exponent([2, 4], [3, 9], censored=[False, True]) is None
    noisy = fit_exponent(ds * 2, [3, 7, 20, 55, 2, 8, 19, 60], groups=[0] * 4 + [1] * 4, seed=1)
    assert noisy["c_low"] <= noisy["c"] <= noisy["c_high"] and 0.9 < noisy["r2"] < 1.0


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: BoundedNormReduction(8, 2, r=0.0), "r"),
        (lambda: BoundedNormReduction(8, 0, r=1.0), "d"),
        (lambda: BoundedNormReduction(8, 2, r=1.0, eta=1.0), "eta"),
        (lambda: BoundedNormReduction(8, 2, r=1.0, codebook="hadamard"), "codebook"),
        (lambda: make_code("packed", 1, 2, 0), "n"),
        (lambda: Cor9Config(**{**_small_config(), "r_per_d": -1}), "r_per_d"),
        (lambda: Cor9Config(**{**_small_config(), "r_over_d": [0.5, -1.0]}), "r_over_d"),
        (lambda: Cor9Config(**{**_small_config(), "r_over_d": [0.5, 0.5]}), "r_over_d"),
        (lambda: Cor9Config(**{**_small_config(), "subgen": {"delta": 0.5}}), "subgen"),
        (lambda: COR9_PRESETS["quick"].with_overrides({"subgen": {"delta": -1.0, "t": 8, "s": 32}}), "delta"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


def _small_config() -> dict:
    return {
        "d_values": [2, 4, 6], "r_per_d": 0.5, "r_over_d": [0.5], "etas": [0.1], "codebooks": ["random", "packed"], "r_fixed": [1.5],
        "trials": 1, "grid_ratio": 1.3, "max_n": 128, "coherence_d": 4, "coherence_n": [8, 16],
        "theorem1_d": [2], "theorem1_log2_n": [2, 6, 10], "subgen": {"delta": 0.5, "t": 4, "s": 8},
    }


def test_gaussian_keys_have_median_norm_one():
    keys = BoundedNormReduction(101, 6, 3.0, codebook="gaussian", public_seed=2).keys
    norms = np.linalg.norm(keys, axis=1)
    assert np.median(norms) == pytest.approx(1.0) and norms.max() > 1.0
    directions = BoundedNormReduction(101, 6, 3.0, codebook="random", public_seed=2).keys
    np.testing.assert_allclose(keys / norms[:, None], directions)  # the same rows as "random"


def test_cor9_units_are_searches_and_independent(isolated_bob):
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import measure_unit

    config = {**COR9_PRESETS["quick"].to_dict(), **_small_config(), "trials": 2, "r_over_d": [0.25, 1.0],
              "r_over_d_codebooks": ["random", "packed"]}
    units = cor9_sweep(config, 0)
    # (2 codebooks x (2 regimes at r/d = 1/2 + exact at r/d = 1/4 and 1) + 1 fixed r) x 3 d x 2 trials
    # searches, the coherence unit, 1 Theorem 1 unit
    assert len(units) == (2 * (2 + 2) + 1) * 3 * 2 + 1 + 1
    searches = [u for u in units if u["part"] == "capacity"]
    assert sorted({u["r_over_d"] for u in searches}) == [0.25, 0.5, 1.0]
    assert {u["eta"] for u in searches if u["r_over_d"] != 0.5} == {0.0}
    # the r/d sweep's codebooks and d: random only at the reference r/d, the sweep up to d = 4
    narrow = cor9_sweep({**config, "r_over_d_codebooks": ["packed"], "r_over_d_d_max": 4}, 0)
    swept = {(u["codebook"], u["d"]) for u in narrow if u["part"] == "capacity" and u["r_over_d"] != 0.5}
    assert swept == {("packed", 2), ("packed", 4)}
    assert len(narrow) == len(units) - (3 * 2 + 2 * 1) * 2  # 2 extra r/d x (3 random + 1 packed d) x 2 trials
    unit = {"part": "capacity", "codebook": "random", "r_over_d": 0.5, "eta": 0.1, "d": 4, "trial": 1}
    first = measure_unit(EXPERIMENTS["cor9"], config, unit, 0, isolated_bob)
    measure_unit(EXPERIMENTS["cor9"], config, {**unit, "trial": 0}, 0, isolated_bob)
    assert measure_unit(EXPERIMENTS["cor9"], config, unit, 0, isolated_bob) == first
    assert all(row["decoded"] for row in first if row["n"] <= max(r["n"] for r in first if r["decoded"]))
    assert {(row["r_over_d"], row["r"]) for row in first} == {(0.5, 2.0)}


def test_random_code_exponent_increases_below_the_ceiling():
    values = [random_code_exponent(rho) for rho in (0.05, 0.25, 0.5, 1.0, 4.0)]
    assert values == sorted(values) and all(c < 2 * rho for c, rho in zip(values, (0.05, 0.25, 0.5, 1.0, 4.0)))
    assert random_code_exponent(0.01) == pytest.approx(2 * 0.01 - 2 * 0.01**2, rel=1e-3)
    assert random_code_exponent(0.5) == pytest.approx(0.623, abs=1e-3)


def test_cor9_capacity_grows_with_r_over_d(isolated_bob):
    """The packed code at the largest d holds more keys at a larger r/d, every trial of the smaller r/d
    below every trial of the larger one (median and [min, max] over 3 trials separated)."""
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import run_sweep

    config = {**_small_config(), "d_values": [4, 8], "codebooks": ["packed"], "r_over_d": [0.25, 0.5, 1.0],
              "r_over_d_codebooks": ["packed"], "r_over_d_d_max": 8, "trials": 3, "max_n": 256}
    summary = run_sweep(EXPERIMENTS["cor9"], config, 0, isolated_bob)["summary"]
    sweep = sorted(summary["r_sweep"]["series"], key=lambda s: s["r_over_d"])
    assert [s["r_over_d"] for s in sweep] == [0.25, 0.5, 1.0] and {s["d_max"] for s in sweep} == {8}
    for smaller, larger in zip(sweep, sweep[1:]):
        assert smaller["capacity_high_at_d_max"] < larger["capacity_low_at_d_max"], (smaller, larger)
    assert not sweep[0]["censored_at_d_max"]  # a censored point would only be a lower bound
    assert summary["r_sweep"]["ceiling_c"] == [0.5, 1.0, 2.0]


def test_cor9_experiment_and_figure(isolated_bob):
    from barriers.experiments import EXPERIMENTS
    from plots.lowdim import cor9_figure
    from protocols.runner import run_sweep

    summary = run_sweep(EXPERIMENTS["cor9"], {**_small_config(), "trials": 2}, 0, isolated_bob)["summary"]
    packed = [s for s in summary["series"] if s["codebook"] == "packed"]
    assert all(s["fit"] is not None and s["fit"]["c"] > 0 for s in packed)
    fit = packed[0]["fit"]
    assert fit["c_low"] <= fit["c"] <= fit["c_high"] and 0.0 <= fit["r2"] <= 1.0 and fit["points"] == 6
    assert all(low <= n <= high for s in packed for low, n, high in zip(s["capacity_low"], s["capacity"], s["capacity_high"]))
    assert "Wilson" in summary["note"] and summary["trials"] == 2
    exact, approx = (next(s for s in packed if s["eta"] == e) for e in (0.0, 0.1))
    assert sum(approx["capacity"]) <= sum(exact["capacity"])  # the worst (1±η) outputs cost capacity
    assert summary["lemma3"]["c"] < 0.02 < packed[0]["fit"]["c"]
    for point in summary["points"]:
        assert {"cache", "memory_bits", "bits_encoded", "accuracy", "trials", "fano_max_accuracy"} <= set(point)
    curve = summary["theorem1"]["curves"][0]
    assert curve["subgen_bits"][-1] < curve["exact_bits"][-1]
    fig = cor9_figure(summary)
    assert len(fig.axes) == 6 and all(ax.get_title() and ax.get_xlabel() for ax in fig.axes)
    assert len(cor9_figure({}).axes) == 6  # robust to a missing summary
    assert fit["d_min"] == 2 and fit["d_max"] == 6  # fit lines span the fitted d only
