"""`barriers run EXPERIMENT --help` explains the experiment's parameters and the --cache classes' arguments."""

from __future__ import annotations

import re
import textwrap

import pytest

from barriers.cli import main
from barriers.experiments import EXPERIMENTS


def run_help(capsys, *args) -> str:
    assert main(["run", *args]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def parameter_rows(text: str) -> dict[str, tuple[str, str]]:
    """``name -> (type, default)`` from the parameter table after the ``parameters`` line."""
    section = text.split("parameters (--set", 1)[1].split("\n", 1)[1]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^  (\w+)\s{2,}(.+?)\s{2,}(\S.*)$", line)
        if not match:
            break
        rows[match[1]] = (match[2], match[3])
    return rows


def test_budget_help_lists_every_parameter_with_type_and_quick_default(capsys):
    text = run_help(capsys, "budget", "--help")
    assert text.startswith("usage: barriers run")
    rows = parameter_rows(text)
    assert list(rows) == [row["name"] for row in EXPERIMENTS["budget"].presets["quick"].parameters()]
    shown = {name: (kind, rest.split("  ")[0]) for name, (kind, rest) in rows.items()}  # type, quick default
    assert shown["n"] == ("an integer", "1024") and ">= 2" in rows["n"][1]
    assert shown["codebook"] == ("a string", '"normalized"')
    assert shown["kvpress"] == ("true or false", "false")
    assert shown["kvpress_ratios"] == ("a non-empty list of numbers", "[0.25, 0.5, 0.75, 0.9]")
    assert "[0.0, 1.0)" in rows["kvpress_ratios"][1]
    assert "checked against its type and allowed values" in text


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_explains_itself(capsys, name):
    quick = EXPERIMENTS[name].presets["quick"]
    text = run_help(capsys, name, "-h")
    rows = parameter_rows(text)
    assert list(rows) == [row["name"] for row in quick.parameters()]
    for row in quick.parameters():  # default, allowed values and meaning follow the type
        assert rows[row["name"]][1].startswith(row["default"])
        assert (row["allowed"] or "-") in rows[row["name"]][1] and row["doc"] in rows[row["name"]][1]
    assert "checked against its type and allowed values" in text


def test_a_range_in_the_help_is_the_range_enforced(capsys):
    text = run_help(capsys, "threshold", "--help")
    assert re.search(r"^  n\s+an integer\s+512\s+>= 2\s", text, flags=re.M)
    assert main(["run", "threshold", "--set", "n=1"]) == 2
    assert "n must be an integer >= 2, got 1" in capsys.readouterr().err


def test_cache_arguments_of_plugins_on_the_command_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "typed_help_cache.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass, field
        from typing import Literal

        from caches.exact import ExactCache


        @dataclass
        class TypedHelpCache(ExactCache):
            width: int = 8
            mode: Literal["fast", "slow"] = "fast"
            limit: int | None = None
            sizes: list = field(default_factory=lambda: [1, 2])
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    # --help before --cache: the cache still counts (the help is printed once parsing is done)
    text = run_help(capsys, "budget", "--help", "--cache", "typed_help_cache:TypedHelpCache",
                    "--cache", "caches.exact:ExactCache")
    typed = text.split("cache arguments of typed_help_cache:TypedHelpCache", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"^  dtype\s+a string\s+\"float64\"$", typed, flags=re.M)
    assert re.search(r"^  width\s+an integer\s+8$", typed, flags=re.M)
    assert re.search(r'^  mode\s+one of "fast", "slow"\s+"fast"$', typed, flags=re.M)
    assert re.search(r"^  limit\s+an integer or null\s+null$", typed, flags=re.M)
    assert re.search(r"^  sizes\s+a list\s+\[1, 2\]$", typed, flags=re.M)
    assert "cache arguments of caches.exact:ExactCache" in text


def test_help_does_no_work_and_writes_nothing(capsys, tmp_path):
    text = run_help(capsys, "budget", "--out", str(tmp_path / "out"), "--help")
    assert "parameters (--set" in text and not (tmp_path / "out").exists()


def test_help_before_the_experiment_is_the_plain_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: barriers run") and "parameters (--set" not in out


def test_help_for_an_unknown_experiment_or_cache_is_one_error_line(capsys):
    assert main(["run", "nosuch", "--help"]) == 2
    assert capsys.readouterr().err.startswith("barriers: error: unknown experiment 'nosuch'")
    assert main(["run", "budget", "--cache", "no_such_module:Cache", "--help"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("barriers: error: cannot import module 'no_such_module'") and err.count("\n") == 1
