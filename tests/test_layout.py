"""Module layout: no result module imports another result module's private names.

Shared machinery (``certify``, ``tactics``, ``spike``, the lemma modules) is imported through its
public names; a theorem module's ``_name`` is its own (issue 12).
"""

from __future__ import annotations

import ast
from pathlib import Path

REDUCTIONS = Path(__file__).resolve().parent.parent / "reductions"


def private_imports(path: Path) -> list[str]:
    """``module: name`` for every ``from reductions.X import _name`` (X another module) in ``path``.

    Also ``X._name`` where ``X`` is another result module imported as a module.
    """
    found, aliases = [], {}
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "reductions":
            aliases.update({a.asname or a.name: a.name for a in node.names if a.name != path.stem})
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name.split(".")[1] for a in node.names
                            if a.asname and a.name.startswith("reductions.") and a.name.split(".")[1] != path.stem})
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{path.name}:{node.lineno}: reductions.{aliases[node.value.id]}.{node.attr}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level:
            continue
        module = node.module or ""
        if module == "reductions" or not module.startswith("reductions."):
            continue
        other = module.split(".")[1]
        if other == path.stem:
            continue
        found += [f"{path.name}:{node.lineno}: {module}.{alias.name}" for alias in node.names
                  if alias.name.startswith("_")]
    return found


def test_no_result_module_imports_another_modules_private_names():
    offenders = [hit for path in sorted(REDUCTIONS.glob("*.py")) for hit in private_imports(path)]
    assert not offenders, "private names imported across modules:\n" + "\n".join(offenders)


def test_the_layout_check_sees_private_imports(tmp_path):
    bad = tmp_path / "thm99.py"
    bad.write_text("from reductions.thm6 import ExactOutputReduction\n"
                   "from reductions.appE import _helper, public\n"
                   "def f():\n    from reductions.thm8 import _late\n"
                   "from reductions import jl\nimport reductions.thm5 as t5\nx = jl._seen, t5._also, jl.public\n")
    assert sorted(private_imports(bad)) == ["thm99.py:2: reductions.appE._helper", "thm99.py:4: reductions.thm8._late",
                                            "thm99.py:7: reductions.jl._seen", "thm99.py:7: reductions.thm5._also"]
    own = tmp_path / "thm8.py"
    own.write_text("from reductions.thm8 import _late\n")
    assert private_imports(own) == []


def test_shared_jl_spike_machinery_lives_in_spike():
    """Theorem modules take the spike reduction from reductions.spike, not from each other."""
    shared = {"SpikeQueryReduction", "decision_threshold", "threshold_C", "paper_C", "public_codebook",
              "SUCCESS_ACCURACY", "smallest_working_C", "threshold_certificates", "delta_bound", "Delta_bound"}
    offenders = []
    for path in sorted(REDUCTIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "reductions.thm6":
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name in shared]
            if isinstance(node, ast.Assign) and path.stem != "spike":
                offenders += [f"{path.name}: defines {t.id}" for t in node.targets
                              if isinstance(t, ast.Name) and t.id == "SUCCESS_ACCURACY"]
    assert not offenders, offenders
