"""kvpress presses in the INDEX game (extra `kvpress`; `make test-kvpress`). Skipped without kvpress.

Offline: every model is built from a config (``HF_HUB_OFFLINE=1``), nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("torch")
pytest.importorskip("kvpress")

import kvpress  # noqa: E402
import torch  # noqa: E402

from caches.codec import HEADER_BYTES  # noqa: E402
from caches.kvpress import (  # noqa: E402
    REFUSED,
    VERIFIED,
    PressCache,
    inventory,
    press_names,
    run_press,
)
from caches.params import ParameterError  # noqa: E402

N, D = 96, 16


def stream(n=N, d=D, seed=0, query_scale=1.0):
    rng = np.random.default_rng(seed)
    return (query_scale * rng.standard_normal((n, d)), rng.standard_normal((n, d)) / math.sqrt(d),
            rng.standard_normal((n, d)))


def filled(cache, **kwargs):
    player = PressCache(**cache.params())
    player.extend(*stream(**kwargs))
    return player


PRESSES = [
    PressCache("KnormPress", {"compression_ratio": 0.5}),
    PressCache("SnapKVPress", {"compression_ratio": 0.75, "window_size": 8}, dtype="float32"),
    PressCache("AdaKVPress", {"press": {"press": "SnapKVPress", "press_args": {"compression_ratio": 0.5, "window_size": 8}}}),
    PressCache("ObservedAttentionPress", {"compression_ratio": 0.5}),
    PressCache("MergingPress", {"press": {"press": "KnormPress", "press_args": {"compression_ratio": 0.5}}}),
    PressCache("ThinKPress", {"key_channel_compression_ratio": 0.5, "window_size": 8}),
]


@pytest.mark.parametrize("cache", PRESSES, ids=repr)
def test_message_is_bytes_memory_is_counted_and_bob_rebuilds_it(cache):
    player = filled(cache)
    message = player.to_bytes()
    assert type(message) is bytes and player.memory_bits == 8 * len(message)
    kept = player._keys.shape[0]
    itemsize = np.dtype(cache.dtype).itemsize
    assert len(message) == HEADER_BYTES + 4 + kept * 2 * D * itemsize
    assert len(message) * 8 <= player.budget_bits(N, D)
    copy = PressCache.from_bytes(message, **cache.params())
    assert copy.to_bytes() == message
    probe = stream(n=7, seed=1)
    np.testing.assert_array_equal(player.probe(*probe), copy.probe(*probe))


def test_bob_needs_neither_torch_nor_kvpress(monkeypatch):
    message = filled(PRESSES[0]).to_bytes()
    import caches.kvpress as module

    monkeypatch.setattr(module, "_kvpress", lambda: pytest.fail("Bob imported kvpress"))
    copy = PressCache.from_bytes(message, **PRESSES[0].params())
    assert copy.probe(*stream(n=3, seed=2)).shape == (3, D)


def test_eviction_keeps_input_rows_and_merging_does_not():
    Q, K, V = stream()
    keys, values, rows = run_press("KnormPress", {"compression_ratio": 0.5}, Q, K, V)
    assert rows is not None and len(rows) == N // 2
    expected = np.sort(np.argsort(np.linalg.norm(K, axis=1))[: N // 2])  # knorm keeps the smallest key norms
    np.testing.assert_array_equal(np.sort(rows), expected)
    np.testing.assert_array_equal(keys, K[rows].astype(np.float32))
    checks = {cache.press: cache.check(N, D) for cache in PRESSES}
    assert checks["KnormPress"] == {"subset": True, "kept": N // 2}
    assert checks["MergingPress"]["subset"] is False and checks["MergingPress"]["kept"] == N // 2
    assert checks["ThinKPress"] == {"subset": False, "kept": N}  # zeroed key channels, every row kept


def test_a_masking_press_is_read_through_its_marked_indices():
    Q, K, V = stream()
    inner = {"compression_ratio": 0.5, "window_size": 8}
    ada_keys, _, ada_rows = run_press("AdaKVPress", {"press": {"press": "SnapKVPress", "press_args": inner}}, Q, K, V)
    _, _, snap_rows = run_press("SnapKVPress", inner, Q, K, V)
    assert ada_keys.shape[0] == N // 2  # AdaKV leaves every row in place and marks the pruned ones
    assert set(ada_rows) == set(snap_rows)  # one head: AdaKV's global top-k is its scorer's


class RecordingPress(kvpress.ScorerPress):
    """Scores by the attention the press itself computes from the hidden states (kvpress's 1/sqrt(d))."""

    seen: dict = {}

    def score(self, module, hidden_states, keys, values, attentions, kwargs):
        from kvpress.utils import get_prerope_query_states

        queries = get_prerope_query_states(module, hidden_states)
        weights = torch.softmax(queries[..., -1:, :] @ keys.transpose(-1, -2) / math.sqrt(module.head_dim), dim=-1)
        RecordingPress.seen = {"queries": queries[0, 0].double().numpy(), "weights": weights[0, 0, 0].double().numpy(),
                               "rotary": module.rotary_emb(queries, kwargs["position_ids"])}
        return weights[..., 0, :]


def test_the_press_ranks_what_hos_attention_weighs():
    Q, K, V = stream(query_scale=3.0)  # large queries: a softmax at another temperature would differ
    run_press(f"{__name__}:RecordingPress", {"compression_ratio": 0.5}, Q, K, V)
    seen = RecordingPress.seen
    np.testing.assert_allclose(seen["queries"], math.sqrt(D) * Q, rtol=1e-6)
    scores = K @ Q[-1]  # HO eq. 1: softmax(K q), no 1/sqrt(d)
    expected = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    np.testing.assert_allclose(seen["weights"], expected, rtol=1e-4, atol=1e-7)
    cos, sin = seen["rotary"]
    assert torch.all(cos == 1) and torch.all(sin == 0)  # no rotary effect


def test_snapkv_keeps_the_keys_hos_attention_weighs_most():
    Q, K, V = stream(query_scale=3.0)
    window, kernel, ratio = 8, 5, 0.5
    _, _, rows = run_press("SnapKVPress", {"compression_ratio": ratio, "window_size": window, "kernel_size": kernel},
                           Q, K, V)
    scores = Q[-window:] @ K.T  # the window's queries against every key, HO's scale, causal
    scores[np.triu_indices(window, k=N - window + 1, m=N)] = -np.inf
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    mean = weights[:, :-window].mean(axis=0)
    pooled = np.convolve(np.pad(mean, kernel // 2), np.ones(kernel) / kernel, mode="valid")
    expected = set(np.argsort(-pooled)[: int(N * (1 - ratio)) - window]) | set(range(N - window, N))
    assert set(rows) == expected


@pytest.mark.parametrize("press", ["QFilterPress", "KVzipPress", "FinchPress", "DuoAttentionPress", "DecodingPress"])
def test_presses_needing_a_model_tokenizer_or_hub_files_are_refused_in_one_line(press):
    with pytest.raises(ParameterError) as error:
        PressCache(press, {"compression_ratio": 0.5})
    text = str(error.value)
    assert text.startswith(f"{press} cannot play the INDEX game: it ") and "\n" not in text


@pytest.mark.parametrize("params, message", [
    ({"press": "NoSuchPress"}, "kvpress .* has no press 'NoSuchPress'"),
    ({"press": "KnormPress", "press_args": {"compression_ratio": 1.5}}, "KnormPress.*failed"),
    ({"press": "KnormPress", "press_args": {"ratio": 0.5}}, "KnormPress has no argument 'ratio'"),
    ({"press": "caches.exact:ExactCache"}, "is not a kvpress press"),
    ({"dtype": "int8"}, "dtype"),
])
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        PressCache(**params)


def test_inventory_enumerates_every_press_class():
    playing, refused = inventory(N, D, ratios=(0.5,))
    played = {cache.press for cache in playing}
    assert played | set(refused) == set(press_names())
    assert {press for press, _ in VERIFIED} <= played  # every verified configuration runs at this size
    assert set(REFUSED) & set(press_names()) <= set(refused)
    too_small, why = inventory(12, D, ratios=(0.5,))
    assert "SnapKVPress" in why and "fails at n=12" in why["SnapKVPress"]


def test_budget_plays_two_presses_below_the_frontier(tmp_path):
    from barriers.cli import main

    status = main(["run", "budget", "--only",
                   "--cache", "caches.kvpress:PressCache", "--cache-arg", "press=KnormPress",
                   "--cache-arg", 'press_args={"compression_ratio": 0.5}',
                   "--cache", "caches.kvpress:PressCache", "--cache-arg", "press=MergingPress",
                   "--cache-arg", 'press_args={"press": {"press": "KnormPress", "press_args": {"compression_ratio": 0.75}}}',
                   "--set", "n=64", "--set", "d=128", "--set", "trials=1", "--out", str(tmp_path)])
    assert status == 0
    summary = json.loads((tmp_path / "budget" / "summary.json").read_text())
    knorm, merging = summary["points"]
    assert knorm["family"] == "kvpress:KnormPress" and knorm["subset"] is True and knorm["kind"] == "kvpress"
    assert merging["family"] == "kvpress:MergingPress" and merging["subset"] is False
    for point in (knorm, merging):
        assert point["accuracy_low"] <= point["fano_max_accuracy"]
        assert point["memory_bits"] <= point["exact_memory_bits"]
    assert 0.65 < knorm["accuracy"] < 0.85  # half the rows kept: about 3/4 of the bits
    assert merging["memory_ratio"] < knorm["memory_ratio"]
    config = json.loads((tmp_path / "budget" / "config.json").read_text())
    assert config["packages"]["kvpress"] and config["packages"]["torch"]
