"""Sampled Bob rows (INDEX asks about a uniform index) and Alice's chunked stream."""

from __future__ import annotations

import numpy as np
import pytest

from caches import ExactCache, FrequentDirectionsCache, HashedBitsCache, WindowCache
from caches.params import ParameterError
from caches.spec import build, object_spec
from caches.zoo import ZOO
from protocols import game
from protocols.game import InProcessPlayers, TrialOutcome, play, play_trial, trial_rows
from barriers.experiments import EXPERIMENTS
from protocols.runner import run_sweep
from reductions.budget import BudgetConfig
from reductions.thm6 import ExactOutputReduction

SMALL = ExactOutputReduction(n=256, d=64)  # seeds below chosen so every trial's codebook has eps < 1/2


LOSSY = [HashedBitsCache(hash_bits=14, parity=2), FrequentDirectionsCache(rank=32)]


@pytest.mark.parametrize("cache", [ExactCache(), *LOSSY], ids=repr)
def test_sampled_rows_interval_contains_the_all_rows_accuracy(isolated_bob, cache):
    # Caches whose errors spread over the bits (not row by row): a 99% interval misses with
    # probability about 1% per cache; the seed is fixed, the verdict is the same on every run.
    full, _ = play(SMALL, cache, trials=3, seed=10, bob=isolated_bob)
    sampled, outcomes = play(SMALL, cache, trials=3, seed=10, bob=isolated_bob, rows=64)
    assert [o.bits_decoded for o in outcomes] == [64 * 64] * 3
    assert [o.bits_encoded for o in outcomes] == [256 * 64] * 3
    assert sampled["accuracy_low"] <= full["accuracy"] <= sampled["accuracy_high"]
    assert sampled["memory_bits"] == full["memory_bits"]
    assert sampled["fano_max_accuracy"] == full["fano_max_accuracy"]  # per the n·d bits encoded


@pytest.mark.parametrize("cache", LOSSY, ids=repr)
def test_lossy_caches_are_lossy_here(isolated_bob, cache):
    point, _ = play(SMALL, cache, trials=1, seed=10, bob=isolated_bob, rows=64)
    assert point["accuracy"] < 0.99


def test_eviction_sample_interval_is_taken_over_rows(isolated_bob):
    # A window cache is right on the rows it keeps and at chance on the others, so its errors come
    # row by row: a sample of rows varies like the kept fraction of the sample, far more than bits
    # would. The interval is therefore over the sampled rows (game.interval_units) and must still
    # contain the all-rows accuracy; a bit-level Wilson interval would be about 8x narrower.
    full, _ = play(SMALL, WindowCache(window=96), trials=3, seed=10, bob=isolated_bob)
    sampled, outcomes = play(SMALL, WindowCache(window=96), trials=3, seed=10, bob=isolated_bob, rows=64)
    assert sampled["accuracy_low"] <= full["accuracy"] <= sampled["accuracy_high"]
    assert game.interval_units(1, 2, outcomes)[0] == 3 * 64  # rows, not bits
    assert 0.6 < sampled["accuracy"] < 0.8  # about 1/2 + 3/16


def test_sample_is_reproducible_distinct_and_differs_between_trials():
    a, b = trial_rows(256, 64, seed=3, trial=0), trial_rows(256, 64, seed=3, trial=0)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 64 and a.min() >= 0 and a.max() < 256
    assert not np.array_equal(a, trial_rows(256, 64, seed=3, trial=1))
    assert not np.array_equal(a, trial_rows(256, 64, seed=4, trial=0))
    assert trial_rows(256, None, seed=3, trial=0) is None
    np.testing.assert_array_equal(trial_rows(256, 256, seed=3, trial=0), np.arange(256))


def test_all_rows_reproduce_the_outcomes_and_the_instance_is_unchanged_by_sampling():
    players = InProcessPlayers()
    point, outcomes = play(SMALL, WindowCache(window=32), trials=2, seed=9, bob=players)
    assert point == play(SMALL, WindowCache(window=32), trials=2, seed=9, bob=players, rows=None)[0]
    # The outcome of the unsampled game as computed before rows existed: all n·d bits, scored directly.
    for o in outcomes:
        reduction, x = game.trial_input(SMALL, 9, o.trial)
        message = players.alice(reduction, WindowCache(window=32), x)
        direct = game.score(players, reduction, WindowCache(window=32), message, x)
        assert o == TrialOutcome(o.trial, reduction.public_seed, 8 * len(message), x.size, direct.correct, x.size,
                                 reduction.shape[0])
    sampled = play_trial(SMALL, WindowCache(window=32), 9, 0, players, rows=16)
    assert (sampled.public_seed, sampled.memory_bits, sampled.bits_encoded) == \
        (outcomes[0].public_seed, outcomes[0].memory_bits, outcomes[0].bits_encoded)


@pytest.mark.parametrize("rows", [0, 257, -1, 2.5, "many"])
def test_rows_out_of_range_is_a_parameter_error(rows):
    with pytest.raises(ParameterError, match=r"^rows must be an integer in \[1, 256\], got") as error:
        play(SMALL, ExactCache(), trials=1, seed=0, bob=InProcessPlayers(), rows=rows)
    assert "\n" not in str(error.value)


def test_budget_config_checks_rows_and_points_record_them(isolated_bob):
    assert BudgetConfig().rows is None
    assert BudgetConfig(n=256, d=64, rows=128).rows == 128
    for bad in (0, 257):
        with pytest.raises(ParameterError, match=r"^rows must be an integer in \[1, 256\]"):
            BudgetConfig(n=256, d=64, rows=bad)
    with pytest.raises(ParameterError, match="rows"):
        BudgetConfig().with_overrides({"n": 256, "rows": 1000})
    result = run_sweep(EXPERIMENTS["budget"], {"n": 256, "d": 64, "trials": 1, "rows": 32, "families": ["ExactCache"]}, 3, isolated_bob)
    point = result["summary"]["points"][0]
    assert point["rows_decoded"] == 32 and point["accuracy"] == 1.0 and point["bits_encoded"] == 256 * 64
    assert result["trials"][0]["bits_decoded"] == 32 * 64


MEMBERS = [cache for family in ZOO for cache in family.members(300, 16)]


@pytest.mark.parametrize("cache", MEMBERS, ids=repr)
def test_chunked_stream_gives_the_message_of_one_extend(cache, monkeypatch):
    rng = np.random.default_rng(0)
    stream = (rng.normal(size=(300, 16)), rng.normal(size=(300, 16)) / 2, rng.normal(size=(300, 16)))
    whole = build(object_spec(cache))
    whole.extend(*stream)
    monkeypatch.setattr(game, "ALICE_CHUNK", 300)  # one chunk: one extend, for every cache
    assert game.alice_plays(game.frozen_spec(cache), stream) == whole.to_bytes()
    monkeypatch.setattr(game, "ALICE_CHUNK", 37)
    chunked = game.alice_plays(game.frozen_spec(cache), stream)
    assert chunked == whole.to_bytes()


def test_stream_chunks_cover_the_stream():
    stream = (np.arange(10), np.arange(10) * 2)
    chunks = list(game.stream_chunks(stream, 4))
    assert [len(c[0]) for c in chunks] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), stream[1])
    assert list(game.stream_chunks(stream, 10)) == [stream]
