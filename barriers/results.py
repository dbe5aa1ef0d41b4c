"""The results contract other tools read.

``DIR/EXPERIMENT/summary.json`` (with ``"points"``), ``trials.csv``, ``config.json`` (command, seed,
git revision, package versions, platform) and the figure as PDF and PNG. The directory is built
under a temporary name and renamed at the end, so a failed run leaves nothing half-written.
Nothing time-dependent is written: the same seed gives the same files.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import math
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from protocols.store import source_revision as git_revision

PACKAGES = ("compression-barriers", "numpy", "sympy", "matplotlib", "tqdm")
#: Recorded only where installed: the real caches of ``caches/hf.py`` and ``caches/kvpress.py``.
OPTIONAL_PACKAGES = ("torch", "transformers", "kvpress", "hqq", "optimum-quanto")

#: Permissions of a results directory: readable by everyone, like the files in it
#: (``tempfile.mkdtemp`` alone would leave the owner-only 0700 of its staging directory).
DIRECTORY_MODE = 0o755


def clean_json(value):
    """Replace NaN and infinities (not JSON) with None, recursively; numpy scalars become Python."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    for name in OPTIONAL_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


#: Options that decide where and how a run executes, not what it computes: ``config.json`` leaves
#: them out of the recorded command, so a run gives the same files with any of them.
EXECUTION_OPTIONS = {"--workers": 1, "--scheduler": 1, "--fresh": 0}


def recorded_command(argv: list[str]) -> str:
    """``barriers`` and its arguments without :data:`EXECUTION_OPTIONS`."""
    kept, skip = [], 0
    for item in argv:
        if skip:
            skip -= 1
            continue
        name = item.split("=", 1)[0]
        if name in EXECUTION_OPTIONS:
            skip = EXECUTION_OPTIONS[name] if "=" not in item else 0
            continue
        kept.append(item)
    return " ".join(["barriers", *kept])


def provenance(experiment: str, preset: str, seed: int, config: dict, sandbox: str | None = None) -> dict:
    """What ``config.json`` records; ``sandbox`` says what confined the players
    (:attr:`protocols.sandbox.SandboxedPlayers.sandbox`, e.g. ``"landlock ABI 7"`` or ``"none"``)."""
    return {
        "experiment": experiment,
        "command": recorded_command(sys.argv[1:]),
        "preset": preset,
        "seed": seed,
        "config": config,
        "git_revision": git_revision(),
        "packages": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "release": platform.release()},
        "sandbox": sandbox,
    }


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(clean_json(data), indent=2, allow_nan=False) + "\n")


def write_csv(path: Path, rows: list[dict]) -> None:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(clean_json(rows))


def write_results(out_dir: Path, experiment: str, summary: dict, trials: list[dict], config_info: dict,
                  figure=None) -> Path:
    """Write the contract's files into ``out_dir/experiment`` atomically; return that directory."""
    summary = {**summary, "points": summary.get("points", [])}  # empty when no game is played
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / experiment
    staging = Path(tempfile.mkdtemp(prefix=f".{experiment}-", dir=out_dir))
    try:
        staging.chmod(DIRECTORY_MODE)
        write_json(staging / "summary.json", summary)
        write_csv(staging / "trials.csv", trials)
        write_json(staging / "config.json", config_info)
        if figure is not None:
            from plots.save import save_figure

            save_figure(figure, staging / experiment)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final
