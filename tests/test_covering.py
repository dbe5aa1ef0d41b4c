"""HO Lemmas 13-14 (covering numbers, clusterability) and the certificates of the low-dimensional results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.params import ParameterError
from reductions.covering import (
    LEMMA14_PRINTED_DELTA,
    CoveringConfig,
    ball_sample,
    cluster_diameters,
    corrected_clusters,
    greedy_net,
    lemma13_bound,
    packing_bound,
    volume_lower_bound,
)


@pytest.mark.parametrize("d, delta", [(1, 0.25), (2, 0.5), (3, 0.5), (4, 1.0)])
def test_greedy_nets_respect_lemma13(d, delta):
    points = ball_sample(4000, d, [1, d])
    centres, labels = greedy_net(points, delta)
    assert np.linalg.norm(points - centres[labels], axis=1).max() <= delta + 1e-12  # covers the sample
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2) + 9 * np.eye(len(centres))
    assert gaps.min() > delta  # separated, hence bounded by volume
    assert len(centres) <= packing_bound(d, delta) <= lemma13_bound(d, delta)


def test_dense_nets_exceed_the_volume_lower_bound():
    """A δ-cover of the whole ball needs (1/δ)^d balls; a dense sample's net gets there."""
    for d, delta in ((2, 0.25), (3, 0.5)):
        centres, _ = greedy_net(ball_sample(20000, d, [2, d]), delta)
        assert len(centres) >= volume_lower_bound(d, delta)


def test_lemma14_printed_radius_breaks_the_diameter_and_corrected_radius_keeps_it():
    for d in (2, 3):
        points = ball_sample(3000, d, [3, d])
        _, labels = greedy_net(points, LEMMA14_PRINTED_DELTA)
        assert cluster_diameters(points, labels).max() > LEMMA14_PRINTED_DELTA  # [sic] in HO Lemma 14
        centres, labels = greedy_net(points, LEMMA14_PRINTED_DELTA / 2)
        assert cluster_diameters(points, labels).max() <= LEMMA14_PRINTED_DELTA
        assert len(centres) <= corrected_clusters(d, LEMMA14_PRINTED_DELTA)
    assert corrected_clusters(2, LEMMA14_PRINTED_DELTA) == math.ceil((18 / math.e) ** 2)


def test_cluster_diameters():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_allclose(cluster_diameters(points, np.array([0, 0, 1])), [5.0, 0.0])
    assert cluster_diameters(np.zeros((0, 2)), np.array([], dtype=int)).shape == (0,)


@pytest.mark.parametrize("block_elements", [1, 7, 50, 1 << 22])
def test_blocked_cluster_diameters_match_brute_force(block_elements):
    """Blocked diameters equal the all-pairs maximum, with singletons and an empty label (3)."""
    rng = np.random.default_rng(13)
    points = rng.standard_normal((60, 3))
    labels = np.r_[np.zeros(25, int), np.ones(20, int), [2], np.full(14, 4)]
    rng.shuffle(labels)
    expected = np.zeros(5)
    for c in range(5):
        members = points[labels == c]
        if len(members):
            expected[c] = np.linalg.norm(members[:, None] - members[None], axis=2).max()
    got = cluster_diameters(points, labels, block_elements=block_elements)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert got[2] == got[3] == 0.0


def test_covering_experiment_and_figures():
    from barriers.experiments import EXPERIMENTS
    from plots.lowdim import covering_figure, thm15_figure
    from protocols.runner import run_sweep
    from reductions.covering import covering_headline

    config = {"d_values": [1, 2, 3], "deltas": [0.5, 1.0], "sample_sizes": [500, 2000], "seeds": 1, "lemma14_draws": 3}
    # nets (d x δ x sample), Lemma 14 per d and draw
    assert len(EXPERIMENTS["covering"].sweep(config, 0)) == 3 * 2 * 1 + 3 * 3
    summary = run_sweep(EXPERIMENTS["covering"], config, 0, None)["summary"]
    for p in summary["points"]:
        assert 1 <= p["net_size"] <= p["packing"]
        assert p["net_size_by_sample"][0] <= p["net_size_by_sample"][1]  # a net only grows
    assert [row["d"] for row in summary["lemma14"]] == [1, 2, 3]
    for row in summary["lemma14"]:
        assert row["corrected_max_diameter"] <= row["diameter"] < row["printed_max_diameter"] or row["d"] == 1
        # draw 0's sample is the row's own; three independent samples per d, each with its own clusters
        assert row["draws"] == 3 and row["printed_max_diameter_draws"][0] == row["printed_max_diameter"]
        assert len(set(row["printed_max_diameter_draws"])) == 3 and len(row["corrected_net_draws"]) == 3
        assert all(c <= row["diameter"] for c in row["corrected_max_diameter_draws"])
    text = covering_headline(summary)
    assert "(3 draws) (d = " in text and "within e/3 in 9 of 9 samples" in text and "single draw" not in text
    fig = covering_figure(summary)
    assert len(fig.axes) == 2 and all(ax.get_title() and ax.get_ylabel() for ax in fig.axes)
    assert len(covering_figure({"points": [{"d": None}], "lemma14": None}).axes) == 2
    assert len(thm15_figure({"memory_vs_n": None, "bound": [{"q99_over_eps": None}]}).axes) == 4
    with pytest.raises(ParameterError, match="deltas"):
        CoveringConfig(**{**config, "deltas": [0.0]})


def test_low_dimensional_results_are_registered():
    import reductions

    assert {"codes", "cor9", "covering", "thm15"} <= set(reductions.RESULT_MODULES)
    assert {"cor9", "thm15", "covering"} <= set(reductions.EXPERIMENT_MODULES)
