"""HO Algorithm 2 (lazy Gumbel sampling): exact samples of the softmax at O(k + n/k) reads.

Statistical tests use fixed seeds; each states its false-alarm rate (the probability that a correct
sampler fails it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.attention import softmax
from caches.lazy_gumbel import lazy_gumbel, sample_softmax, tail_probability, top_k, truncated_gumbel
from caches.params import ParameterError
from protocols.stats import fit_slope
from reductions.appE import GUMBEL_PRESETS, chi_square_test, score_family

ALPHA = 1e-3  # false-alarm rate of each chi-square test


@pytest.mark.parametrize("family", ["gaussian", "heavy", "flat", "spike"])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_samples_follow_the_softmax(family, k):
    """Chi-square goodness of fit, 20000 draws over n = 40 cells; false alarm 1e-3 per case.

    Two heavy-tailed score draws put all but < 5 expected draws on one cell: no chi-square test
    exists there, and the test checks that it says so instead of passing vacuously.
    """
    n = 40
    rng = np.random.default_rng([2024, k, len(family)])
    scores = score_family(family, n, rng)
    draws = sample_softmax(scores[None], k, rng, samples=20000)
    counts = np.bincount(draws.index.reshape(-1), minlength=n)
    test = chi_square_test(counts, softmax(scores))
    if (family, k) in {("heavy", 1), ("heavy", 40)}:
        assert not test["testable"] and test["p_value"] is None
    else:
        assert test["p_value"] >= ALPHA


def test_vectorized_rows_are_independent_problems():
    """Many rows at once, each with its own scores: every row's samples fit its own softmax."""
    rng = np.random.default_rng(7)
    scores = 1.5 * rng.standard_normal((6, 30))
    draws = sample_softmax(scores, 4, rng, samples=12000)
    for r in range(6):
        counts = np.bincount(draws.index[r], minlength=30)
        # Bonferroni over 6 rows: total false-alarm rate 1e-3.
        assert chi_square_test(counts, softmax(scores[r]))["p_value"] >= ALPHA / 6


def test_the_tail_is_needed_and_slack_repairs_an_approximate_top_k():
    """A top set that misses a larger score is wrong without slack (detected) and right with it."""
    n = 40
    rng = np.random.default_rng(3)
    z = rng.standard_normal(n)
    order = np.argsort(z)[::-1]
    top = order[[0, 1, 3, 4, 6]]  # rank 2 is left in the tail: the top-5 is off by c
    c = z[order[2]] - z[order[6]]
    p = softmax(z)

    def draws(slack):
        d = lazy_gumbel(top[None], z[top][None], n - 5, lambda r, ids: z[ids], rng, samples=40000, slack=slack)
        return chi_square_test(np.bincount(d.index.reshape(-1), minlength=n), p)["p_value"]

    assert draws(c) >= ALPHA
    assert draws(0.0) < 1e-6  # the sampler without slack is detectably wrong


def test_ignoring_the_tail_is_detected():
    """The same test rejects the top-k-only sampler (no tail draws): the chi-square test has power."""
    n, k = 40, 5
    rng = np.random.default_rng(4)
    z = rng.standard_normal(n)
    index, top = top_k(z[None], k)
    d = lazy_gumbel(index, top, 0, lambda r, ids: z[ids], rng, samples=20000)  # tail size 0: wrong
    counts = np.bincount(d.index.reshape(-1), minlength=n)
    assert chi_square_test(counts, softmax(z))["p_value"] < 1e-6


def test_one_cell_distributions_are_not_testable_never_passes():
    """All mass on one cell (after pooling cells of expected count < 5): no test, not p = 1."""
    from reductions.appE import chi_square_status

    p = np.r_[1 - 1e-9, np.full(9, 1e-10)]
    counts = np.r_[20000, np.zeros(9)]
    test = chi_square_test(counts, p)
    assert not test["testable"] and test["p_value"] is None and test["cells"] == 1
    assert chi_square_status(test, ALPHA) == "not testable"
    assert not chi_square_test(np.ones(4), np.full(4, 0.25))["testable"]  # too few draws: 4 cells of 1
    wrong = np.r_[0, np.full(9, 20000 / 9)]  # even a badly wrong histogram is untestable here
    assert chi_square_status(chi_square_test(wrong, p), ALPHA) == "not testable"
    two = chi_square_test(np.r_[19990, 10, np.zeros(8)], np.r_[0.9995, 0.0005, np.zeros(8)])
    assert two["testable"] and two["cells"] == 2 and two["dof"] == 1  # 2 cells of expected >= 5


def test_a_wrong_sampler_fails_and_a_right_one_passes():
    """Sampling softmax(1.3 z) instead of softmax(z) fails at 1e-3; the lazy sampler passes (false alarm 1e-3)."""
    from reductions.appE import chi_square_status

    n = 40
    rng = np.random.default_rng(12)
    z = score_family("gaussian", n, rng)
    wrong = np.bincount(rng.choice(n, 20000, p=softmax(1.3 * z)), minlength=n)
    assert chi_square_status(chi_square_test(wrong, softmax(z)), ALPHA) == "failed"
    right = np.bincount(sample_softmax(z[None], 4, rng, samples=20000).index.reshape(-1), minlength=n)
    assert chi_square_status(chi_square_test(right, softmax(z)), ALPHA) == "passed"


def test_gumbel_experiment_reports_untestable_rows_apart():
    """Seed 5's heavy-tailed scores at n = 32 put all 400 draws' expected mass on one cell."""
    from barriers.experiments import EXPERIMENTS
    from plots.scalar import gumbel_figure
    from protocols.runner import run_sweep

    config = {"n": 32, "k_values": [2], "families": ["gaussian", "heavy"], "draws": 400, "alpha": ALPHA,
              "tail_n_values": [64], "tail_draws": 100, "cost_n_values": [64, 256], "cost_draws": 100}
    summary = run_sweep(EXPERIMENTS["gumbel"], config, 5, None)["summary"]
    status = {p["family"]: p["status"] for p in summary["points"]}
    assert status == {"gaussian": "passed", "heavy": "not testable"}  # false alarm 1e-3
    assert [p["passed"] for p in summary["points"]] == [True, False]
    assert summary["chi_square_counts"] == {"passed": 1, "failed": 0, "not testable": 1}
    assert summary["all_passed"]  # the testable row passed; the untestable one is not a failure
    fig = gumbel_figure(summary)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "heavy, k=2 (not testable)" in labels
    assert "1/2 pass, 1 not testable" in fig.axes[0].get_title()


def test_truncated_gumbel_matches_the_conditional_law():
    """Empirical CDF of G | G > B against (F(x) - F(B))/(1 - F(B)); Kolmogorov band at 1e-3."""
    rng = np.random.default_rng(5)
    for B in (-1.0, 0.5, 3.0, 12.0):
        g = truncated_gumbel(rng, np.full(20000, B))
        assert g.min() > B
        xs = np.quantile(g, [0.1, 0.3, 0.5, 0.7, 0.9])
        # (F(x) - F(B)) / (1 - F(B)) with F(t) = exp(-e^{-t}), written without cancellation
        conditional = np.exp(-np.exp(-B)) * np.expm1(np.exp(-B) - np.exp(-xs)) / tail_probability(B)
        band = 1.95 / math.sqrt(20000)  # Kolmogorov-Smirnov critical value at 1e-3
        assert np.max(np.abs(conditional - [0.1, 0.3, 0.5, 0.7, 0.9])) < band


def test_expected_tail_size_is_below_n_over_k():
    """Measured E|T| <= (n-k)/k (Gumbel-scored) and = (n-k)/(k+1) for equal scores, within 4 SE."""
    rng = np.random.default_rng(6)
    n = 4096
    for k in (8, 64, 256):
        for family in ("gaussian", "flat"):
            scores = score_family(family, n, rng)
            d = sample_softmax(scores[None], k, rng, samples=3000)
            mean, se = d.tail_count.mean(), d.tail_count.std() / math.sqrt(3000)
            assert mean <= (n - k) / k + 4 * se
            if family == "flat":
                assert abs(mean - (n - k) / (k + 1)) <= 4 * se


def test_cost_grows_as_sqrt_n_at_k_sqrt_n():
    """Reads per sample at k = sqrt(n): fitted log-log slope in [0.4, 0.6] (the claim is 1/2)."""
    rng = np.random.default_rng(8)
    ns = [256, 1024, 4096, 16384, 65536]
    reads = []
    for n in ns:
        d = sample_softmax(np.zeros((1, n)), math.isqrt(n), rng, samples=400)
        reads.append(d.reads_per_draw.mean())
        assert d.distinct_reads[0] <= n
    assert 0.4 <= fit_slope(ns, reads) <= 0.6


def test_distinct_reads_count_every_score_once():
    rng = np.random.default_rng(9)
    d = sample_softmax(np.zeros((1, 64)), 2, rng, samples=5000)
    assert d.distinct_reads[0] == 64  # after thousands of flat draws every score has been read once


def test_bad_arguments_are_parameter_errors():
    with pytest.raises(ParameterError, match="samples"):
        sample_softmax(np.zeros((1, 8)), 2, np.random.default_rng(0), samples=0)
    with pytest.raises(ParameterError, match="k"):
        top_k(np.zeros((1, 8)), 9)
    quick = GUMBEL_PRESETS["quick"]
    for overrides, name in (({"k_values": [1, 65]}, "k_values"), ({"families": ["cauchy"]}, "families"),
                            ({"alpha": 1.0}, "alpha"), ({"draws": 99}, "draws")):
        with pytest.raises(ParameterError, match=name):
            quick.with_overrides(overrides)


def test_gumbel_experiment_quick_shape():
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import run_sweep

    config = {"n": 32, "k_values": [1, 4], "families": ["gaussian", "flat"], "draws": 4000, "alpha": ALPHA,
              "tail_n_values": [64, 256], "tail_draws": 200, "cost_n_values": [64, 256, 1024], "cost_draws": 200}
    assert len(EXPERIMENTS["gumbel"].sweep(config, 0)) == 2 * 2 + 2 * 4 * 2 + 3 * 2  # chi-square, tail, cost units
    summary = run_sweep(EXPERIMENTS["gumbel"], config, 0, None)["summary"]
    assert summary["all_passed"]  # 4 tests at 1e-3 each: false alarm < 0.4%
    assert len(summary["points"]) == 4
    assert 0.35 <= summary["cost_slope"]["flat"] <= 0.65

