"""The command line: results contract, reproducibility, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from barriers.cli import main

TINY_BUDGET = ["--set", "n=64", "--set", "d=128", "--set", "trials=1"]


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "barriers.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_run_writes_the_results_contract(tmp_path):
    assert main(["run", "budget", "--out", str(tmp_path), "--seed", "3", *TINY_BUDGET]) == 0
    folder = tmp_path / "budget"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["budget.pdf", "budget.png", "config.json", "summary.json", "trials.csv"]
    summary = json.loads((folder / "summary.json").read_text())
    for point in summary["points"]:
        assert {"cache", "memory_bits", "bits_encoded", "accuracy", "trials", "fano_max_accuracy"} <= set(point)
        assert point["accuracy_low"] <= point["fano_max_accuracy"]
    exact = next(p for p in summary["points"] if p["cache"] == "ExactCache(dtype='float64')")
    assert exact["accuracy"] == 1.0
    config = json.loads((folder / "config.json").read_text())
    assert config["seed"] == 3 and config["config"]["n"] == 64
    assert {"git_revision", "packages", "platform", "command"} <= set(config)
    assert config["packages"]["numpy"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_same_seed_same_files(tmp_path):
    for out in ("a", "b"):
        assert main(["run", "threshold", "--out", str(tmp_path / out), "--set", "n=64", "--set", "d=128",
                     "--set", "c_points=3", "--set", "etas=[0.0, 0.3]"]) == 0
    for name in ("summary.json", "trials.csv", "threshold.pdf", "threshold.png"):
        assert (tmp_path / "a/threshold" / name).read_bytes() == (tmp_path / "b/threshold" / name).read_bytes()


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("budget", "phase", "threshold", "jl"):
        assert name in out


def test_proofs_exit_zero_and_json():
    result = run_cli("proofs", "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)["claims"]
    assert any(r["status"] == "refuted (counterexample)" and not r["relied_on"] for r in records)


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "nosuch"], "unknown experiment 'nosuch'"),
        (["run", "budget", "--preset", "huge"], "--preset must be one of quick, paper"),
        (["run", "budget", "--seed", "-1"], "--seed"),
        (["run", "budget", "--seed", "x"], "--seed"),
        (["run", "budget", "--set", "n=1"], "n must be an integer >= 2"),
        (["run", "budget", "--set", "n=2.5"], "n must be an integer"),
        (["run", "budget", "--set", "d=0"], "d must be an integer >= 1"),
        (["run", "budget", "--set", "trials=-2"], "trials"),
        (["run", "budget", "--set", "bogus=3"], "has no parameter 'bogus'"),
        (["run", "budget", "--set", "noequals"], "KEY=VALUE"),
        (["run", "threshold", "--set", "etas=[1.5]"], "etas"),
        (["run", "threshold", "--set", "etas=[-0.1]"], "etas"),
        (["run", "budget", "--set", "codebook=hadamard"], "codebook"),
        (["run", "budget", "--set", "n=4096", "--set", "d=8"], "eps"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    if args[0] == "run":
        args = [*args, "--out", str(tmp_path / "out")]
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "out").exists()
