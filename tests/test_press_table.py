"""`python -m barriers.press_table`: the README's kvpress table from a budget summary (JSON only, no torch)."""

from __future__ import annotations

import json

from barriers.press_table import BEGIN, END, main, press_rows


def point(label, memory_bits, accuracy, subset=True, kind="kvpress"):
    return {"label": label, "family": f"kvpress:{label}", "kind": kind, "memory_bits": memory_bits,
            "memory_ratio": memory_bits / 1000, "accuracy": accuracy, "subset": subset, "trials": 2,
            "bits_encoded": 1000, "exact_memory_bits": 32104, "half_memory_bits": 16104}


SUMMARY = {
    "n": 10, "d": 100, "success_accuracy": 0.99,
    "kvpress": {"version": "0.5.5", "ratios": [0.5, 0.9], "refused": {"QFilterPress": "QFilterPress cannot play the "
                                                                      "INDEX game: it loads | from the Hub"}},
    "points": [
        point("KnormPress", 16104, 0.75), point("KnormPress", 3304, 0.55),
        point("ThinKPress", 32104, 1.0, subset=False), point("ThinKPress", 32104, 0.995, subset=False),
        {"label": "exact", "family": "ExactCache", "kind": "reference", "memory_bits": 1, "memory_ratio": 0.001,
         "accuracy": 1.0},
    ],
}


def test_rows_per_press():
    knorm, think = press_rows(SUMMARY)
    assert knorm["ratio_for_99"] is None and knorm["members"] == 2 and knorm["subset"] is True
    assert knorm["best"]["accuracy"] == 0.75 and knorm["half"]["accuracy"] == 0.75
    assert think["subset"] is False and think["ratio_for_99"] == 32.104 and think["half"] is None


def test_99_percent_needs_the_lower_bound_not_the_point_estimate():
    # 99.5% of 2000 bits has a 99% Wilson lower bound below 99%: not yet "reaches 99%"
    only_close = {**SUMMARY, "points": [point("ThinKPress", 32104, 0.995, subset=False)]}
    (think,) = press_rows(only_close)
    assert think["ratio_for_99"] is None


def test_prints_markdown_and_rewrites_the_readme_block(tmp_path, capsys):
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(SUMMARY))
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{BEGIN}\nold table\n{END}\nafter\n")
    assert main([str(summary), "--readme", str(readme)]) == 0
    out = capsys.readouterr().out
    assert "| KnormPress | input rows | never (best 75.0% [72.4, 77.4]) | 75.0% [72.4, 77.4] |" in out
    assert '| ThinKPress | **not a subset** (`"subset": false`) | 32.1 | no member fits |' in out
    assert "| QFilterPress | refused: loads \\| from the Hub | | |" in out
    assert "exact" not in out.split("|---|")[1]
    text = readme.read_text()
    assert text.startswith(f"before\n{BEGIN}\n*kvpress 0.5.5") and text.endswith(f"{END}\nafter\n")
    assert "old table" not in text and text.count("| KnormPress |") == 1
    assert main([str(summary), "--readme", str(readme)]) == 0  # idempotent
    assert readme.read_text() == text


def test_a_summary_without_presses_is_an_error(tmp_path, capsys):
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"points": [SUMMARY["points"][-1]]}))
    assert main([str(summary)]) == 2
    assert "no kvpress points" in capsys.readouterr().err
