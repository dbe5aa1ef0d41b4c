"""The runner's trial store and workers: resumed and distributed runs give the same bytes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from barriers.cli import main
from barriers.experiments import EXPERIMENTS
from caches.params import ParameterError
from protocols.game import InProcessPlayers
from protocols.runner import run_sweep
from protocols.store import TrialStore, store_path

SMALL = ["--set", "n=64", "--set", "d=64", "--set", "trials=2", "--set", 'families=["ExactCache","QuantizedCache"]']
FILES = ("summary.json", "trials.csv", "config.json", "budget.png")


def small_config() -> dict:
    from barriers.cli import parse_overrides

    return EXPERIMENTS["budget"].config("quick", parse_overrides([item for item in SMALL if item != "--set"]))


def files(directory: Path) -> dict[str, bytes]:
    return {name: (directory / "budget" / name).read_bytes() for name in FILES}


class Interrupt(Exception):
    pass


def test_a_run_interrupted_after_k_units_resumes_to_the_same_files(tmp_path, capsys):
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert main(["run", "budget", "--out", str(whole), *SMALL]) == 0
    config = small_config()
    units = EXPERIMENTS["budget"].sweep(config, 0)
    finished = []

    def stop_after_three(count):
        finished.append(count)
        if len(finished) == 3:
            raise Interrupt

    path = store_path(resumed, "budget", config, 0)
    with TrialStore(path, "budget", config, 0) as store, pytest.raises(Interrupt):
        run_sweep(EXPERIMENTS["budget"], config, 0, InProcessPlayers(), stop_after_three, store=store)
    with TrialStore(path, "budget", config, 0) as store:
        assert len(store.finished()) == 3 < len(units)
    assert not (resumed / "budget").exists()
    assert main(["run", "budget", "--out", str(resumed), *SMALL]) == 0
    assert files(resumed) == {**files(whole), "config.json": files(resumed)["config.json"]}
    assert _without_out(files(resumed)["config.json"], resumed) == _without_out(files(whole)["config.json"], whole)


def _without_out(config_json: bytes, out: Path) -> bytes:
    return config_json.replace(str(out).encode(), b"OUT")


def test_resuming_a_finished_run_measures_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    before = files(out)
    import protocols.runner

    def no_measuring(*args, **kwargs):
        raise AssertionError("a finished unit was measured again")

    monkeypatch.setattr(protocols.runner, "measure_unit", no_measuring)
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    assert files(out) == before


def test_a_finished_run_with_unchanged_files_is_up_to_date(tmp_path, monkeypatch, capsys):
    """At a clean revision, a finished run whose files are unchanged is not summarized or drawn again;
    a missing or changed file is made again from the store, byte for byte."""
    import barriers.cli
    import protocols.store

    monkeypatch.setattr(protocols.store, "source_revision", lambda: "0" * 40)
    out = tmp_path / "out"
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    before = files(out)
    real_run_one, runs = barriers.cli.run_one, []
    monkeypatch.setattr(barriers.cli, "run_one", lambda *a, **k: runs.append(1) or real_run_one(*a, **k))
    capsys.readouterr()
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    assert runs == [] and "is up to date" in capsys.readouterr().out
    (out / "budget" / "budget.png").unlink()
    (out / "budget" / "trials.csv").write_bytes(b"changed")
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    assert runs == [1] and files(out) == before
    monkeypatch.setattr(protocols.store, "source_revision", lambda: "0" * 40 + "-dirty")
    assert main(["run", "budget", "--out", str(out), "--fresh", *SMALL]) == 0
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    assert runs == [1, 1, 1], "in a modified tree the files are always made again"


def test_fresh_discards_the_store(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 0
    import protocols.runner

    calls = []
    real = protocols.runner.measure_unit
    monkeypatch.setattr(protocols.runner, "measure_unit", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert main(["run", "budget", "--out", str(out), "--fresh", *SMALL]) == 0
    assert len(calls) == len(EXPERIMENTS["budget"].sweep(small_config(), 0))


def test_a_store_written_by_another_config_is_refused(tmp_path):
    config = small_config()
    other = {**config, "trials": 3}
    path = tmp_path / "store.sqlite"
    with TrialStore(path, "budget", other, 0) as store:
        store.put("unit", [{"x": 1}])
    with pytest.raises(ParameterError, match=r"another run \(config trials=3, not 2\).*--fresh"):
        TrialStore(path, "budget", config, 0)
    with pytest.raises(ParameterError, match=r"another run \(seed 0, not 1\)"):
        TrialStore(path, "budget", other, 1)
    with pytest.raises(ParameterError, match=r"another run \(experiment 'budget', not 'phase'\)"):
        TrialStore(path, "phase", other, 0)


def test_a_foreign_or_damaged_store_is_a_clear_error(tmp_path, capsys):
    config = small_config()
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE things (a)")
    with pytest.raises(ParameterError, match="not a trial store of barriers"):
        TrialStore(foreign, "budget", config, 0)
    out = tmp_path / "out"
    path = store_path(out, "budget", config, 0)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    assert main(["run", "budget", "--out", str(out), *SMALL]) == 2
    error = capsys.readouterr().err
    assert "not a readable trial store" in error and "--fresh" in error and "Traceback" not in error
    assert not (out / "budget").exists()
    assert main(["run", "budget", "--out", str(out), "--fresh", *SMALL]) == 0


def test_no_one_and_two_workers_write_the_same_files(tmp_path):
    none, one, two = tmp_path / "none", tmp_path / "one", tmp_path / "two"
    assert main(["run", "budget", "--out", str(none), *SMALL]) == 0
    assert main(["run", "budget", "--out", str(one), "--workers", "1", *SMALL]) == 0
    assert main(["run", "budget", "--out", str(two), "--workers", "2", *SMALL]) == 0
    written = {out: files(out) for out in (none, one, two)}
    configs = {_without_out(found.pop("config.json"), out) for out, found in written.items()}
    assert len(configs) == 1 and b"--workers" not in configs.pop()
    assert written[none] == written[one] == written[two]


def test_workers_compute_with_the_callers_blas_threads(monkeypatch):
    from protocols.cluster import same_threads_environ

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    environ = same_threads_environ()
    assert environ["OPENBLAS_NUM_THREADS"] == "3" and "OMP_NUM_THREADS" not in environ


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers"),
    (["--workers", "two"], "--workers"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "either --workers"),
])
def test_bad_execution_options_exit_2(tmp_path, capsys, args, message):
    assert main(["run", "budget", "--out", str(tmp_path / "out"), *args, *SMALL]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
