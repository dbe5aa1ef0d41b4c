"""``barriers report``: rows in registry order, every number with its interval, the README block."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import barriers.report
from barriers.cli import main
from barriers.experiments import EXPERIMENTS
from protocols.headline import unqualified_numbers


def point(family, ratio, accuracy, low, high, **extra):
    return {"cache": f"{family}()", "family": family, "memory_bits": int(ratio * 1024), "bits_encoded": 1024,
            "memory_ratio": ratio, "accuracy": accuracy, "accuracy_low": low, "accuracy_high": high,
            "trials": 1, "fano_max_accuracy": 1.0, **extra}


def threshold_point(eta, C, accuracy):
    return {"cache": "A()", "family": "AdversarialApproximation", "eta": eta, "C": C, "memory_bits": 8,
            "bits_encoded": 4096, "memory_ratio": 1.0, "accuracy": accuracy, "flipped_accuracy": 1 - accuracy,
            "trials": 1, "fano_max_accuracy": 1.0}


SUMMARIES = {
    "jl": {"points": []},
    "cor16": {"points": [point("WindowCache", 0.5, 0.51, 0.49, 0.53), point("WindowCache", 0.9, 0.52, 0.50, 0.54),
                         point("ExactCache", 2.0, 1.0, 0.99, 1.0)]},
    "threshold": {"curves": [{"eta": 0.3, "theorem_threshold": 20.0, "necessary_threshold": 5.0}],
                  "points": [threshold_point(0.3, 2.0, 0.5), threshold_point(0.3, 10.0, 0.9),
                             threshold_point(0.3, 30.0, 1.0)]},
    "budget": {"success_accuracy": 0.99,
               "points": [point("Designed", 0.9, 0.962, 0.959, 0.965, label="designed"),
                          point("Designed", 1.2, 0.999, 0.995, 1.0, label="designed"),
                          point("ExactCache", 32.0, 1.0, 0.9999, 1.0, label="exact")]},
}


@pytest.fixture
def results(tmp_path):
    root = tmp_path / "results"
    for name, summary in reversed(SUMMARIES.items()):  # written out of registry order
        (root / name).mkdir(parents=True)
        (root / name / "summary.json").write_text(json.dumps(summary))
        (root / name / "config.json").write_text(json.dumps(
            {"command": f"barriers run {name}", "preset": "quick", "seed": 0}))
    (root / "not_an_experiment").mkdir()
    return root


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| result |")]


def test_rows_in_registry_order_with_intervals(results, tmp_path):
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "out")]) == 0
    rows = table_rows((tmp_path / "out" / "results.md").read_text())
    names = [re.search(r"\(`(\w+)`\)", row).group(1) for row in rows]
    assert names == [name for name in EXPERIMENTS if name in SUMMARIES]
    by_name = dict(zip(names, rows))
    assert "designed 96.2% [95.9, 96.5]" in by_name["budget"] and "designed 1.20" in by_name["budget"]
    assert "(WindowCache) decodes 52.0% [50.0, 54.0]" in by_name["cor16"] and "ExactCache" not in by_name["cor16"]
    assert "see figure" in by_name["jl"]
    assert "Bob at most 50.0% [" in by_name["threshold"] and "flipped decoder at most 50.0% [" in by_name["threshold"]
    assert "Bob at least 100.0" in by_name["threshold"] and "90.0%" not in by_name["threshold"]
    assert "`make thm8`" in by_name["threshold"] and "`barriers run threshold` (preset quick, seed 0)" in by_name["threshold"]
    for row in rows:  # every percentage (but a confidence level) comes with its interval or says exact
        assert not [t for t in unqualified_numbers(row.replace("reaches 99%", "")) if "%" in t], row


def test_every_experiment_names_a_callable_headline():
    from caches.spec import load_object

    for name, experiment in EXPERIMENTS.items():
        assert experiment.headline, f"{name} names no headline"
        assert experiment.headline.split(":")[0] == experiment.summarize.__module__, f"{name}: headline not beside its summary"
        assert callable(load_object(experiment.headline)), name


def test_generic_headline_still_reads_points():
    from protocols.headline import generic_headline

    line = generic_headline(SUMMARIES["cor16"])
    assert "WindowCache: 52.0% [50.0, 54.0]" in line and "ExactCache" not in line
    assert generic_headline({"points": []}) == "see figure"


def test_same_summaries_same_bytes_and_default_out(results, tmp_path):
    assert main(["report", "--results", str(results)]) == 0
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "b")]) == 0
    assert (results / "results.md").read_bytes() == (tmp_path / "b" / "results.md").read_bytes()


def test_single_draw_is_said_when_counts_are_missing():
    from reductions.thm8 import threshold_headline

    summary = json.loads(json.dumps(SUMMARIES["threshold"]))
    for p in summary["points"]:
        del p["bits_encoded"]
    assert threshold_headline(summary).count("single draw") == 3


def test_readme_block_replaced_only_and_idempotent(results, tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    before, after = "# Title\n\n| hand | table |\n|---|---|\n\n", "\n## Next\ntext\n"
    readme.write_text(f"{before}{barriers.report.BEGIN}\nplaceholder\n{barriers.report.END}{after}")
    monkeypatch.setattr(barriers.report, "README", readme)
    assert main(["report", "--results", str(results), "--readme"]) == 0
    text = readme.read_text()
    assert text.startswith(before) and text.endswith(after) and "placeholder" not in text
    block = text[len(before):-len(after)]
    assert block.startswith(barriers.report.BEGIN + "\n| result |")
    assert block.split("\n", 1)[1] == (results / "results.md").read_text().split("\n\n", 2)[2] + barriers.report.END
    assert main(["report", "--results", str(results), "--readme"]) == 0
    assert readme.read_text() == text


def test_readme_without_markers_is_an_error_before_writing(results, tmp_path, monkeypatch, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    monkeypatch.setattr(barriers.report, "README", readme)
    assert main(["report", "--results", str(results), "--readme"]) == 2
    assert not (results / "results.md").exists() and readme.read_text() == "no markers\n"
    assert capsys.readouterr().err.startswith("barriers: error:")


def test_missing_results_dir_is_one_line_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "barriers.cli", "report", "--results", str(tmp_path / "none")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("barriers: error: --results")
    assert not (tmp_path / "none").exists()


def test_repo_readme_has_one_marked_block():
    text = barriers.report.README.read_text()
    assert text.count(barriers.report.BEGIN) == 1 and text.count(barriers.report.END) == 1


def test_readme_results_block_is_what_the_committed_summaries_give():
    """README numbers are generated: the block equals `barriers report` on docs/results/ (make readme)."""
    from pathlib import Path

    root = Path(barriers.report.__file__).resolve().parents[1]
    committed = root / "docs" / "results"
    assert sorted(p.name for p in committed.iterdir() if p.is_dir()) == sorted(EXPERIMENTS)
    body = barriers.report.table(barriers.report.rows(committed))
    text = (root / "README.md").read_text()
    block = text.split(barriers.report.BEGIN)[1].split(barriers.report.END)[0]
    assert block == f"\n{body}"
    headlines = [re.split(r"(?<!\\)\|", line)[4] for line in block.strip().splitlines()[2:]]
    assert len(headlines) == len(EXPERIMENTS) and not any(unqualified_numbers(h) for h in headlines)
