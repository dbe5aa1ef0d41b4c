"""Tensor attention (TA, docs/theory.md §8): the reference, the tensor caches, the reduction and its threshold."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import caches.tensor as tensor_module
from caches.adversary import AdversarialApproximation
from caches.base import ProbeThenExtend, StreamingAttention
from caches.codec import MessageError
from caches.lossless import CompressedCache, decompress
from caches.params import ParameterError
from caches.tensor import (
    ExactFourCache,
    ExactTwoCache,
    QuantizedFourCache,
    SubGenFourCache,
    tensor_pair_sums,
    tensor_attention,
    tensor_attention_batch,
    tensor_attention_causal,
    tensor_attention_with_own_token,
)
from protocols.game import play, score, trial_input
from reductions.tensor import (
    TENSOR_CAPACITY_PRESETS,
    TENSOR_GAME_PRESETS,
    TENSOR_MEMORY_PRESETS,
    TENSOR_SUBGEN_PRESETS,
    TENSOR_THRESHOLD_PRESETS,
    TensorIndexReduction,
    subgen_guarantee,
    tensor_adversary_for,
    tensor_delta,
    tensor_Delta,
    tensor_threshold_C,
)
from reductions.spike import threshold_C


def naive(q, K1, K2, V1, V2):
    """Tensor attention from the definition: the n^2 pair rows, then a plain softmax."""
    pair_keys = (K1[:, None, :] * K2[None, :, :]).reshape(-1, K1.shape[1])
    pair_values = (V1[:, None, :] * V2[None, :, :]).reshape(-1, V1.shape[1])
    scores = pair_keys @ q
    weights = np.exp(scores - scores.max())
    return weights @ pair_values / weights.sum()


def stream(rng, n, d, dv=None):
    dv = dv or d
    return (rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.standard_normal((n, d)),
            rng.standard_normal((n, dv)), rng.standard_normal((n, dv)))


# --- the reference ---------------------------------------------------------------------------


def test_reference_matches_the_definition_and_blocks_do_not_matter(monkeypatch):
    rng = np.random.default_rng(0)
    Q, K1, K2, V1, V2 = stream(rng, 37, 6, dv=4)
    expected = np.array([naive(q, K1, K2, V1, V2) for q in Q])
    assert np.allclose(tensor_attention_batch(Q, K1, K2, V1, V2), expected, atol=1e-13)
    monkeypatch.setattr(tensor_module, "BLOCK_ELEMENTS", 50)  # tiny blocks: many spans, one row each
    assert np.allclose(tensor_attention_batch(Q, K1, K2, V1, V2), expected, atol=1e-13)


def test_reference_is_stable_for_huge_scores():
    rng = np.random.default_rng(1)
    _, K1, K2, V1, V2 = stream(rng, 20, 5)
    q = 1e4 * rng.standard_normal(5)
    out = tensor_attention(q, K1, K2, V1, V2)
    scores = (K1 * q) @ K2.T
    a, b = np.unravel_index(np.argmax(scores), scores.shape)
    assert np.all(np.isfinite(out)) and np.allclose(out, V1[a] * V2[b])  # all the weight on the top pair


def test_reference_runs_at_n_2048_within_a_bounded_block():
    rng = np.random.default_rng(2)
    n, d = 2048, 8
    _, K1, K2, V1, V2 = stream(rng, n, d)
    q = rng.standard_normal(d)
    tracemalloc.start()
    out = tensor_attention(q, K1, K2, V1, V2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    pair_matrix_bytes = n * n * d * 8
    assert np.all(np.isfinite(out))
    assert peak < pair_matrix_bytes / 4  # never the n^2 x d pair rows (268 MB here)
    # the same query on a prefix agrees with the definition
    assert np.allclose(tensor_attention(q, K1[:200], K2[:200], V1[:200], V2[:200]),
                       naive(q, K1[:200], K2[:200], V1[:200], V2[:200]), atol=1e-13)


def test_causal_form_attends_over_the_prefix_pairs():
    rng = np.random.default_rng(3)
    Q, K1, K2, V1, V2 = stream(rng, 12, 4)
    out = tensor_attention_causal(Q, K1, K2, V1, V2)
    for t in range(12):
        assert np.allclose(out[t], naive(Q[t], K1[: t + 1], K2[: t + 1], V1[: t + 1], V2[: t + 1]), atol=1e-13)


def test_own_token_form_and_pair_weights():
    rng = np.random.default_rng(4)
    Q, K1, K2, V1, V2 = stream(rng, 9, 3)
    own = stream(rng, 5, 3)[1:]
    P = rng.standard_normal((5, 3))
    got = tensor_attention_with_own_token(P, *own, K1, K2, V1, V2)
    for r in range(5):
        full = [np.vstack([A, o[r]]) for A, o in zip((K1, K2, V1, V2), own)]
        assert np.allclose(got[r], naive(P[r], *full), atol=1e-13)
    # integer multiplicities act like repeated rows
    w1 = np.array([1, 2, 1, 3, 1, 1, 1, 1, 2], float)
    repeated = [np.repeat(A, w1.astype(int), axis=0) for A in (K1, V1)]
    weighted = tensor_attention_with_own_token(P, *own, K1, K2, V1, V2, w1=w1)
    plain = tensor_attention_with_own_token(P, *own, repeated[0], K2, repeated[1], V2)
    assert np.allclose(weighted, plain, atol=1e-13)


# --- the caches -------------------------------------------------------------------------------

CACHES = [ExactFourCache("float64"), ExactFourCache("float16"), ExactTwoCache("float64"), ExactTwoCache("float32"),
          QuantizedFourCache(bits=8, group_size=4), QuantizedFourCache(bits=2, group_size=3)]


def fresh(cache):
    return type(cache)(**cache.params())


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_cache_contract(cache):
    rng = np.random.default_rng(5)
    tokens = stream(rng, 10, 4, dv=3)
    stepped = fresh(cache)
    outputs = np.array([stepped.step(*(a[t] for a in tokens)) for t in range(10)])
    batched = fresh(cache)
    batched.extend(*tokens)
    message = stepped.to_bytes()
    assert batched.to_bytes() == message  # a batch and single steps give the same state
    assert stepped.memory_bits == 8 * len(message)
    rebuilt = type(cache).from_bytes(message, **cache.params())
    assert rebuilt.to_bytes() == message
    probes = stream(rng, 6, 4, dv=3)
    before = stepped.probe(*probes)
    assert stepped.to_bytes() == message  # probing leaves the state alone
    assert np.allclose(rebuilt.probe(*probes), before, atol=1e-12)
    copy = type(cache).from_bytes(message, **cache.params())
    assert np.allclose(copy.step(*(a[0] for a in probes)), before[0], atol=1e-12)
    reference = tensor_attention_causal(*tokens)
    exact = cache.params().get("dtype") == "float64"
    assert np.allclose(outputs, reference, atol=1e-12 if exact else 0.5)
    assert type(cache).from_bytes(fresh(cache).to_bytes(), **cache.params()).to_bytes() == fresh(cache).to_bytes()


def test_memory_is_what_the_formats_say():
    rng = np.random.default_rng(6)
    n, d = 16, 8
    tokens = stream(rng, n, d)
    four, two = ExactFourCache("float64"), ExactTwoCache("float16")
    four.extend(*tokens)
    two.extend(*tokens)
    assert four.memory_bits == 8 * (9 + 4 + 4 * n * d * 8)
    assert two.memory_bits == 8 * (9 + 4 + (2 * n * n * d + 4 * n * d) * 2)
    quantized = QuantizedFourCache(bits=3, group_size=8)
    quantized.extend(*tokens)
    codes = 4 * math.ceil(3 * n * d / 8)
    key_scales = 2 * 2 * (n // 8) * d * 2
    value_scales = 2 * 2 * n * 2
    assert quantized.memory_bits == 8 * (9 + 4 + codes + key_scales + value_scales)


def wrapped(cache):
    """Each wrapper around its own fresh copy of ``cache``."""
    return [CompressedCache(fresh(cache), "zlib", 9), CompressedCache(fresh(cache), "lzma", 6),
            AdversarialApproximation(fresh(cache), 0.2, 0.1),
            CompressedCache(AdversarialApproximation(fresh(cache), 0.2, 0.1))]


@pytest.mark.parametrize("cache", CACHES[::2] + [SubGenFourCache(0.5, 2, 8, seed=3, dtype="float64")], ids=repr)
def test_wrappers_compose_with_tensor_caches(cache):
    """Tensor caches are ordinary caches: the lossless and the adversary wrappers take their 5-tuples."""
    assert isinstance(cache, ProbeThenExtend) and isinstance(cache, StreamingAttention)
    rng = np.random.default_rng(9)
    tokens, probes = stream(rng, 12, 3), stream(rng, 5, 3)
    bare = fresh(cache)
    bare.extend(*tokens)
    outputs = bare.probe(*probes)
    for wrapper in wrapped(cache):
        wrapper.extend(*(a[:7] for a in tokens))
        for t in range(7, 12):
            wrapper.step(*(a[t] for a in tokens))
        message = wrapper.to_bytes()
        assert wrapper.memory_bits == 8 * len(message)
        rebuilt = type(wrapper).from_bytes(message, **wrapper.params())
        assert rebuilt.to_bytes() == message  # round trip through the message alone
        got = rebuilt.probe(*probes)
        assert np.array_equal(got, wrapper.probe(*probes))
        if isinstance(wrapper, CompressedCache) and not isinstance(wrapper.inner, AdversarialApproximation):
            assert decompress(wrapper.codec, message, "test") == bare.to_bytes()  # the bare message, compressed
            assert np.allclose(got, outputs, rtol=0, atol=1e-12)  # lossless: the bare cache's outputs
        else:
            adversary = wrapper if isinstance(wrapper, AdversarialApproximation) else wrapper.inner
            assert adversary.to_bytes() == bare.to_bytes()  # no state of its own
            slack = 0.2 * np.abs(outputs)
            assert np.all(np.abs(got - outputs) <= slack + 1e-12)  # a (1±η) approximation of the bare cache
            assert np.allclose(got, np.clip(0.1, outputs - slack, outputs + slack), rtol=0, atol=1e-12)


def test_compressed_cache_checks_its_parameters_and_message():
    with pytest.raises(ParameterError, match="codec"):
        CompressedCache(ExactFourCache(), "gzip")
    with pytest.raises(ParameterError, match="level"):
        CompressedCache(ExactFourCache(), "zlib", 10)
    with pytest.raises(TypeError, match="inner must be a cache"):
        CompressedCache(object())
    with pytest.raises(MessageError, match="does not decompress"):
        CompressedCache.from_bytes(b"not zlib", **CompressedCache(ExactFourCache()).params())
    assert CompressedCache(ExactFourCache()).budget_bits(4, 4) is None  # the inner cache declares none


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: ExactFourCache("float8"), "dtype"),
        (lambda: ExactTwoCache("int"), "dtype"),
        (lambda: QuantizedFourCache(bits=0), "bits"),
        (lambda: QuantizedFourCache(bits=9), "bits"),
        (lambda: QuantizedFourCache(group_size=0), "group_size"),
        (lambda: SubGenFourCache(delta=-1.0), "delta"),
        (lambda: SubGenFourCache(t=0), "t"),
        (lambda: SubGenFourCache(s=0), "s"),
        (lambda: SubGenFourCache(dtype="int8"), "dtype"),
        (lambda: AdversarialApproximation(ExactFourCache(), 1.0, 0.5), "eta"),
        (lambda: TensorIndexReduction(1, 8), "n"),
        (lambda: TensorIndexReduction(16, 0), "d"),
        (lambda: TensorIndexReduction(16, 8, C=0.0), "C"),
        (lambda: TensorIndexReduction(16, 8, eta=1.0), "eta"),
        (lambda: TensorIndexReduction(16, 8, codebook="hadamard"), "codebook"),
        (lambda: tensor_threshold_C(16, 0.5), "eps"),
        (lambda: TensorIndexReduction(512, 4).scale, "eps"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


# --- the reduction ----------------------------------------------------------------------------

N, D = 128, 128


@pytest.fixture(scope="module")
def game(isolated_bob):
    reduction, x = trial_input(TensorIndexReduction(N, D, C=1.0), seed=11, trial=0)
    return reduction, x, isolated_bob.alice(reduction, ExactFourCache(), x)


def accuracy(game, bob, C, eta, rows=range(N)):
    reduction, x, message = game
    scaled = TensorIndexReduction(N, D, C, eta, reduction.codebook, reduction.public_seed)
    cache = tensor_adversary_for(scaled) if eta else ExactFourCache()
    return score(bob, scaled, cache, message, x, rows).accuracy


def test_reduction_output_is_the_derived_closed_form(game):
    reduction, x, message = game
    cache = ExactFourCache.from_bytes(message)
    C = 3.0
    scaled = TensorIndexReduction(N, D, C, 0.0, reduction.codebook, reduction.public_seed)
    rows = np.arange(0, N, 9)
    outputs = cache.probe(*scaled.bob_queries(rows))
    scores = C * reduction.keys[rows] @ reduction.keys.T
    weights = np.exp(scores)
    closed = N * weights @ x / (N * weights.sum(axis=1) + 2 * N + 1)[:, None]
    assert np.allclose(outputs, closed, rtol=1e-10)


def test_bounds_are_complementary_and_cross_at_the_threshold():
    n, eps = 1000, 0.2
    C = tensor_threshold_C(n, eps)
    assert tensor_delta(C, eps, n) == pytest.approx(0.5)
    assert tensor_delta(C, eps, n) + tensor_Delta(C, eps, n) == pytest.approx(1.0)
    assert tensor_delta(1.01 * C, eps, n) < tensor_Delta(1.01 * C, eps, n)
    assert tensor_delta(0.99 * C, eps, n) > tensor_Delta(0.99 * C, eps, n)
    gap = C - threshold_C(n, eps)
    assert 0 < gap <= (1 / n + 1 / n**2) / (1 - 2 * eps)


def test_default_C_decodes_every_bit_for_every_exact_or_quantized_tensor_cache(isolated_bob):
    reduction = TensorIndexReduction(64, 128)
    for cache in (ExactFourCache(), ExactTwoCache("float16"), QuantizedFourCache(bits=1)):
        point, _ = play(reduction, cache, trials=1, seed=2, bob=isolated_bob)
        assert point["accuracy"] == 1.0, repr(cache)


@pytest.mark.parametrize("eta", [0.0, 0.1, 0.3, 0.6])
def test_decoding_succeeds_above_the_tensor_threshold(game, isolated_bob, eta):
    reduction = game[0]
    assert reduction.eps < 0.5
    C = 1.05 * tensor_threshold_C(N, reduction.eps, eta)
    assert accuracy(game, isolated_bob, C, eta) == 1.0


# Below the hiding limit the worst (1±η) output hides the bits: tests/test_adversary.py.


def test_decoding_fails_when_the_spike_is_too_weak(game, isolated_bob):
    assert accuracy(game, isolated_bob, 0.1 * math.log(N), 0.0) < 0.9


def test_adversary_rebuilds_from_the_inner_message(game):
    reduction, x, message = game
    adversary = tensor_adversary_for(TensorIndexReduction(N, D, 20.0, 0.3, reduction.codebook, reduction.public_seed))
    rebuilt = AdversarialApproximation.from_bytes(message, **adversary.params())
    assert rebuilt.to_bytes() == message and rebuilt.eta == 0.3


# --- the SubGen-style four-cache ----------------------------------------------------------------


def unit(rng, rows, dim):
    x = rng.standard_normal((rows, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def low_dim_stream(rng, n, dim):
    return [np.zeros((n, dim)), unit(rng, n, dim), unit(rng, n, dim), rng.random((n, dim)), rng.random((n, dim))]


@pytest.mark.parametrize("cache", [SubGenFourCache(0.5, 2, 8, seed=3, dtype="float64"),
                                   SubGenFourCache(1.0, 1, 3, seed=1, dtype="float16")], ids=repr)
def test_subgen_contract(cache):
    rng = np.random.default_rng(8)
    tokens = low_dim_stream(rng, 40, 3)
    stepped = fresh(cache)
    for t in range(40):
        stepped.step(*(a[t] for a in tokens))
    message = stepped.to_bytes()
    assert stepped.memory_bits == 8 * len(message)
    rebuilt = type(cache).from_bytes(message, **cache.params())
    assert rebuilt.to_bytes() == message
    probes = low_dim_stream(rng, 5, 3)
    probes[0] = 2 * unit(rng, 5, 3)
    before = stepped.probe(*probes)
    assert stepped.to_bytes() == message and np.all(np.isfinite(before))
    assert np.allclose(rebuilt.probe(*probes), before, atol=1e-12)
    copy = type(cache).from_bytes(message, **cache.params())
    assert np.allclose(copy.step(*(a[0] for a in probes)), before[0], atol=1e-12)
    empty = fresh(cache)
    assert np.allclose(empty.probe(*probes), probes[3] * probes[4])  # only the own pair
    assert type(cache).from_bytes(empty.to_bytes(), **cache.params()).to_bytes() == empty.to_bytes()


def test_subgen_denominator_is_exact_at_delta_zero_and_within_its_limit_otherwise():
    rng = np.random.default_rng(9)
    tokens = low_dim_stream(rng, 150, 2)
    probes = low_dim_stream(rng, 20, 2)
    probes[0] = 3 * unit(rng, 20, 2)
    for delta, t in ((0.0, 1), (0.4, 3), (1.5, 2)):
        cache = SubGenFourCache(delta, t, 8, seed=2, dtype="float64")
        cache.extend(*tokens)
        rows = subgen_guarantee(cache, tokens, probes)
        ratios = np.array([r["log_z_ratio"] for r in rows])
        limits = np.array([r["log_z_limit"] for r in rows])
        if delta == 0:
            assert np.allclose(ratios, 0.0, atol=1e-12)
        else:
            assert np.all(np.abs(ratios) <= limits + 1e-12) and np.any(np.abs(ratios) > 1e-6)
        assert all(r["error"] <= r["bound"] for r in rows)


def test_subgen_numerator_is_unbiased():
    """Mean of the numerator estimate over 400 seeds vs the exact pair sum.

    The estimate is an average of independent draws, so its mean over seeds is within 4.5 standard
    errors of the truth except with probability < 1e-4 per coordinate (normal approximation);
    the seeds are fixed, so the test is deterministic.
    """
    rng = np.random.default_rng(10)
    tokens = low_dim_stream(rng, 30, 3)
    probe = low_dim_stream(rng, 1, 3)
    probe[0] = 1.5 * unit(rng, 1, 3)
    exact = tensor_pair_sums(probe[0], (tokens[1], tokens[3], None), (tokens[2], tokens[4], None), own=probe[1:])
    truth = exact.u[0] * np.exp(exact.top[0])
    estimates = []
    for seed in range(400):
        cache = SubGenFourCache(0.5, 2, 3, seed=seed, dtype="float64")
        cache.extend(*tokens)
        numerator, _ = cache.estimates(*probe)
        estimates.append(numerator.u[0] * np.exp(numerator.top[0]))
    estimates = np.array(estimates)
    error = np.abs(estimates.mean(axis=0) - truth)
    standard_error = estimates.std(axis=0, ddof=1) / math.sqrt(len(estimates))
    assert np.all(error <= 4.5 * standard_error), (error, standard_error)
    assert np.any(estimates.std(axis=0) > 0.05 * np.abs(truth))  # it really is random


def test_subgen_memory_stays_flat_in_n_in_low_dimension():
    rng = np.random.default_rng(11)
    memories = []
    for n in (400, 1600):
        cache = SubGenFourCache(0.5, 4, 16, dtype="float32")
        cache.extend(*low_dim_stream(rng, n, 2))
        memories.append(cache.memory_bits)
    assert memories[1] <= 1.1 * memories[0]
    exact = ExactFourCache("float32")
    exact.extend(*low_dim_stream(rng, 1600, 2))
    assert memories[1] < exact.memory_bits / 10


def test_subgen_in_the_game_decodes_only_what_it_sampled(isolated_bob):
    reduction = TensorIndexReduction(64, 128)
    small, _ = play(reduction, SubGenFourCache(2.0, 1, 1, dtype="float16"), trials=1, seed=3, bob=isolated_bob)
    large, _ = play(reduction, SubGenFourCache(0.5, 1, 256, dtype="float16"), trials=1, seed=3, bob=isolated_bob)
    assert small["accuracy"] < 0.6 < large["accuracy"] < 1.0
    for point in (small, large):
        assert point["accuracy_low"] <= point["fano_max_accuracy"]


# --- certificates, experiment and figure -----------------------------------------------------


SMALL = {
    "tensor_game": {**TENSOR_GAME_PRESETS["quick"].to_dict(), "n": 64, "d": 128, "subgen": [[2.0, 1, 1], [0.5, 1, 64]]},
    "tensor_threshold": {**TENSOR_THRESHOLD_PRESETS["quick"].to_dict(), "n": 64, "d": 128,
                         "etas": [0.0, 0.3], "c_points": 4},
    "tensor_capacity": {**TENSOR_CAPACITY_PRESETS["quick"].to_dict(), "d_values": [4, 12], "log2_n_max": 6, "rows": 32},
    "tensor_memory": {**TENSOR_MEMORY_PRESETS["quick"].to_dict(), "n_values": [8, 16], "d": 8},
    "tensor_subgen": {**TENSOR_SUBGEN_PRESETS["quick"].to_dict(), "n": 64, "settings": [[0.5, 4, 16]], "queries": 8},
}


@pytest.fixture(scope="module")
def small_run(isolated_bob):
    """Each tensor experiment's ``{"summary", "trials"}`` on its small config, by name."""
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import run_sweep

    return {name: run_sweep(EXPERIMENTS[name], dict(config), 0, isolated_bob) for name, config in SMALL.items()}


def test_experiment_points_respect_the_frontier(small_run):
    summary = small_run["tensor_game"]["summary"]
    points = summary["points"]
    assert len(points) >= 10
    assert any(p["family"] == "SubGenFourCache" and p["accuracy"] < 0.99 for p in points)
    for point in points:
        assert {"cache", "memory_bits", "bits_encoded", "accuracy", "trials", "fano_max_accuracy"} <= set(point)
        assert point["accuracy_low"] <= point["fano_max_accuracy"], point["cache"]
    for curve in small_run["tensor_threshold"]["summary"]["curves"]:
        above = np.array(curve["C"]) > curve["theorem_threshold"]
        assert above.any() and np.all(np.array(curve["accuracy"])[above] == 1.0)


def test_experiment_capacity_and_timing(small_run):
    capacity = {(r["d"], r["reduction"]): r for r in small_run["tensor_capacity"]["summary"]["rows"]}
    for d in SMALL["tensor_capacity"]["d_values"]:
        tensor, standard = capacity[d, "tensor"]["capacity"], capacity[d, "standard"]["capacity"]
        assert tensor is not None and standard is not None
        assert abs(math.log2(tensor / standard)) <= 0.5  # the same capacity up to one grid step
    assert capacity[12, "tensor"]["capacity"] >= capacity[4, "tensor"]["capacity"]
    rows = {(r["family"], r["n"]): r for r in small_run["tensor_memory"]["summary"]["rows"]}
    for n in SMALL["tensor_memory"]["n_values"]:
        assert rows["ExactTwoCache", n]["memory_bits"] > n / 4 * rows["ExactFourCache", n]["memory_bits"]
    for setting in small_run["tensor_subgen"]["summary"]["settings"]:
        assert setting["denominator_within_limit"] and setting["within_bound"] >= 0.9


def test_experiment_sweeps_count_their_units(small_run):
    """tensor_game: cache × trial; tensor_capacity: d × reduction (each walks n to its first failure);
    tensor_memory: n; tensor_subgen: setting."""
    from barriers.experiments import EXPERIMENTS

    units = {"tensor_game": 19, "tensor_capacity": 4, "tensor_memory": 2, "tensor_subgen": 1}
    for name, count in units.items():
        assert len(EXPERIMENTS[name].sweep(SMALL[name], 0)) == count, name
    capacity = small_run["tensor_capacity"]
    success = capacity["summary"]["success_accuracy"]
    for curve in capacity["summary"]["rows"]:
        walk = [r for r in capacity["trials"] if r["d"] == curve["d"] and r["reduction"] == curve["reduction"]]
        assert [r["n"] for r in walk] == curve["n"]
        assert curve["censored"] or walk[-1]["accuracy"] < success <= min(r["accuracy"] for r in walk[:-1] or [1.0])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_figure_draws_a_real_an_empty_and_a_partial_summary(small_run, name):
    from matplotlib.figure import Figure

    from barriers.experiments import EXPERIMENTS
    from caches.spec import load_object

    summary = small_run[name]["summary"]
    partial = {
        "tensor_game": lambda s: {**s, "points": [{**s["points"][0], "accuracy_low": None, "memory_ratio": None}]},
        "tensor_threshold": lambda s: {**s, "curves": [{**s["curves"][0], "theorem_threshold": None}]},
        "tensor_capacity": lambda s: {**s, "rows": None},
        "tensor_memory": lambda s: {**s, "rows": [{"family": "ExactFourCache", "n": 4, "memory_bits": None}]},
        "tensor_subgen": lambda s: {**s, "rows": [{**s["rows"][0], "bound": None}], "failure": None},
    }[name](summary)
    for data in (summary, {}, partial):
        fig = load_object(EXPERIMENTS[name].figure)(data)
        assert isinstance(fig, Figure) and len(fig.axes) == (2 if name == "tensor_memory" else 1)
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
