"""Sandboxed players: every channel around Alice's message is closed, and the Fano guard catches leaks.

Each cheat of ``cheating.py`` wins with in-process players (the Fano guard stops that run: a
near-empty message cannot carry the bits) and must give Bob nothing with sandboxed ones: chance,
or a contract breach. "Chance" is an accuracy within 3.29 binomial standard deviations of 1/2
over the 16,384 bits (false alarm 0.1% per check, with x uniform and Bob's answers fixed).
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import uuid

import numpy as np
import pytest

import cheating
from barriers.cli import EXIT_LEAK, main
from protocols import landlock, sandbox
from protocols.game import CacheContractError, InProcessPlayers, frozen_spec, play, score, trial_input
from protocols.guard import InformationLeak, check_point
from protocols.sandbox import SandboxedPlayers
from reductions.thm6 import ExactOutputReduction

SMALL = ExactOutputReduction(n=128, d=128)
BITS = 128 * 128
CHANCE_BAND = 3.29 * math.sqrt(0.25 / BITS)


@pytest.fixture
def tag():
    """A unique name for a cheat's file, variable or segment; whatever an in-process run left is removed."""
    name = f"barriers-cheat-{uuid.uuid4().hex}"
    yield name
    for directory in ("/tmp", "/dev/shm"):
        if os.path.exists(os.path.join(directory, name)):
            os.remove(os.path.join(directory, name))
    os.environ.pop(name, None)
    cheating.remove_shared_memory(segment_key(name))


def segment_key(tag: str) -> int:
    return int(tag[-7:], 16) + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


CHANNELS = ["module global", "temporary file", "file in /dev/shm", "environment variable",
            "setsid child on loopback TCP", "System V shared memory"]


def cheats(tag: str) -> dict:
    return {
        "module global": cheating.CheatingCache(),
        "temporary file": cheating.FileCache(name=tag),
        "file in /dev/shm": cheating.FileCache(name=tag, directory="/dev/shm"),
        "environment variable": cheating.EnvironmentCache(variable=tag),
        "setsid child on loopback TCP": cheating.LoopbackCache(port=free_port()),
        "System V shared memory": cheating.SharedMemoryCache(key=segment_key(tag)),
    }


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_cheat_wins_in_process_and_the_guard_stops_it(channel, tag):
    cheating.reset()
    with pytest.raises(InformationLeak, match="information reached Bob outside the message"):
        play(SMALL, cheats(tag)[channel], trials=1, seed=2, bob=InProcessPlayers())
    cheating.reset()


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_cheat_falls_to_chance_sandboxed(channel, tag, isolated_bob):
    if channel == "System V shared memory" and "namespaces" not in isolated_bob.sandbox:
        pytest.skip("no private IPC namespace here: Landlock has no right for System V IPC")
    cheating.reset()
    point, _ = play(SMALL, cheats(tag)[channel], trials=1, seed=2, bob=isolated_bob)
    cheating.reset()
    assert point["memory_bits"] == 0
    assert abs(point["accuracy"] - 0.5) <= CHANCE_BAND, point
    assert not os.path.exists(os.path.join("/tmp", tag)) and not os.path.exists(os.path.join("/dev/shm", tag))
    assert tag not in os.environ


@pytest.mark.parametrize("players", ["in-process", "sandboxed"])
def test_a_public_parameter_filled_during_the_stream_is_a_breach(players, isolated_bob):
    players = InProcessPlayers() if players == "in-process" else isolated_bob
    cache = cheating.MutableParameterCache()
    with pytest.raises(CacheContractError, match=r"public parameter MutableParameterCache\.stash changed during the stream"):
        play(SMALL, cache, trials=1, seed=2, bob=players)
    assert cache.stash == []  # Alice played a frozen copy: the caller's object is untouched


def test_the_frozen_parameters_share_nothing_with_the_cache():
    cache = cheating.MutableParameterCache(stash=[[1, 2]])
    spec = frozen_spec(cache)
    cache.stash[0].append(3)
    assert spec["params"]["stash"] == [[1, 2]]


def test_parameters_that_are_not_plain_data_are_named():
    cache = cheating.MutableParameterCache(stash=[np.zeros(2)])
    with pytest.raises(CacheContractError, match=r"public parameter MutableParameterCache\.stash\[0\] must be plain data"):
        frozen_spec(cache)
    assert frozen_spec(cheating.MutableParameterCache(stash=[np.int64(3), (1.5, "a")]))["params"]["stash"] == [3, [1.5, "a"]]


def test_a_bytes_subclass_cannot_hide_its_length(isolated_bob):
    point, _ = play(SMALL, cheating.ShortBytesCache(), trials=1, seed=2, bob=isolated_bob)
    assert point["memory_bits"] == 8 * (24 + 2 * BITS * 8)  # every byte Bob received is counted
    assert point["accuracy"] == 1.0


@pytest.mark.parametrize("method", ["step", "extend", "probe", "to_bytes", "from_bytes"])
def test_an_exception_in_a_cache_method_names_the_class_and_method(method, isolated_bob):
    with pytest.raises(CacheContractError, match=rf"^RaisingCache\.{method} raised ValueError: boom$"):
        play(SMALL, cheating.RaisingCache(method), trials=1, seed=0, bob=isolated_bob)


def test_an_exception_is_named_the_same_way_in_process():
    with pytest.raises(CacheContractError, match=r"^RaisingCache\.step raised ValueError: boom$"):
        play(SMALL, cheating.RaisingCache("step"), trials=1, seed=0, bob=InProcessPlayers())


def test_a_player_that_dies_is_reported_with_its_last_output(isolated_bob):
    with pytest.raises(CacheContractError, match=r"DyingCache: Alice's process exited with status 7 .*about to vanish"):
        play(SMALL, cheating.DyingCache("exit"), trials=1, seed=0, bob=isolated_bob)


def test_a_player_that_runs_too_long_is_stopped():
    with SandboxedPlayers(timeout=1.0) as players:
        with pytest.raises(CacheContractError, match=r"DyingCache: Alice ran longer than the 1 s allowed"):
            play(SMALL, cheating.DyingCache("sleep"), trials=1, seed=0, bob=players)


def test_alices_children_are_gone_before_bob_starts(isolated_bob):
    reduction, x = trial_input(SMALL, seed=0, trial=0)
    orphan = int.from_bytes(isolated_bob.alice(reduction, cheating.OrphanCache(), x), "little")
    assert orphan > 0
    with pytest.raises(ProcessLookupError):
        os.kill(orphan, 0)
    # the same cache in-process leaves its grandchild running: the check above can fail
    orphan = int.from_bytes(InProcessPlayers().alice(reduction, cheating.OrphanCache(), x), "little")
    try:
        os.kill(orphan, 0)
    finally:
        os.kill(orphan, signal.SIGKILL)


def test_players_see_a_minimal_environment_and_a_private_directory(isolated_bob):
    """What a player sees, read through a cache that reports it (its message is the report)."""
    reduction, x = trial_input(SMALL, seed=0, trial=0)
    os.environ["BARRIERS_SECRET_OF_THE_CALLER"] = "1"
    try:
        report = json.loads(isolated_bob.alice(reduction, cheating.EnvironmentReport(), x))
    finally:
        del os.environ["BARRIERS_SECRET_OF_THE_CALLER"]
    assert set(report["environ"]) <= {"PATH", "LANG", "HOME", "TMPDIR"} | {
        name for name in report["environ"] if name.startswith(sandbox.KEPT_PREFIXES)}
    assert report["environ"]["HOME"] == report["environ"]["TMPDIR"] == report["cwd"] == report["tempdir"]
    assert not os.path.exists(report["cwd"])  # removed before Alice's message came back
    inherited = {int(fd): target for fd, target in report["open_fds"].items() if int(fd) > 2}
    assert inherited[3].startswith("pipe:") and inherited[4].startswith("/memfd:barriers-result")
    assert all(target.startswith("/memfd:barriers-task") for fd, target in inherited.items() if fd > 4)
    if landlock.used_abi() > 0:
        assert report["write_tmp"] in ("EACCES", "EROFS")
    if "namespaces" in isolated_bob.sandbox:
        assert report["interfaces"] == ["lo"]  # a fresh network namespace
    if "read-only mounts" in isolated_bob.sandbox:
        assert report["write_tmp"] == report["utime_outside"] == "EROFS"  # not even metadata changes


def test_the_sandbox_is_described(isolated_bob):
    described = isolated_bob.sandbox
    if landlock.used_abi():
        assert described.startswith(f"landlock ABI {landlock.used_abi()}")
    else:
        assert described in ("none", "private IPC and network namespaces")
    assert landlock.used_abi() <= landlock.KNOWN_ABI


def test_the_guard_compares_the_wilson_bound_with_the_frontier():
    check_point("chance", 0, BITS, BITS // 2 + 100, BITS)  # 50.6%: inside the noise at zero memory
    check_point("full memory", BITS, BITS, BITS, BITS)  # everything decoded with n·d bits is allowed
    check_point("half memory", BITS // 2, BITS, int(0.88 * BITS), BITS)  # the frontier at ratio 1/2 is 0.89
    with pytest.raises(InformationLeak, match=r"^half memory with 8192 bits of memory decoded 92\.00%"):
        check_point("half memory", BITS // 2, BITS, int(0.92 * BITS), BITS)


def test_score_applies_the_guard_to_every_scored_call():
    reduction, x = trial_input(SMALL, seed=2, trial=0)
    players = InProcessPlayers()
    cheating.reset()
    message = players.alice(reduction, cheating.CheatingCache(), x)
    with pytest.raises(InformationLeak, match=r"^CheatingCache\(\) with 0 bits of memory decoded 100\.00% of 16384 bits"):
        score(players, reduction, cheating.CheatingCache(), message, x)
    with pytest.raises(InformationLeak, match=r"decoded 100\.00% of 64 sampled rows"):
        score(players, reduction, cheating.CheatingCache(), message, x, rows=range(64))
    cheating.reset()


def test_a_leaking_plug_in_run_exits_3_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "SandboxedPlayers", InProcessPlayers)  # a harness that leaks
    cheating.reset()
    status = main(["run", "budget", "--only", "--cache", "cheating:CheatingCache", "--set", "n=128", "--set", "trials=1",
                   "--out", str(tmp_path / "out")])
    cheating.reset()
    assert status == EXIT_LEAK == 3
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("barriers: error: CheatingCache() with 0 bits of memory")
    assert error.endswith("information reached Bob outside the message")
    assert not (tmp_path / "out" / "budget").exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_config_json_records_the_sandbox(tmp_path):
    status = main(["run", "budget", "--only", "--cache", "caches.exact:ExactCache", "--set", "n=64", "--set", "trials=1",
                   "--out", str(tmp_path)])
    assert status == 0
    config = json.loads((tmp_path / "budget" / "config.json").read_text())
    assert config["sandbox"] == SandboxedPlayers().sandbox

