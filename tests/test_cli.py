"""The command line: results contract, reproducibility, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".trials"]  # no staging left


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
    assert any(r["status"] == "refuted" and not r["relied_on"] for r in records)
    assert json.loads(result.stdout)["exit_code"] == 0 and all(r["goals"] for r in records)


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


# ---------------------------------------------------------------------------
# Every bad input is one line and exit 2 before any work (issue 10, items 6 and 7)
# ---------------------------------------------------------------------------

TYPED_CACHE = '''
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from caches.exact import ExactCache


@dataclass
class TypedCache(ExactCache):
    width: int = 4
    scale: float = 1.0
    exact: bool = True
    mode: Literal["fast", "slow"] = "fast"
    limit: Optional[int] = None
    sizes: list[int] | None = None
'''

BROKEN_CACHE = '''
from dataclasses import dataclass

from caches.base import StreamingAttention


@dataclass
class BrokenCache(StreamingAttention):
    def step(self, q, k, v):
        raise RuntimeError("boom in step")

    def extend(self, Q, K, V):
        raise RuntimeError("boom in extend")

    def to_bytes(self):
        return b""

    @classmethod
    def from_bytes(cls, data, **params):
        return cls(**params)
'''


def run_main(args, out, capsys, monkeypatch=None) -> str:
    """``barriers run ...`` in-process; asserts exit 2, one ``barriers: error:`` line, no results; returns it.

    With ``monkeypatch``, the run itself fails the test: the error must come before any work.
    """
    if monkeypatch is not None:
        def run_one(*args, **kwargs):
            raise AssertionError("the experiment started before its input was checked")

        monkeypatch.setattr("barriers.cli.run_one", run_one)
    existed = out.exists()
    assert main(["run", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("barriers: error: ") and err.strip().count("\n") == 0, err
    assert "Traceback" not in err
    assert out.exists() == existed and not (out.is_dir() and any(out.iterdir()))
    return err


@pytest.mark.parametrize(
    "args, message",
    [
        (["budget", "--set", "n=2.5"], "n must be an integer, got 2.5"),
        (["budget", "--set", "n=true"], "n must be an integer, got true"),
        (["budget", "--set", "n=notanint"], "n: malformed JSON 'notanint'"),
        (["budget", "--set", "trials=[2]"], "trials must be an integer, got [2]"),
        (["budget", "--set", "codebook=3"], "codebook must be a string, got 3"),
        (["threshold", "--set", "etas=0.3"], "etas must be a non-empty list of numbers, got 0.3"),
        (["threshold", "--set", "etas=[]"], "etas must be a non-empty list of numbers, got []"),
        (["threshold", "--set", "etas=null"], "etas must be a non-empty list of numbers, got null"),
        (["threshold", "--set", "etas=[0.1,"], "etas: malformed JSON '[0.1,'"),
        (["threshold", "--set", 'etas=[0.1, "x"]'], 'etas[1] must be a finite number, got "x"'),
        (["threshold", "--set", "etas=[NaN]"], "etas[0] must be a finite number, got NaN"),
        (["jl", "--set", "codebooks=[1]"], "codebooks[0] must be a string, got 1"),
        (["phase", "--set", "d_values=[16, 2.5]"], "d_values[1] must be an integer, got 2.5"),
        (["tensor_game", "--set", "subgen=[[2.0, 1, true]]"], "subgen[0][2] must be a finite number, got true"),
        (["cor9", "--set", 'subgen={"delta": "x", "t": 8, "s": 32}'], 'subgen.delta must be a finite number, got "x"'),
        (["phase", "--set", "d_values=[16, 0]"], "d_values[1] must be an integer in [1, 4096], got 0"),
    ],
)
def test_bad_set_values_are_one_line_before_any_work(tmp_path, capsys, monkeypatch, args, message):
    assert message in run_main(args, tmp_path / "out", capsys, monkeypatch)


def test_an_integral_float_is_an_integer_and_a_bare_word_only_a_string():
    from barriers.cli import parse_overrides
    from barriers.experiments import get_experiment

    config = get_experiment("budget").config("quick", parse_overrides(["n=1e3", "codebook=gaussian"]))
    assert config["n"] == 1000 and type(config["n"]) is int
    assert config["codebook"] == "gaussian" and type(config["codebook"]) is str
    threshold = get_experiment("threshold").config("quick", parse_overrides(["etas=[0, 0.25]"]))
    assert threshold["etas"] == [0, 0.25]  # a float parameter takes ints too


def test_value_types_follow_the_default():
    from caches.params import ParameterError
    from caches.paramtypes import BareWord, check_like

    assert check_like("flag", False, True) is False
    for wrong in (0, 1, "true", BareWord("yes")):
        with pytest.raises(ParameterError, match="flag"):
            check_like("flag", wrong, True)
    assert check_like("alpha", 1, 1e-3) == 1 and check_like("alpha", 2.5, 1e-3) == 2.5
    with pytest.raises(ParameterError, match=r"alpha must be a finite number, got Infinity"):
        check_like("alpha", float("inf"), 1e-3)
    assert check_like("families", ["a"], None) == ["a"]  # no type to check against: the experiment checks
    with pytest.raises(ParameterError, match="families: malformed JSON"):
        check_like("families", BareWord("[a"), None)


def test_budget_names_only_its_own_parameters_when_the_codebook_is_too_coherent(tmp_path, capsys, monkeypatch):
    err = run_main(["budget", "--set", "n=4096", "--set", "d=8"], tmp_path / "out", capsys, monkeypatch)
    assert "eps=" in err and "n=4096" in err and "d=8" in err
    assert " C " not in err and "pass C" not in err


@pytest.fixture()
def typed_plugin(tmp_path, monkeypatch):
    (tmp_path / "typed_cache.py").write_text(TYPED_CACHE)
    (tmp_path / "broken_cache.py").write_text(BROKEN_CACHE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "cache_args, message",
    [
        (["width=notanint"], "TypedCache.width: malformed JSON 'notanint'"),
        (["width=2.5"], "TypedCache.width must be an integer, got 2.5"),
        (["scale=[1]"], "TypedCache.scale must be a finite number, got [1]"),
        (["exact=1"], "TypedCache.exact must be true or false, got 1"),
        (["mode=medium"], 'TypedCache.mode must be one of "fast", "slow", got "medium"'),
        (["limit=1.5"], "TypedCache.limit must be an integer or null, got 1.5"),
        (["sizes=[1, 2.5]"], "TypedCache.sizes must be a list whose elements are each an integer or null, got [1, 2.5]"),
        (["widht=3"], "TypedCache has no parameter 'widht'"),
    ],
)
def test_cache_args_are_checked_against_the_annotations(typed_plugin, capsys, monkeypatch, cache_args, message):
    args = ["budget", "--cache", "typed_cache:TypedCache"]
    for item in cache_args:
        args += ["--cache-arg", item]
    assert message in run_main([*args, *TINY_BUDGET], typed_plugin / "out", capsys, monkeypatch)


def test_cache_args_are_converted_to_the_annotated_type(typed_plugin):
    from caches.spec import check_params
    from typed_cache import TypedCache

    params = check_params(TypedCache, {"width": 1e3, "scale": 2, "mode": "slow", "limit": None, "sizes": [3]})
    assert params == {"width": 1000, "scale": 2, "mode": "slow", "limit": None, "sizes": [3]}
    assert type(params["width"]) is int


def test_out_must_be_a_directory(tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    assert "--out must be a directory, got the file" in run_main(["budget", *TINY_BUDGET], a_file, capsys, monkeypatch)
    assert a_file.read_text() == "not a directory"
    below = a_file / "results"
    assert "below the file" in run_main(["budget", *TINY_BUDGET], below, capsys, monkeypatch)


def _unwritable_directory(tmp_path):
    """A directory where no file can be created: mode 0500, or under root (who ignores modes) ``/sys``."""
    import os
    import tempfile

    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked
    try:
        handle, probe = tempfile.mkstemp(dir="/sys")
    except OSError:
        return Path("/sys")
    os.close(handle)
    os.unlink(probe)
    pytest.skip("running as root with a writable /sys: no directory here refuses writes")


def test_out_must_be_writable_before_any_work(tmp_path, capsys, monkeypatch):
    out = _unwritable_directory(tmp_path) / "results"
    assert "--out must be a writable directory" in run_main(["budget", *TINY_BUDGET], out, capsys, monkeypatch)


def test_results_directories_are_world_readable(tmp_path):
    from barriers.results import write_results

    folder = write_results(tmp_path / "out", "demo", {"points": []}, [], {"seed": 0})
    assert folder.stat().st_mode & 0o777 == 0o755


def test_a_cache_raising_in_step_is_one_line(typed_plugin, capsys):
    err = run_main(["budget", "--only", "--cache", "broken_cache:BrokenCache", *TINY_BUDGET], typed_plugin / "out", capsys)
    assert "BrokenCache" in err and ("step" in err or "extend" in err)
