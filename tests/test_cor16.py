"""HO Corollary 16: Theorem 6's hard instances are 0.99-sparse, yet decoding them still needs ~n·d bits."""

from __future__ import annotations

import pytest

from barriers.experiments import EXPERIMENTS
from protocols.game import trial_input
from protocols.runner import run_sweep
from reductions.cor16 import (
    PROMISE,
    SPARSE_FAMILIES,
    cor16_headline,
    guaranteed_offspike,
    promise_guaranteed,
    sparsity,
)
from reductions.spike import paper_C
from reductions.thm6 import ExactOutputReduction


@pytest.mark.parametrize("n, d", [(64, 128), (128, 128), (256, 128), (512, 256)])
def test_sparsity_at_the_papers_C_matches_the_guarantee(n, d):
    reduction, _ = trial_input(ExactOutputReduction(n, d, C=1.0), seed=3, trial=0)
    assert reduction.eps < 0.5
    C = paper_C(n, reduction.eps)
    measured = sparsity(reduction, C, tau=1e-3)
    assert measured["offspike_max"] <= guaranteed_offspike(C, reduction.eps) <= n**-2 * (1 + 1e-9)
    assert measured["spike_mass_min"] >= n / (n + 1)
    guaranteed = promise_guaranteed(n, reduction.eps, 1e-3)
    assert guaranteed == (n >= 99)
    if guaranteed:  # the promise holds where the theorem says it does
        assert measured["near_zero_fraction_min"] >= PROMISE
    else:  # n + 1 entries are too few for a 0.99 fraction even with a perfect spike
        assert measured["near_zero_fraction_min"] == pytest.approx(n / (n + 1))
    # The literal promise on QK^T: Alice's queries are 0, so all her scores are exactly 0.
    assert measured["score_zero_fraction"] >= n * (n + 1) / 2 / measured["score_entries"]


def test_decoding_the_sparse_instances_still_needs_nd_bits(isolated_bob):
    from plots.window import cor16_figure

    config = {"log2_n_values": [7, 8], "d_values": [128], "tau": 1e-3, "codebook": "normalized", "trials": 1}
    summary = run_sweep(EXPERIMENTS["cor16"], config, 0, isolated_bob)["summary"]
    assert all(cell["promise_holds"] for cell in summary["cells"])
    # the sparsity is measured on 3 public codebooks per cell (draw 0: the games' trial 0)
    assert [len(cell["draws"]) for cell in summary["cells"]] == [3, 3]
    assert all(len({r["eps_measured"] for r in cell["draws"]}) == 3 for cell in summary["cells"])
    assert [r["draw"] for r in summary["sparsity_draws"]] == [0, 1, 2]
    for draw in summary["sparsity_draws"]:
        here = [r for cell in summary["cells"] for r in cell["draws"] if r["draw"] == draw["draw"] and r["promise_guaranteed"]]
        assert draw["cells"] == len(here) == 2 and draw["promise_holds"] == 2
        assert draw["near_zero_fraction_min"] == min(r["near_zero_fraction_min"] for r in here) >= PROMISE
        assert draw["spike_mass_min"] == min(r["spike_mass_min"] for r in here)
    assert "(3 draws" in cor16_headline(summary) and "single draw" not in cor16_headline(summary)
    for point in summary["points"]:
        assert point["accuracy_low"] <= point["fano_max_accuracy"] + 1e-12, point["cache"]
        if point["memory_ratio"] < 1.0 and point["family"] not in SPARSE_FAMILIES:  # those: tests/test_sparse.py
            assert point["accuracy"] < 0.6  # half of n·d bits: near chance on a 0.99-sparse instance
        if point["family"] == "ExactCache":
            assert point["accuracy"] == 1.0
    assert len(cor16_figure(summary).axes) == 2
    assert len(cor16_figure({"experiment": "cor16"}).axes) == 2


@pytest.mark.parametrize("n", [64, 197])
def test_score_matrix_zero_fraction_matches_the_certified_count(n):
    reduction, _ = trial_input(ExactOutputReduction(n, 128, C=1.0), seed=3, trial=0)
    measured = sparsity(reduction, paper_C(n, reduction.eps), tau=1e-3)
    guaranteed = 1 - 2 * n / ((n + 1) * (n + 2))  # "Corollary 16: 0.99 of QK^T is zero once n >= 197"
    assert measured["score_zero_fraction"] >= guaranteed - 1e-12
    assert (guaranteed >= PROMISE) == (n >= 197)
