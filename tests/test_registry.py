"""One registry: every experiment has a Make target that runs it, a figure that imports, a README
row, and `make figures` (`barriers run all`) runs exactly the registry."""

from __future__ import annotations

import re
from pathlib import Path

import barriers.cli
from barriers.experiments import EXPERIMENTS
from caches.spec import load_object
from protocols.experiment import Experiment

ROOT = Path(__file__).resolve().parents[1]


def make_recipes(text: str) -> dict[str, list[str]]:
    """Each Makefile target's recipe lines (tab-indented, comments and blanks skipped)."""
    recipes: dict[str, list[str]] = {}
    current = None
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("\t") and current is not None:
            recipes[current].append(line.strip())
        elif match := re.match(r"^([A-Za-z0-9_.$()/-]+)\s*:(?!=)", line):
            current = match.group(1)
            recipes.setdefault(current, [])
        elif line.strip() and not line.startswith("#"):
            current = None
    return recipes


def readme_make_targets(text: str) -> set[str]:
    """The "Make target" cells of the tables in the README's Results section."""
    section = text.split("\n## Results\n", 1)[1].split("\n## ", 1)[0]
    cells: set[str] = set()
    column = None
    for line in section.splitlines():
        if not line.startswith("|"):
            column = None
            continue
        row = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]  # "\|" is a literal bar
        if column is None:
            column = row.index("Make target") if "Make target" in row else -1
        elif 0 <= column < len(row) and not set(row[column]) <= set("-:"):
            cells.add(row[column].strip("`"))
    return cells


def registry_problems(experiments: dict[str, Experiment]) -> list[str]:
    recipes = make_recipes((ROOT / "Makefile").read_text())
    readme = readme_make_targets((ROOT / "README.md").read_text())
    problems = []
    for name, experiment in experiments.items():
        if experiment.make_target not in recipes:
            problems.append(f"{name}: no Makefile target {experiment.make_target!r}")
        elif f"$(RUN) {name}" not in recipes[experiment.make_target]:
            problems.append(f"{name}: `make {experiment.make_target}` does not run `$(RUN) {name}`")
        try:
            figure = load_object(experiment.figure)
        except Exception as error:  # noqa: BLE001 - any import failure is the finding
            problems.append(f"{name}: figure {experiment.figure!r} does not import ({error})")
        else:
            if not callable(figure):
                problems.append(f"{name}: figure {experiment.figure!r} is not callable")
        if experiment.headline is not None and not callable(load_object(experiment.headline)):
            problems.append(f"{name}: headline {experiment.headline!r} is not callable")
        if f"make {experiment.make_target}" not in readme:
            problems.append(f"{name}: no README Results row with Make target `make {experiment.make_target}`")
    if (make_recipes((ROOT / "Makefile").read_text()).get("figures") or [None])[0] != "$(RUN) all":
        problems.append("`make figures` is not `$(RUN) all`")
    return problems


def test_every_experiment_has_make_target_figure_and_readme_row():
    assert registry_problems(EXPERIMENTS) == []


def test_make_figures_runs_exactly_the_registry(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(barriers.cli, "run_one", lambda experiment, *args: ran.append(experiment.name))
    assert barriers.cli.main(["run", "all", "--out", str(tmp_path / "out")]) == 0
    assert ran == list(EXPERIMENTS)
    assert not (tmp_path / "out").exists()


def test_a_new_experiment_without_target_figure_or_row_is_caught(monkeypatch):
    template = EXPERIMENTS["threshold"]
    fake = Experiment("fake_result", "HO nothing", "fake_target", "nothing", template.presets, template.sweep,
                      template.measure, template.summarize, "plots.figures:no_such_figure")
    monkeypatch.setitem(EXPERIMENTS, fake.name, fake)
    problems = [p for p in registry_problems(EXPERIMENTS) if p.startswith("fake_result:")]
    assert len(problems) == 3, problems
    assert "Makefile" in problems[0] and "figure" in problems[1] and "README" in problems[2]
    # an existing target that does not run it is caught too
    monkeypatch.setitem(EXPERIMENTS, fake.name, Experiment(
        "fake_result", "HO nothing", "thm8", "nothing", template.presets, template.sweep, template.measure,
        template.summarize, template.figure))
    assert registry_problems(EXPERIMENTS) == ["fake_result: `make thm8` does not run `$(RUN) fake_result`"]
