"""kNN attention: unbiased estimators, 1/sqrt(samples) error, O(n^1.5) reads, exact gradients, and
memory at least n·d bits in the INDEX game (adaptivity buys time, not space)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.attention import attention_batch
from caches.knn import (
    KNNAttentionCache,
    NormOrderedIndex,
    attention_gradients,
    attention_probabilities,
    estimate_dQ,
    estimate_dV,
    knn_attention,
    knn_forward,
)
from caches.lazy_gumbel import top_k
from caches.params import ParameterError
from caches.spec import build, object_spec
from protocols.game import play
from protocols.stats import fit_slope
from reductions.knn import KNN_ERROR_PRESETS, KNN_GRADIENTS_PRESETS, make_inputs, value_scale
from reductions.thm6 import ExactOutputReduction


@pytest.fixture(scope="module")
def problem():
    Q, K, V = make_inputs("random", 512, 8, 16, np.random.default_rng(0))
    return Q, K, V, attention_batch(Q, K, V)


@pytest.mark.parametrize("entries", [None, 1], ids=["one call", "a call per query"])
def test_sampling_estimator_is_unbiased(problem, entries, monkeypatch):
    """Mean of 400 independent 4-sample estimates vs exact: every coordinate within 4.5 SE
    (128 coordinates: false alarm about 1e-3), whether the queries share one lazy-Gumbel call or
    are drawn in chunks (caches.knn.SAMPLING_ENTRIES)."""
    import caches.knn

    if entries is not None:
        monkeypatch.setattr(caches.knn, "SAMPLING_ENTRIES", entries)
    Q, K, V, exact = problem
    runs = np.stack([knn_attention(Q, K, V, k=23, samples=4, rng=np.random.default_rng([1, r])).output
                     for r in range(400)])
    se = runs.std(axis=0, ddof=1) / math.sqrt(400)
    assert np.all(np.abs(runs.mean(axis=0) - exact) < 4.5 * se + 1e-12)


def test_topk_renormalised_is_biased_and_improves_with_k(problem):
    Q, K, V, exact = problem
    unit = value_scale(V)
    errors = [np.linalg.norm(knn_attention(Q, K, V, k=k, samples=1, rng=np.random.default_rng(0),
                                           method="topk").output - exact, axis=1).mean() / unit for k in (4, 32, 256)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert errors[0] > 0.1  # deterministic and wrong: no amount of averaging removes it


def test_error_falls_as_one_over_sqrt_samples(problem):
    """Fitted slope of mean error vs samples (4..1024) in [-0.6, -0.4]."""
    Q, K, V, exact = problem
    ms = [4, 16, 64, 256, 1024]
    errors = [np.linalg.norm(knn_attention(Q, K, V, k=23, samples=m, rng=np.random.default_rng([2, m])).output
                             - exact, axis=1).mean() for m in ms]
    assert -0.6 <= fit_slope(ms, errors) <= -0.4


@pytest.mark.parametrize("entries", [None, 3000], ids=["one call", "chunks of queries"])
def test_median_of_means_groups_count_reads_once(problem, entries, monkeypatch):
    import caches.knn

    if entries is not None:
        monkeypatch.setattr(caches.knn, "SAMPLING_ENTRIES", entries)
    Q, K, V, _ = problem
    est = knn_attention(Q, K, V, k=23, samples=8, groups=5, rng=np.random.default_rng(3))
    assert est.output.shape == (16, 8) and est.reads.shape == (16,)
    assert np.all(est.reads >= 23) and np.all(est.reads <= 512)


def test_norm_ordered_index_is_exact_and_counts_probes():
    rng = np.random.default_rng(4)
    K = rng.standard_normal((300, 6)) * rng.exponential(size=(300, 1)) ** 3  # a few long keys
    Q = rng.standard_normal((20, 6))
    index = NormOrderedIndex()
    index.add(K[:150])
    index.add(K[150:])  # built while streaming
    ids, scores, probes = index.query(Q, 10)
    _, expected = top_k(Q @ K.T, 10)
    np.testing.assert_allclose(np.sort(scores, axis=1), np.sort(expected, axis=1))
    np.testing.assert_allclose(scores, np.take_along_axis(Q @ K.T, ids, axis=1))
    assert probes.min() >= 10 and probes.mean() < 300  # pruning works when norms are spread


def test_forward_pass_reads_grow_as_n_to_the_1_5():
    """Causal pass with k_i = sqrt(i): fitted slope of total reads in [1.4, 1.7] (exact: 2)."""
    ns = [256, 512, 1024, 2048]
    reads = []
    for n in ns:
        Q, K, V = make_inputs("random", n, 8, n, np.random.default_rng([5, n]))
        reads.append(knn_forward(Q, K, V, samples=4, rng=np.random.default_rng([6, n])).reads.sum())
    assert 1.4 <= fit_slope(ns, reads) <= 1.7
    assert reads[-1] < 0.2 * ns[-1] * (ns[-1] + 1) / 2


def test_causal_forward_matches_exact_on_average():
    n = 128
    Q, K, V = make_inputs("random", n, 4, n, np.random.default_rng(7))
    scores = Q @ K.T
    scores[np.triu_indices(n, 1)] = -np.inf
    P = np.exp(scores - scores.max(axis=1, keepdims=True))
    exact = (P @ V) / P.sum(axis=1, keepdims=True)
    runs = np.stack([knn_forward(Q, K, V, samples=8, rng=np.random.default_rng([8, r])).output for r in range(100)])
    se = runs.std(axis=0, ddof=1) / 10
    assert np.mean(np.abs(runs.mean(axis=0) - exact) < 4 * se + 1e-12) > 0.999


def test_exact_gradients_match_finite_differences():
    rng = np.random.default_rng(9)
    Q, K, V, dO = (rng.standard_normal((12, 3)) for _ in range(4))
    dQ, dK, dV = attention_gradients(Q, K, V, dO)

    def loss(Q, K, V):
        return float(np.sum(dO * (attention_probabilities(Q, K) @ V)))

    h = 1e-6
    for grad, which in ((dQ, 0), (dK, 1), (dV, 2)):
        for index in [(0, 0), (5, 2), (11, 1)]:
            args = [Q.copy(), K.copy(), V.copy()]
            args[which][index] += h
            up = loss(*args)
            args[which][index] -= 2 * h
            assert (up - loss(*args)) / (2 * h) == pytest.approx(grad[index], abs=1e-6)


@pytest.mark.parametrize("name", ["dV", "dQ"])
def test_gradient_estimators_are_unbiased_and_converge(name):
    """Mean of 60 runs within 4.5 SE entrywise (false alarm about 1e-3 over the entries), and the
    error of a single run falls with slope in [-0.65, -0.35] over a 16x range of samples."""
    Q, K, V = make_inputs("random", 64, 4, 64, np.random.default_rng(10))
    dO = np.random.default_rng(11).standard_normal((64, 4))
    dQ, _, dV = attention_gradients(Q, K, V, dO)
    reference, estimate, base = (dV, estimate_dV, 64 * 8) if name == "dV" else (dQ, estimate_dQ, 8)
    runs = np.stack([estimate(Q, K, V, dO, samples=base, rng=np.random.default_rng([12, r])) for r in range(60)])
    se = runs.std(axis=0, ddof=1) / math.sqrt(60)
    assert np.all(np.abs(runs.mean(axis=0) - reference) < 4.5 * se + 1e-9)
    errors = []
    for factor in (1, 4, 16):
        errors.append(np.mean([np.linalg.norm(estimate(Q, K, V, dO, samples=base * factor,
                                                       rng=np.random.default_rng([13, factor, r])) - reference)
                               for r in range(8)]))
    assert -0.65 <= fit_slope([1, 4, 16], errors) <= -0.35


def test_streamed_dV_is_unbiased_in_small_blocks():
    """Blocks of 37 draws (14 per column, the last one short): mean of 60 runs within 4.5 SE
    entrywise (false alarm about 1e-3 over the entries); a seed and a block size fix the numbers."""
    Q, K, V = make_inputs("random", 64, 4, 64, np.random.default_rng(10))
    dO = np.random.default_rng(11).standard_normal((64, 4))
    dO[:, 2] = 0.0  # an all-zero column has dV = 0 exactly
    reference = attention_gradients(Q, K, V, dO)[2]
    runs = np.stack([estimate_dV(Q, K, V, dO, samples=512, block=37, rng=np.random.default_rng([15, r]))
                     for r in range(60)])
    se = runs.std(axis=0, ddof=1) / math.sqrt(60)
    assert np.all(np.abs(runs.mean(axis=0) - reference) < 4.5 * se + 1e-9)
    assert np.all(runs[:, :, 2] == 0.0)
    again = estimate_dV(Q, K, V, dO, samples=512, block=37, rng=np.random.default_rng([15, 0]))
    np.testing.assert_array_equal(again, runs[0])


def test_cache_contract_and_memory():
    rng = np.random.default_rng(14)
    Q, K, V = rng.standard_normal((3, 90, 12))
    for method in ("sample", "topk"):
        cache = KNNAttentionCache(samples=8, method=method, seed=2)
        cache.extend(Q, K, V)
        message = cache.to_bytes()
        assert cache.memory_bits == 8 * len(message) == cache.budget_bits(90, 12)
        assert cache.memory_bits >= 90 * 12 * 2 * 32  # every key and value
        rebuilt = KNNAttentionCache.from_bytes(message, **cache.params())
        probe = rng.standard_normal((3, 5, 12))
        outputs = cache.probe(*probe)
        np.testing.assert_array_equal(rebuilt.probe(*probe), outputs)
        for r in range(5):
            copy = KNNAttentionCache.from_bytes(message, **cache.params())
            np.testing.assert_allclose(copy.step(probe[0][r], probe[1][r], probe[2][r]), outputs[r], rtol=1e-12)
    with pytest.raises(ParameterError, match="method"):
        KNNAttentionCache(method="lsh")
    for presets, overrides, name in ((KNN_ERROR_PRESETS, {"k_values": [2049]}, "k_values"),
                                     (KNN_ERROR_PRESETS, {"inputs": ["uniform"]}, "inputs"),
                                     (KNN_GRADIENTS_PRESETS, {"samples": [1]}, "samples")):
        with pytest.raises(ParameterError, match=name):
            presets["quick"].with_overrides(overrides)


def test_knn_cache_decodes_the_index_game_only_with_all_the_memory(isolated_bob):
    """HO Theorem 6 still binds: the adaptive sampler decodes every bit, and spends > n·d bits doing it."""
    reduction = ExactOutputReduction(128, 128)
    point, _ = play(reduction, build(object_spec(KNNAttentionCache(samples=8, seed=1))), trials=1, seed=2,
                    bob=isolated_bob)
    assert point["accuracy"] == 1.0
    assert point["memory_ratio"] > 1.0
    assert point["accuracy_low"] <= point["fano_max_accuracy"]


def test_index_built_by_steps_equals_index_built_in_one_batch():
    rng = np.random.default_rng(15)
    K = np.round(rng.standard_normal((60, 3)), 1)  # rounding makes norm ties
    stepped, batch = NormOrderedIndex(), NormOrderedIndex()
    for k in K:
        stepped.add(k)
    batch.add(K)
    np.testing.assert_array_equal(stepped.order, batch.order)


def test_sample_counts_give_the_promised_failure_rate(problem):
    """ε = 0.5 σ, δ = 0.05: the median of means misses by more than ε σ in at most δ of 400 runs (+ 3 SE)."""
    from caches.knn import sample_counts

    samples, groups = sample_counts(0.5, 0.05)
    assert (samples, groups) == (16, 24)
    rng = np.random.default_rng(16)
    draws = rng.standard_t(3.0, (400, groups, samples))  # heavy-ish tails, sd = sqrt(3)
    estimates = np.median(draws.mean(axis=2), axis=1)
    assert np.mean(np.abs(estimates) > 0.5 * math.sqrt(3)) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)



def test_experiments_sweep_one_unit_per_measurement_and_units_are_independent(isolated_bob):
    """Each kNN experiment's units (input family; n; samples × gradient; cache × trial) give the same
    rows measured in any order, and the summary reads them back."""
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import measure_unit, run_sweep
    from reductions.knn import knn_forward_headline

    small = {"knn_error": ({"n": 256, "queries": 8, "k_values": [1, 16], "samples_values": [1, 4, 16]}, 2),
             "knn_forward": ({"n_values": [64, 128], "samples": 4}, 2 + 2),  # n, then 2 more draws at n = 128
             "knn_gradients": ({"n": 32, "samples": [4, 16], "repeats": 3}, 4),
             "knn_game": ({"n": 32, "d": 128, "trials": 2}, 6)}
    for name, (overrides, units) in small.items():
        experiment = EXPERIMENTS[name]
        config = {**experiment.presets["quick"].to_dict(), **overrides}
        sweep = experiment.sweep(config, 3)
        assert len(sweep) == units, name
        forward = [measure_unit(experiment, config, unit, 3, isolated_bob) for unit in sweep]
        backward = [measure_unit(experiment, config, unit, 3, isolated_bob) for unit in reversed(sweep)][::-1]
        assert forward == backward, name
        summary = run_sweep(experiment, overrides, 3, isolated_bob)["summary"]
        assert summary["experiment"] == name
        if name == "knn_forward":  # one row per n (draw 0); at the largest n the 3 independent passes' reads
            assert [r["n"] for r in summary["forward"]] == [64, 128] and len(summary["forward_draws"]) == 4
            assert [len(r["knn_reads_draws"]) for r in summary["forward"]] == [1, 3]
            for row in summary["forward"]:
                assert row["knn_reads_draws"][0] == row["knn_reads"]
                assert all(r < row["exact_reads"] for r in row["knn_reads_draws"])
            assert len(set(summary["forward"][-1]["knn_reads_draws"])) == 3
            assert "(3 draws) vs" in knn_forward_headline(summary)
    assert all(p["accuracy"] == 1.0 and p["memory_ratio"] > 1.0 for p in summary["points"][:2])
    assert "frontier" in summary
