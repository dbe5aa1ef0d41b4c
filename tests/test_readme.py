"""The README's plug-in example is real: it runs as written and its claims hold."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_plugin_example_runs_and_says_what_the_readme_says(tmp_path):
    (block,) = python_blocks()
    assert len(block.splitlines()) <= 60
    (tmp_path / "my_cache.py").write_text(block)
    result = subprocess.run([sys.executable, "my_cache.py"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    ratio, accuracy, fano = map(float, re.findall(r"[-+]?\d*\.\d+", result.stdout))
    assert 15.5 < ratio < 16.5
    assert 0.7 < accuracy < 0.8
    assert fano == 1.0


def test_readme_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"(?:^|`)make ([A-Za-z0-9_-]+)(?![=\w])", (ROOT / "README.md").read_text(), flags=re.M)):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_readme_paths_exist():
    for path in re.findall(r"\]\((docs/[^)]+)\)", (ROOT / "README.md").read_text()):
        assert (ROOT / path).exists(), path


def test_readme_certificate_counts_come_from_the_manifest():
    """The results table's certificate row says what reductions/claims.json records."""
    import collections
    import json

    claims = json.loads((ROOT / "reductions" / "claims.json").read_text())["claims"]
    counts = collections.Counter(claim["status"] for claim in claims)
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| certificates |"))
    expected = (f"{len(claims)} claims: {counts['proved']} proved (sympy/z3), {counts['checked, cites']} checked "
                f"citing named steps, {counts['verified on grid']} verified on grids, {counts['refuted']} printed "
                f"claims refuted")
    assert expected in row
