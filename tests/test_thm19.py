"""HO Theorem 19/27: non-adaptive readers fail on H(i) vs σ unless they read Ω(n) scores; adaptive
ones (a maximum-inner-product index) succeed on the same instances with O(sqrt(n)) reads."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.params import ParameterError
from reductions.thm19 import (
    ADAPTIVE_PRESETS,
    NONADAPTIVE_PRESETS,
    ScoreOracle,
    best_constant_answer,
    build_index,
    expected_H,
    expected_sigma,
    instance_H,
    instance_sigma,
    knn_sampling_estimate,
    knn_tail_estimate,
    nonadaptive_estimate,
    read_pattern,
    separation_eta,
    within,
)

N, D, ETA = 1024, 4, 0.2


def test_instances_have_the_printed_facts():
    n = N
    h = instance_H(n, D, 5)
    weights = np.exp(h.keys @ h.query - (h.keys @ h.query).max())
    weights /= weights.sum()
    assert weights[5] == pytest.approx(1 - 1 / n, rel=1e-12)  # eq. 91
    np.testing.assert_allclose(instance_sigma(n, D).output(), expected_sigma(n), rtol=1e-12)  # eq. 96
    np.testing.assert_allclose(h.output(), expected_H(n, False), rtol=1e-12)  # eqs. 97-99, first group
    np.testing.assert_allclose(instance_H(n, D, n - 1).output(), expected_H(n, True), rtol=1e-12)
    assert expected_sigma(n) / expected_H(n, False) < 2  # the printed "factor >= 2" fails [sic]
    with pytest.raises(ParameterError, match="perfect square"):
        instance_sigma(1000, D)
    for presets in (NONADAPTIVE_PRESETS, ADAPTIVE_PRESETS):
        with pytest.raises(ParameterError, match="n_values.*perfect square"):
            presets["quick"].with_overrides({"n_values": [256, 1000]})


def test_reading_the_spike_is_the_only_way_to_tell():
    """Same reads give the same answer: unless the pattern contains i, H(i) and σ are indistinguishable."""
    sigma, h = instance_sigma(N, D), instance_H(N, D, 100)
    value_sum = sigma.values.sum(axis=0)
    miss = np.arange(0, 100)
    for estimator in ("baseline", "ratio"):
        a = nonadaptive_estimate(ScoreOracle(sigma), miss, 0.1, sigma.values, value_sum, estimator)
        b = nonadaptive_estimate(ScoreOracle(h), miss, 0.1, h.values, value_sum, estimator)
        np.testing.assert_array_equal(a, b)
    hit = np.arange(50, 150)
    answer = nonadaptive_estimate(ScoreOracle(h), hit, 1.0, h.values, value_sum, "baseline")
    assert within(answer, h.output(), ETA)


def test_nonadaptive_success_is_bounded_by_s_over_n():
    """Uniform reader with the baseline estimator, 400 trials: P(success on H(i)) within a 99.9%
    binomial band of s/n, and P(success on σ) + P(success on H(i)) <= 1 + s/n + 3 SE."""
    rng = np.random.default_rng(0)
    sigma = instance_sigma(N, D)
    value_sum = sigma.values.sum(axis=0)
    exact_sigma = sigma.output()
    for s in (32, 256, 768):
        hits = hits_sigma = 0
        trials = 400
        for _ in range(trials):
            positions, inclusion = read_pattern("uniform", N, s, rng)  # fixed before the instance
            i = int(rng.integers(N))
            h = instance_H(N, D, i)
            hits += within(nonadaptive_estimate(ScoreOracle(h), positions, inclusion, h.values, value_sum,
                                                "baseline"), h.output(), ETA)
            hits_sigma += within(nonadaptive_estimate(ScoreOracle(sigma), positions, inclusion, sigma.values,
                                                      value_sum, "baseline"), exact_sigma, ETA)
        p = s / N
        band = 3.3 * math.sqrt(p * (1 - p) / trials)
        assert abs(hits / trials - p) <= band
        assert (hits + hits_sigma) / trials <= 1 + p + band


@pytest.mark.parametrize("kind", ["uniform", "strided", "recent"])
def test_reads_are_counted_and_fixed_in_advance(kind):
    rng = np.random.default_rng(1)
    positions, _ = read_pattern(kind, N, 100, rng)
    assert positions.size == 100 and np.unique(positions).size == 100
    oracle = ScoreOracle(instance_sigma(N, D))
    nonadaptive_estimate(oracle, positions, 0.1, oracle.instance.values, oracle.instance.values.sum(axis=0), "ratio")
    assert oracle.reads == 100


def test_adaptive_index_succeeds_on_both_families_with_sqrt_n_reads():
    """kNN + tail: exact on H(i) and σ with 2·sqrt(n) reads; kNN sampling finds i in sqrt(n) reads."""
    k = math.isqrt(N)
    sigma = instance_sigma(N, D)
    value_sum = sigma.values.sum(axis=0)
    rng = np.random.default_rng(2)
    for i in list(rng.integers(N, size=20)) + [N - 1]:
        h = instance_H(N, D, int(i))
        for inst in (h, sigma):
            est, reads = knn_tail_estimate(inst, build_index(inst), rng, k=k, tail_samples=k, value_sum=value_sum)
            assert within(est, inst.output(), ETA) and reads == 2 * k
        est, reads = knn_sampling_estimate(h, build_index(h), rng, k=k, samples=16, groups=5)
        assert within(est, h.output(), ETA) and reads <= k + 5


def test_knn_sampling_struggles_on_sigma_because_values_are_heavy():
    """On σ, 80 exact samples are not enough for a (1±0.2) answer (Var/E^2 ≈ sqrt(n)/4), and they
    already cost most of the n scores: adaptivity alone does not make σ cheap."""
    sigma = instance_sigma(N, D)
    rng = np.random.default_rng(3)
    results = [knn_sampling_estimate(sigma, build_index(sigma), rng, k=32, samples=16, groups=5) for _ in range(20)]
    assert sum(within(e, sigma.output(), ETA) for e, _ in results) <= 10
    assert np.mean([r for _, r in results]) > N / 2


def test_constant_answer_succeeds_without_reads_above_eta_star():
    """The corrected condition in action: at η above η*(n) a zero-read answer fits σ and most H(i)."""
    n = 4096
    star = separation_eta(n)
    assert 0.32 < star < 1 / 3
    assert best_constant_answer(n, star - 0.01) is None
    x = best_constant_answer(n, star + 0.01)
    assert x is not None
    for inst in (instance_sigma(n, D), instance_H(n, D, 0)):
        assert within(np.full(D, x), inst.output(), star + 0.01)


@pytest.mark.parametrize("n", [4, 9, 16, 100, 1024, 4096])
def test_separation_eta_has_the_certified_closed_form(n):
    """η*(n) of the experiment is min(η1, η2) of the certificate; η2 binds only at n = 4."""
    root = math.isqrt(n)
    eta1 = (n - 2) / (root * (3 * root + 2))
    eta2 = (root - 1) * (n - 2) / (n * (root + 3))
    assert separation_eta(n) == pytest.approx(min(eta1, eta2), rel=1e-12)
    assert (eta2 < eta1) == (n == 4)


def test_separation_certificate_is_not_vacuous():
    """Just above η1 the hypotheses of the separation certificate are satisfiable: z3 must not prove it."""
    import sympy as sp

    from reductions.tactics import Implies
    from reductions.thm19 import _approximates, _eta_closed, _sym_expectations

    s = sp.Integer(10)
    _, first, _, sigma = _sym_expectations(s)
    eta, x = sp.Symbol("eta", positive=True), sp.Symbol("x", real=True)
    above = _eta_closed(s)[0] + sp.Rational(1, 1000)
    goal = Implies(sp.false, [*_approximates(x, first, eta), *_approximates(x, sigma, eta), eta < above], engine="z3")
    assert not goal.verify().ok


def test_experiments_run_and_adaptive_reads_scale_as_sqrt_n():
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import run_sweep

    config = {"n_values": [256], "d": 2, "eta": ETA, "trials": 40, "fractions": [0.125, 0.5, 1.0],
              "constant_etas": [0.2, 0.4]}
    assert len(EXPERIMENTS["nonadaptive"].sweep(config, 0)) == 1 * 3 * 2 * 3  # n x reader x estimator x s/n
    summary = run_sweep(EXPERIMENTS["nonadaptive"], config, 0, None)["summary"]
    for p in summary["points"]:
        if p["estimator"] == "baseline":
            assert p["success_sigma"] == 1.0
    config = {"n_values": [256, 1024, 4096, 16384], "d": 2, "eta": ETA, "trials": 5, "samples": 4, "groups": 3}
    assert len(EXPERIMENTS["adaptive"].sweep(config, 0)) == 4 * 2 * 5  # n x method x trial
    summary = run_sweep(EXPERIMENTS["adaptive"], config, 0, None)["summary"]
    tail = [r for r in summary["adaptive"] if r["method"] == "knn+tail"]
    assert all(r["success_H"] == 1.0 and r["success_sigma"] == 1.0 for r in tail)
    assert 0.45 <= summary["slopes"]["knn+tail"] <= 0.55  # 2·sqrt(n) reads: slope 1/2
