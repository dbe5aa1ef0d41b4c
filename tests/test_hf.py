"""Real Hugging Face caches in the game (extra `hf`; `make test-hf`). Skipped when torch/transformers are absent."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("safetensors")

import safetensors.torch  # noqa: E402

from caches.hf import HFCache, safetensors_metadata  # noqa: E402
from caches.params import ParameterError  # noqa: E402
from protocols.game import play  # noqa: E402
from reductions.thm6 import ExactOutputReduction  # noqa: E402

SMALL = dict(q_group_size=16, residual_length=32)


def fp8_available() -> bool:
    """transformers' ``fp8`` QuantizedCache backend arrived in transformers 5.21; the ``hf`` extra stays
    below 5.3 so that kvpress (transformers < 5.3) installs beside it, so it is tested where present."""
    try:
        HFCache("quantized", backend="fp8")
    except ParameterError:
        return False
    return True


needs_fp8 = pytest.mark.skipif(not fp8_available(), reason="this transformers has no fp8 QuantizedCache backend (>= 5.21)")
CACHES = [
    HFCache("dynamic"),
    HFCache("dynamic", dtype="bfloat16"),
    HFCache("sliding", window=17),
    HFCache("quantized", backend="hqq", nbits=2, **SMALL),
    HFCache("quantized", backend="quanto", nbits=2, **SMALL),
    *([HFCache("quantized", backend="fp8")] if fp8_available() else []),
]


def stream(n=100, d=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, d)) / 2, rng.normal(size=(n, d))


def filled(cache):
    player = HFCache(**cache.params())
    player.extend(*stream())
    return player


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_round_trip_is_exact_and_the_message_is_safetensors(cache):
    player = filled(cache)
    message = player.to_bytes()
    assert player.memory_bits == 8 * len(message)
    tensors = safetensors.torch.load(message)  # a plain safetensors file: tensors plus a JSON header
    assert tensors and json.loads(safetensors_metadata(message)["cache"])["tokens"] == 100
    copy = HFCache.from_bytes(message, **cache.params())
    assert copy.to_bytes() == message
    probe = stream(n=6, seed=1)
    np.testing.assert_array_equal(player.probe(*probe), copy.probe(*probe))


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_probe_leaves_state_unchanged_and_matches_step(cache):
    player = filled(cache)
    before = player.to_bytes()
    Q, K, V = stream(n=4, seed=2)
    outputs = player.probe(Q, K, V)
    assert player.to_bytes() == before
    for r in range(4):
        copy = HFCache.from_bytes(before, **cache.params())
        np.testing.assert_allclose(copy.step(Q[r], K[r], V[r]), outputs[r], rtol=1e-12, atol=1e-12)


def test_memory_counts_what_each_cache_keeps():
    exact, half = filled(HFCache("dynamic")), filled(HFCache("dynamic", dtype="float16"))
    window = filled(HFCache("sliding", window=17))
    payload = lambda c: sum(t.numel() * t.element_size() for t in safetensors.torch.load(c.to_bytes()).values())  # noqa: E731
    assert payload(exact) == 2 * 100 * 16 * 4 and payload(half) == 2 * 100 * 16 * 2
    assert payload(window) == 2 * 16 * 16 * 4  # the layer keeps window - 1 tokens
    quantized = filled(HFCache("quantized", backend="hqq", nbits=2, **SMALL))
    assert payload(quantized) < payload(half)


def test_real_caches_play_the_game_isolated(isolated_bob):
    reduction = ExactOutputReduction(n=128, d=128)
    points = {}
    for cache in (HFCache("dynamic", dtype="float16"), HFCache("sliding", window=33),
                  HFCache("quantized", backend="hqq", nbits=2)):
        points[cache.kind + cache.backend], _ = play(reduction, cache, trials=1, seed=0, bob=isolated_bob)
    for point in points.values():
        assert point["accuracy_low"] <= point["fano_max_accuracy"]
    assert points["dynamichqq"]["accuracy"] == 1.0 and 32 < points["dynamichqq"]["memory_ratio"] < 33
    assert points["slidinghqq"]["accuracy"] < 0.66  # 32 of 128 rows kept: 0.625 expected
    assert points["quantizedhqq"]["accuracy"] > 0.99 and points["quantizedhqq"]["memory_ratio"] < 8


@needs_fp8
def test_fp8_cache_plays_the_game_isolated(isolated_bob):
    point, _ = play(ExactOutputReduction(n=128, d=128), HFCache("quantized", backend="fp8"), trials=1, seed=0,
                    bob=isolated_bob)
    assert point["accuracy"] > 0.99


def test_cli_plugs_in_a_real_cache(tmp_path):
    from barriers.cli import main

    assert main(["run", "budget", "--only", "--cache", "caches.hf:HFCache", "--cache-arg", "kind=quantized",
                 "--cache-arg", "backend=hqq", "--cache-arg", "nbits=8", "--set", "n=64", "--set", "d=128",
                 "--set", "trials=1", "--out", str(tmp_path)]) == 0
    (point,) = json.loads((tmp_path / "budget" / "summary.json").read_text())["points"]
    assert point["family"] == "HFCache" and point["accuracy"] == 1.0


def per_row_probe(cache, Q, K, V):
    """The adapter's per-row path: each row through its own ``update`` on a shallow copy of the layer."""
    import copy

    from caches.hf import torch_attention

    layer = cache._cache.layers[0]
    return np.array([torch_attention(Q[r : r + 1], *copy.copy(layer).update(cache._states(K[r]), cache._states(V[r])))[0]
                     for r in range(len(Q))])


@pytest.mark.parametrize("cache", CACHES, ids=repr)
def test_vectorized_probe_equals_the_per_row_probe(cache):
    player = filled(cache)
    Q, K, V = stream(n=40, seed=3)
    np.testing.assert_allclose(player.probe(Q, K, V), per_row_probe(player, Q, K, V), rtol=0, atol=1e-6)


def test_a_quantized_cache_whose_residual_fills_probes_per_row():
    player = HFCache("quantized", backend="hqq", nbits=2, q_group_size=16, residual_length=8)
    player.extend(*stream(n=20))  # the first update quantizes everything
    for seed in range(7):  # then 7 rows wait in the residual: the next row fills it
        player.extend(*stream(n=1, seed=10 + seed))
    assert player._shared_prefix(player._layer(), *stream(n=1, seed=6)[1:]) is None
    Q, K, V = stream(n=5, seed=4)
    np.testing.assert_allclose(player.probe(Q, K, V), per_row_probe(player, Q, K, V), rtol=0, atol=1e-6)


@pytest.mark.parametrize("params, message", [
    ({"kind": "static"}, "kind"),
    ({"kind": "quantized", "backend": "quanto", "nbits": 3}, "quanto"),
    ({"dtype": "float64"}, "dtype"),
    ({"window": 1}, "window"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        HFCache(**params)
