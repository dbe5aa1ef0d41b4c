"""SubGen (HO Theorem 11, docs/theory.md §9): online clustering, reservoirs, value-norm samples, eq. 17, memory."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from barriers.experiments import EXPERIMENTS
from caches.codec import MessageError, Reader, Writer
from caches.params import ParameterError
from caches.subgen import OnlineClustering, SubGenCache, ValueNormSampler, subgen_parameters
from protocols.game import play
from protocols.runner import run_sweep
from reductions.cor9 import unit_ball_stream
from reductions.thm15 import bound_ratios, clustered_stream, thm15_headline
from reductions.thm6 import ExactOutputReduction


def chi2_quantile(probability: float, df: int) -> float:
    """Upper quantile of chi-square by bisection on the regularized incomplete gamma (mpmath)."""
    lo, hi = 0.0, 10.0 * df + 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mpmath.gammainc(df / 2, 0, mid / 2, regularized=True) < probability:
            lo = mid
        else:
            hi = mid
    return hi


def leader_clustering(points: np.ndarray, delta: float) -> np.ndarray:
    """Reference: one point at a time, join the nearest centre within delta or open one."""
    centres, labels = [], []
    for p in points:
        if centres:
            dist = np.linalg.norm(np.array(centres) - p, axis=1)
            j = int(np.argmin(dist))
            if dist[j] <= delta:
                labels.append(j)
                continue
        centres.append(p)
        labels.append(len(centres) - 1)
    return np.array(labels)


# --- OnlineClustering ------------------------------------------------------------------------


@pytest.mark.parametrize("d, delta", [(2, 0.3), (3, 0.5), (5, 0.8)])
def test_clustering_is_sequential_leader_clustering(d, delta):
    points, _ = unit_ball_stream(1500, d, [1, d])
    batch = OnlineClustering(d, delta, 4, seed=3)
    labels = batch.add(points)
    stepwise = OnlineClustering(d, delta, 4, seed=3)
    one_by_one = np.concatenate([stepwise.add(p) for p in points[:300]] + [stepwise.add(points[300:])])
    np.testing.assert_array_equal(labels, leader_clustering(points, delta))
    np.testing.assert_array_equal(one_by_one, labels)
    centres = batch.centres
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=2) + np.eye(len(centres)) * 9
    assert gaps.min() > delta  # a greedy delta-net
    assert np.linalg.norm(points - centres[labels], axis=1).max() <= delta + 1e-12
    np.testing.assert_array_equal(batch.counts, np.bincount(labels))
    assert batch.tokens == len(points)
    np.testing.assert_array_equal(batch.assign(centres), np.arange(len(centres)))  # nearest now, not then
    assert np.all(batch.assign(points) >= 0)


def test_reservoirs_are_uniform_samples():
    """Each of 20 members of one cluster is kept with probability t/20 = 1/4.

    Chi-square over 1500 seeds, batch and one-at-a-time arrival; sampling without replacement
    makes the statistic conservative (its variance is below chi-square's), so the false-alarm rate
    is below 0.1% per arrival mode.
    """
    members, t, runs = 20, 5, 1500
    keys = np.linspace(0, 0.1, members)[:, None] * np.ones((1, 2))
    limit = chi2_quantile(0.999, members - 1)
    for mode in ("batch", "single"):
        counts = np.zeros(members)
        for seed in range(runs):
            clustering = OnlineClustering(2, 1.0, t, seed=seed)
            if mode == "batch":
                clustering.add(keys)
            else:
                for k in keys:
                    clustering.add(k)
            sampled, _, labels, _ = clustering.samples()
            assert len(sampled) == t and set(labels) == {0}
            counts[np.rint(sampled[:, 0] / 0.1 * (members - 1)).astype(int)] += 1
        expected = runs * t / members
        statistic = float(np.sum((counts - expected) ** 2 / expected))
        assert statistic < limit, (mode, statistic, limit)


def test_partition_estimate_is_unbiased_and_exact_when_reservoirs_hold_everything():
    keys, _ = unit_ball_stream(400, 3, [2])
    q = np.array([[1.5, -0.5, 0.8]])
    exact = np.log(np.sum(np.exp(keys @ q[0])))
    full = OnlineClustering(3, 0.6, 1000)
    full.add(keys)
    assert full.log_partition(q)[0] == pytest.approx(exact, rel=1e-12)
    estimates = []
    for seed in range(400):
        sampled = OnlineClustering(3, 0.6, 3, seed=seed)
        sampled.add(keys)
        estimates.append(sampled.partition(q)[0])
    estimates = np.array(estimates)
    # |mean - Z| <= 4 standard errors: false-alarm rate ~6e-5 (CLT)
    assert abs(estimates.mean() - math.exp(exact)) <= 4 * estimates.std(ddof=1) / math.sqrt(len(estimates))
    assert estimates.std() > 0  # really sampled


def test_clustering_section_round_trips_and_continues_identically():
    keys, values = unit_ball_stream(3000, 3, [4])
    original = OnlineClustering(3, 0.4, 6, seed=9, dtype="float32", payload_dim=3)
    original.add(keys[:2000], values[:2000])
    data = original.write(Writer(original.tokens, 3)).finish()
    reader = Reader(data)
    copy = OnlineClustering.read(reader, 3, 0.4, 6, seed=9, dtype="float32", payload_dim=3)
    reader.done()
    for clustering in (original, copy):
        clustering.add(keys[2000:], values[2000:])
    for a, b in zip(original.samples(), copy.samples()):
        np.testing.assert_array_equal(a, b)
    assert original.write(Writer(0, 3)).finish() == copy.write(Writer(0, 3)).finish()
    with pytest.raises(MessageError):
        OnlineClustering.read(Reader(data[:-5]), 3, 0.4, 6, seed=9, dtype="float32", payload_dim=3)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: OnlineClustering(0, 0.5, 3), "dim"),
        (lambda: OnlineClustering(2, -0.1, 3), "delta"),
        (lambda: OnlineClustering(2, 0.5, -1), "reservoir"),
        (lambda: OnlineClustering(2, 0.5, 3, dtype="int8"), "dtype"),
        (lambda: OnlineClustering(2, 0.5, 3).add(np.zeros((2, 3))), "keys"),
        (lambda: OnlineClustering(2, 0.5, 3, payload_dim=2).add(np.zeros((2, 2))), "payload"),
        (lambda: SubGenCache(delta=-1), "delta"),
        (lambda: SubGenCache(t=0), "t"),
        (lambda: SubGenCache(s=0), "s"),
        (lambda: SubGenCache(seed=-1), "seed"),
        (lambda: SubGenCache(dtype="float8"), "dtype"),
        (lambda: subgen_parameters(0.0, 0.5, 1.0, 100, 2), "eps"),
        (lambda: subgen_parameters(0.5, 0.5, 1.0, 1, 2), "n"),
        (lambda: subgen_parameters(0.5, 10.0, 10.0, 100, 2), "delta"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


# --- the value-norm sampler and the cache -----------------------------------------------------


def test_numerator_estimate_is_unbiased():
    keys, values = unit_ball_stream(300, 2, [5])
    q = np.array([1.0, 2.0])
    exact = np.exp(keys @ q) @ values
    estimates = []
    for seed in range(600):
        sampler = ValueNormSampler(2, 4, seed)
        sampler.add(keys[:100], values[:100])
        sampler.add(keys[100:], values[100:])  # two batches: the batch rule must compose
        estimates.append(np.exp(sampler.keys @ q) @ sampler.numerator_rows())
    estimates = np.array(estimates)
    se = estimates.std(axis=0, ddof=1) / math.sqrt(len(estimates))
    # two coordinates at 4 standard errors: false-alarm rate ~1.3e-4
    assert np.all(np.abs(estimates.mean(axis=0) - exact) <= 4 * se)


def test_cache_round_trip_step_and_probe_agree():
    keys, values = unit_ball_stream(600, 3, [6])
    cache = SubGenCache(delta=0.5, t=4, s=16, seed=2)
    first = cache.step(np.ones(3), keys[0], values[0])
    np.testing.assert_allclose(first, values[0])  # one token: attention is its value
    cache.extend(np.zeros((499, 3)), keys[1:500], values[1:500])
    rebuilt = SubGenCache.from_bytes(cache.to_bytes(), **cache.params())
    Q = np.random.default_rng(0).standard_normal((20, 3))
    np.testing.assert_array_equal(cache.probe(Q, keys[500:520], values[500:520]),
                                  rebuilt.probe(Q, keys[500:520], values[500:520]))
    out = cache.step(Q[0], keys[500], values[500])
    np.testing.assert_array_equal(out, rebuilt.probe(Q[:1], keys[500:501], values[500:501])[0])
    rebuilt.step(Q[0], keys[500], values[500])
    assert cache.to_bytes() == rebuilt.to_bytes()
    assert cache.memory_bits == 8 * len(cache.to_bytes())
    empty = SubGenCache()
    assert SubGenCache.from_bytes(empty.to_bytes()).memory_bits == empty.memory_bits
    with pytest.raises(MessageError):
        SubGenCache.from_bytes(cache.to_bytes()[:-3], **cache.params())


def test_denominator_exact_and_outputs_finite_when_reservoirs_hold_every_key():
    keys, values = unit_ball_stream(200, 2, [7])
    cache = SubGenCache(delta=0.3, t=500, s=3, dtype="float64")
    cache.extend(np.zeros_like(keys), keys, values)
    Q = 3 * np.random.default_rng(1).standard_normal((5, 2))
    exact = np.log(np.exp(Q @ keys.T).sum(axis=1))
    np.testing.assert_allclose(cache.clustering.log_partition(Q), exact, rtol=1e-12)
    assert np.all(np.isfinite(cache.probe(100 * Q, keys[:5], values[:5])))  # large scores stay finite


def test_memory_is_flat_in_n_once_clusters_saturate():
    """Theorem 11 / docs/theory.md §9: O(d(mt + s)) numbers, independent of n."""
    keys, values = clustered_stream(16000, 3, 6, 0.05, [8])
    cache = SubGenCache(delta=0.2, t=8, s=16)
    cache.extend(np.zeros((4000, 3)), keys[:4000], values[:4000])
    at_4k = cache.memory_bits
    cache.extend(np.zeros((12000, 3)), keys[4000:], values[4000:])
    assert cache.clusters <= 6
    assert cache.memory_bits == at_4k  # exactly flat: same m, full reservoirs, s slots
    # uniform keys in the unit disk: the last doubling adds < 2%; an exact cache doubles
    keys, values = unit_ball_stream(32768, 2, [9])
    cache = SubGenCache(delta=0.5, t=8, s=32)
    cache.extend(np.zeros((16384, 2)), keys[:16384], values[:16384])
    half = cache.memory_bits
    cache.extend(np.zeros((16384, 2)), keys[16384:], values[16384:])
    assert cache.memory_bits <= 1.02 * half
    assert 8 * len(cache.to_bytes()) < 0.01 * 32 * 2 * 32768 * 2


def test_memory_grows_exponentially_in_d():
    counts = []
    for d in (1, 2, 3, 4, 5):
        keys, values = unit_ball_stream(8000, d, [10, d])
        cache = SubGenCache(delta=0.5, t=4, s=8)
        cache.extend(np.zeros_like(keys), keys, values)
        counts.append(cache.clusters)
    ratios = np.array(counts[1:]) / np.array(counts[:-1])
    assert np.all(ratios > 1.8)  # (1/delta)^d = 2^d by volume: at least ~2x per dimension


def test_eq17_holds_with_enough_samples_and_fails_with_too_few():
    """Eq. 17 with t = c ε^{-2} e^{2δr} ln n, s = c ε^{-2} d: holds for 99% of 200 queries at c = 16;
    at c = 1/16 (s = 1) it fails for most queries, as the sample-size requirement predicts.
    Fixed seeds: the outcome is deterministic (at c = 16 the 99th percentile sits near 0.4 ε)."""
    eps, delta, r, n, d = 0.5, 0.5, 2.0, 2000, 3
    keys, values = unit_ball_stream(n, d, [11])
    rng = np.random.default_rng(12)
    Q = rng.standard_normal((200, d))
    Q *= r / np.linalg.norm(Q, axis=1, keepdims=True)
    own_k, own_v = unit_ball_stream(200, d, [13])
    fractions = {}
    for c in (1 / 16, 16):
        t, s = subgen_parameters(eps, delta, r, n, d, c_t=c, c_s=c)
        cache = SubGenCache(delta, t, s, seed=1)
        cache.extend(np.zeros_like(keys), keys, values)
        fractions[c] = float(np.mean(bound_ratios(cache, keys, values, Q, own_k, own_v) <= eps))
    assert fractions[16] >= 0.99
    assert fractions[1 / 16] < 0.7


def test_subgen_plays_the_index_game_under_the_fano_frontier(isolated_bob):
    """In high dimension (d = 128) with one cluster (delta = 2) and few samples SubGen keeps less than
    the n·d bits, so Fano caps its accuracy; it must land below the frontier (and does not decode)."""
    cache = SubGenCache(delta=2.0, t=2, s=8, dtype="float16")
    point, _ = play(ExactOutputReduction(1024, 128), cache, trials=1, seed=0, bob=isolated_bob)
    assert point["memory_ratio"] < 0.5
    assert point["accuracy"] <= point["fano_max_accuracy"] + 1e-12
    assert point["accuracy"] < 0.99


def test_thm15_experiment(isolated_bob):
    config = {
        "delta": 0.5, "t": 8, "s": 32,
        "memory_d": [2], "memory_log2_n": [8, 12, 13, 14],
        "growth_d": [1, 2, 3], "growth_n": 4000,
        "eps": 0.5, "bound_r": 2.0, "bound_n": 800, "bound_d": [2], "constants": [0.0625, 16],
        "queries": 60, "trials": 1,
        "versus_d": [2, 4], "r_per_d": 0.5, "eta": 0.1, "versus_n": 4000, "codebook": "packed",
        "grid_ratio": 1.3, "max_n": 256, "draws": 3,
    }
    summary = run_sweep(EXPERIMENTS["thm15"], config, 0, isolated_bob)["summary"]
    memory = summary["memory_vs_n"][0]
    assert memory["last_doubling_growth"] <= 0.02 and memory["exact_bits"][-1] > 2 * memory["exact_bits"][-2] * 0.99
    # three streams per d, draw 0 the figure's; every one flat in n once its clusters saturate
    assert memory["draws"] == 3 and memory["memory_bits_draws"][0] == memory["memory_bits"]
    assert len(memory["memory_bits_draws"]) == len(memory["clusters_draws"]) == 3
    assert all(len(c) == 4 and c[-1] <= 1.02 * c[-2] for c in memory["memory_bits_draws"])
    assert len({tuple(c) for c in memory["clusters_draws"]}) > 1  # fresh streams
    assert "(3 draws) at n = 16,384" in thm15_headline(summary)
    big = {(b["stream"], b["constant"]): b for b in summary["bound"] if b["d"] == 2}
    assert big["ball", 16]["fraction_within"] >= 0.99 and big["clustered", 16]["fraction_within"] >= 0.99
    assert big["ball", 0.0625]["fraction_within"] < 0.9
    for row in summary["versus"]:
        assert row["capacity"] >= 2 and row["ratio"] > 1
        assert row["game_accuracy"] <= row["game_fano_max_accuracy"]
    assert summary["exponents"]["subgen_clusters"] > 0


def test_batching_does_not_change_the_state_and_budget_bounds_memory():
    """Draws are keyed by position (position_uniforms), so extend == stepping, byte for byte."""
    keys, values = unit_ball_stream(700, 3, [14])
    values[::7] = 0.0  # zero values are never sampled
    batch, stepped = SubGenCache(delta=0.4, t=3, s=5, seed=4), SubGenCache(delta=0.4, t=3, s=5, seed=4)
    batch.extend(np.zeros((600, 3)), keys[:600], values[:600])
    batch.extend(np.zeros((100, 3)), keys[600:], values[600:])
    for k, v in zip(keys, values):
        stepped.step(np.zeros(3), k, v)
    assert batch.to_bytes() == stepped.to_bytes()
    for n in (0, 1, 700):
        cache = SubGenCache(delta=0.0, t=7, s=5)  # delta 0: every distinct key is a cluster (worst case)
        cache.extend(np.zeros((n, 3)), keys[:n], values[:n])
        assert cache.memory_bits <= cache.budget_bits(n, 3)
