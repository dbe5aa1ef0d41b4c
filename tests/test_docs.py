"""docs/theory.md is the mathematics the code cites: every citation must resolve, and its lists of
certificates must name claims that exist.

Docstrings cite sections as "docs/theory.md §N"; the sections are "## N. Title" headings, and each
section lists its certificates on a line "**Certified by:** `claim name`; `claim name`; ...".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reductions.certify import all_claims

REPO = Path(__file__).resolve().parents[1]
THEORY_DOC = REPO / "docs" / "theory.md"
SECTION_NUMBERS = tuple(range(10))

# Directories that hold no source of the project (environments, caches, build and run output).
SKIPPED_DIRECTORIES = {".venv", ".git", "__pycache__", "results", "build", "dist", ".pytest_cache", ".hypothesis"}
SOURCE_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".txt"}
SOURCE_NAMES = {"Makefile"}

SECTION_HEADING = re.compile(r"^## (\d+)\. \S", re.MULTILINE)
SECTION_REFERENCE = re.compile(r"docs/theory\.md\s*§\s*(\d+)")
# The old name of the mathematics file lives outside the repository; spelled in pieces so that
# this file does not match its own pattern.
OUTSIDE_FILE_REFERENCE = re.compile("THEO" + r"RY(?:\.md|\s*§)")
CERTIFIED_BY_LINE = re.compile(r"^\*\*Certified by:\*\*(.*)$", re.MULTILINE)
BACKTICKED = re.compile(r"`([^`]+)`")



def source_files() -> list[Path]:
    """Every source or documentation file of the repository, outside environments and output."""
    found = []
    for path in REPO.rglob("*"):
        relative = path.relative_to(REPO)
        if any(part in SKIPPED_DIRECTORIES or part.endswith(".egg-info") for part in relative.parts[:-1]):
            continue
        if path.is_file() and (path.suffix in SOURCE_SUFFIXES or path.name in SOURCE_NAMES):
            found.append(path)
    return sorted(found)


def theory_sections(text: str) -> list[int]:
    """The numbers of the "## N. Title" headings, in document order."""
    return [int(number) for number in SECTION_HEADING.findall(text)]


def certified_claim_names(text: str) -> list[str]:
    """The claim names listed on the "Certified by" lines, in document order."""
    return [name for line in CERTIFIED_BY_LINE.findall(text) for name in BACKTICKED.findall(line)]


@pytest.fixture(scope="module")
def theory_text() -> str:
    return THEORY_DOC.read_text(encoding="utf-8")


def test_theory_doc_has_sections_0_to_9_in_order(theory_text):
    assert theory_sections(theory_text) == list(SECTION_NUMBERS)


def test_every_section_reference_names_an_existing_section(theory_text):
    existing = set(theory_sections(theory_text))
    references, dangling = 0, []
    for path in source_files():
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for number in SECTION_REFERENCE.findall(line):
                references += 1
                if int(number) not in existing:
                    dangling.append(f"{path.relative_to(REPO)}:{line_number}: §{number}")
    assert references > 0, "no docstring cites docs/theory.md: the reference pattern is broken"
    assert dangling == [], "references to sections docs/theory.md does not have:\n" + "\n".join(dangling)


def test_no_source_file_cites_the_mathematics_outside_the_repository():
    offenders = []
    for path in source_files():
        if path == THEORY_DOC:
            continue
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE_FILE_REFERENCE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{line_number}: {line.strip()}")
    assert offenders == [], "cite docs/theory.md instead:\n" + "\n".join(offenders)


def test_every_numbered_section_after_notation_lists_its_certificates(theory_text):
    chunks = SECTION_HEADING.split(theory_text)[1:]  # number, body, number, body, ...
    bodies = {int(number): body for number, body in zip(chunks[::2], chunks[1::2])}
    without = [n for n in SECTION_NUMBERS[1:] if not certified_claim_names(bodies.get(n, ""))]
    assert without == [], f"sections without a 'Certified by' list of claims: {without}"


def test_certified_by_lines_name_registered_claims(theory_text):
    listed = certified_claim_names(theory_text)
    registered = {claim.name for claim in all_claims()}
    assert listed, "no claim names parsed from the 'Certified by' lines"
    unknown = sorted(set(listed) - registered)
    assert unknown == [], f"docs/theory.md lists claims that barriers proofs does not have: {unknown}"


def test_every_registered_claim_is_listed_in_the_theory_doc(theory_text):
    listed = set(certified_claim_names(theory_text))
    missing = [claim.name for claim in all_claims() if claim.name not in listed]
    assert missing == [], f"claims that no 'Certified by' line of docs/theory.md lists: {missing}"


def test_parsers_see_what_they_should():
    sample = "## 0. Notation\ntext\n## 1. INDEX\n**Certified by:** `a, b`; `c`\nnot `d`\n"
    assert theory_sections(sample) == [0, 1]
    assert certified_claim_names(sample) == ["a, b", "c"]
    cite = "docs/theory.md" + " §"  # in pieces: this file's own lines are scanned for citations
    assert SECTION_REFERENCE.findall(f"see {cite}9(a) and {cite}12") == ["9", "12"]
    assert OUTSIDE_FILE_REFERENCE.search("THEO" + "RY §3") and OUTSIDE_FILE_REFERENCE.search("THEO" + "RY.md")
    assert not OUTSIDE_FILE_REFERENCE.search("docs/theory.md §3")
