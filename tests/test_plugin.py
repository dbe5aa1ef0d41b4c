"""Plug-in caches: `barriers run budget --cache module:Class --cache-arg name=value` with a class from outside."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from barriers.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "n=64", "--set", "d=128", "--set", "trials=1"]

NOT_A_CACHE = '''
from dataclasses import dataclass

@dataclass
class Plain:
    stride: int = 2
'''

PICKY = '''
from dataclasses import dataclass
from caches.params import check_int
from my_cache import StrideCache

@dataclass
class PickyCache(StrideCache):
    def __post_init__(self):
        check_int("stride", self.stride, 1, 4)
        super().__post_init__()

class Undeclared(StrideCache.__base__):
    pass
'''


@pytest.fixture()
def plugin_dir(tmp_path):
    """The README's StrideCache as `my_cache.py` in a directory outside the package, plus helpers."""
    (block,) = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    (tmp_path / "my_cache.py").write_text(block)
    (tmp_path / "not_a_cache.py").write_text(NOT_A_CACHE)
    (tmp_path / "picky.py").write_text(PICKY)
    return tmp_path


def test_cli_runs_a_cache_from_outside_the_package(plugin_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(ROOT)])}
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "barriers.cli", "run", "budget", "--only", "--cache", "my_cache:StrideCache",
         "--cache-arg", "stride=2", "--cache", "my_cache:StrideCache", "--cache-arg", "stride=64", *TINY,
         "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "budget" / "summary.json").read_text())
    half, sparse = summary["points"]
    assert half["cache"] == "StrideCache(stride=2)" and half["kind"] == "plug-in"
    assert 15.5 < half["memory_ratio"] < 16.5 and 0.7 < half["accuracy"] < 0.8  # as the README says
    assert sparse["cache"] == "StrideCache(stride=64)" and sparse["accuracy"] < half["accuracy"]
    assert half["budget_bits"] is None  # it declares no budget, and needs not
    assert summary["families"][0]["family"] == "StrideCache"
    config = json.loads((out / "budget" / "config.json").read_text())
    assert config["config"]["caches"][0] == {"class": "my_cache:StrideCache", "params": {"stride": 2}}
    assert (out / "budget" / "budget.png").exists()


def test_cli_finds_a_module_in_the_working_directory(plugin_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(plugin_dir)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(plugin_dir))])
    out = tmp_path / "out"
    assert main(["run", "budget", "--only", "--cache", "picky:PickyCache", "--cache-arg", "stride=3", *TINY,
                 "--out", str(out)]) == 0
    assert json.loads((out / "budget" / "summary.json").read_text())["points"][0]["cache"] == "PickyCache(stride=3)"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cache", "my_cache"], "must look like 'package.module:Name'"),
        (["--cache", "no_such_module:Cache"], "cannot import module 'no_such_module'"),
        (["--cache", "my_cache:NoSuchCache"], "has no attribute 'NoSuchCache'"),
        (["--cache", "not_a_cache:Plain"], "not_a_cache:Plain is not a StreamingAttention"),
        (["--cache", "my_cache:StrideCache", "--cache-arg", "strides=2"],
         "StrideCache has no parameter 'strides'; its parameters are: stride"),
        (["--cache", "picky:PickyCache", "--cache-arg", "stride=9"], "stride must be an integer in [1, 4], got 9"),
        (["--cache", "picky:Undeclared"], "must be a @dataclass"),
        (["--cache-arg", "stride=2"], "--cache-arg 'stride=2' must follow a --cache"),
        (["--cache", "my_cache:StrideCache", "--cache-arg", "stride"], "--cache-arg takes NAME=VALUE"),
        (["--cache", "my_cache:StrideCache", "--set", 'caches=[{"class": "my_cache:StrideCache"}]'], "either"),
    ],
)
def test_bad_plugins_are_one_clear_line(plugin_dir, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.syspath_prepend(str(plugin_dir))
    out = tmp_path / "out"
    assert main(["run", "budget", *args, *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert err.startswith("barriers: error: ") and err.strip().count("\n") == 0
    assert not out.exists()


def test_cache_arg_values_are_json_else_strings():
    from barriers.cli import build_parser

    args = build_parser().parse_args(["run", "budget", "--cache", "a:B", "--cache-arg", "x=3", "--cache-arg",
                                      "y=float16", "--cache-arg", "z=[1, 2]", "--cache-arg", 'w={"k": null}'])
    assert args.caches == [{"class": "a:B", "params": {"x": 3, "y": "float16", "z": [1, 2], "w": {"k": None}}}]
