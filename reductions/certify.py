"""The proof checker behind ``barriers proofs``: claims, isolated runs, honest statuses, a manifest.

A *claim* is one statement from a source (``"HO eq. 16"``) whose check function *builds* its goals
as :mod:`reductions.tactics` certificates and returns them; the runner verifies each one with its
engine, so a check cannot declare its own success::

    @claim(name="Lemma 21 polarization", source="HO Lemma 21", relied_on=True,
           statement="<f(x),f(y)> = (||f(x+y)||^2 - ||f(x-y)||^2)/4 for linear f")
    def _check_polarization():
        ...
        return Identity(lhs, rhs)

A claim's status is that of its weakest certificate:

* ``proved`` every goal closed symbolically over its whole stated domain (sympy or z3);
* ``checked, cites`` every goal closed, but some named steps are cited, not proved (listed);
* ``verified (interval)`` some goal holds on a box by rigorous interval arithmetic;
* ``verified on grid`` some goal checked at finitely many points only;
* ``refuted`` a printed claim found false at a concrete point (all certificates counterexamples);
* ``failed`` a certificate did not verify, the check raised (anything, ``SystemExit`` included),
  returned something else, or ran past its time limit.

Each check runs in its own forked process with a timeout. The committed manifest
(``reductions/claims.json``) lists every claim with its source, module, relied-on flag and
expected status; :func:`exit_code` is non-zero on any difference from it, on any ``failed``, and
on any relied-on claim that does not hold. ``barriers proofs --update-manifest`` rewrites it: a
deliberate, reviewed edit.
"""

from __future__ import annotations

import enum
import importlib
import json
import multiprocessing
import os
import pickle
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from reductions.tactics import KIND_RANK, Certificate, Outcome

MANIFEST = Path(__file__).with_name("claims.json")
DEFAULT_TIMEOUT = 30.0


class Status(enum.Enum):
    """How a claim was settled; the value is the text shown in tables, JSON and LaTeX."""

    PROVED = "proved"
    CITES = "checked, cites"
    INTERVAL = "verified (interval)"
    GRID = "verified on grid"
    REFUTED = "refuted"
    FAILED = "failed"

    @property
    def holds(self) -> bool:
        """True for the statuses that establish the claim (possibly citing named steps)."""
        return self in (Status.PROVED, Status.CITES, Status.INTERVAL, Status.GRID)

    def __str__(self) -> str:
        return self.value


_STATUS_OF_KIND = {"proved": Status.PROVED, "cited": Status.CITES, "interval": Status.INTERVAL,
                   "grid": Status.GRID, "refuted": Status.REFUTED}


@dataclass(frozen=True)
class Verdict:
    """The runner's verdict on one claim: plain data, safe to send between processes."""

    status: Status
    engines: tuple[str, ...]
    goals: tuple[str, ...]
    cites: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class Claim:
    """One checkable statement; ``check()`` returns a certificate or a list of them."""

    name: str
    source: str
    statement: str
    relied_on: bool
    check: Callable[[], object]
    module: str = ""
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    verdict: Verdict
    seconds: float


class Registry:
    """An ordered collection of claims; names are unique within a registry."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def claim(self, *, name: str, source: str, statement: str, relied_on: bool,
              timeout: float = DEFAULT_TIMEOUT):
        """Decorator registering a zero-argument check function; returns it unchanged."""
        if not isinstance(relied_on, bool):
            raise TypeError(f"relied_on must be a bool, got {relied_on!r}")

        def register(check):
            entry = Claim(name, source, statement, relied_on, check, getattr(check, "__module__", ""), timeout)
            old = self._claims.get(name)
            if old is not None and _origin(old.check) != _origin(check):
                raise ValueError(f"claim name {name!r} is already registered by {_origin(old.check)}")
            self._claims[name] = entry
            check.claim = entry
            return check

        return register

    def claims(self) -> list[Claim]:
        return list(self._claims.values())

    def get(self, name: str) -> Claim:
        return self._claims[name]

    def __len__(self) -> int:
        return len(self._claims)

    def __iter__(self):
        return iter(self.claims())


def _origin(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"


REGISTRY = Registry()
"""The global registry the result modules register into."""


def claim(*, name: str, source: str, statement: str, relied_on: bool, timeout: float = DEFAULT_TIMEOUT):
    """Register a check in the global :data:`REGISTRY`."""
    return REGISTRY.claim(name=name, source=source, statement=statement, relied_on=relied_on, timeout=timeout)


def all_claims(registry: Registry | None = None) -> list[Claim]:
    """Import every module of ``reductions.RESULT_MODULES`` and return the registry's claims in order."""
    import reductions

    names: Sequence[str] = tuple(reductions.RESULT_MODULES)
    for name in names:
        importlib.import_module(f"reductions.{name}")
    registry = REGISTRY if registry is None else registry
    rank = {f"reductions.{name}": k for k, name in enumerate(names)}
    listed = registry.claims()
    order = sorted(range(len(listed)), key=lambda k: (rank.get(listed[k].module, len(rank)), k))
    return [listed[k] for k in order]


# --- verifying one claim ------------------------------------------------------------------


def verdict_of(returned) -> Verdict:
    """Verify what a check returned: each certificate re-checked by its engine."""
    certificates = list(returned) if isinstance(returned, (list, tuple)) else [returned]
    if not certificates or not all(isinstance(c, Certificate) for c in certificates):
        kinds = ", ".join(sorted({type(c).__name__ for c in certificates})) or "nothing"
        return Verdict(Status.FAILED, (), (), (), f"check returned {kinds}, not certificates")
    outcomes: list[Outcome] = [c.verify() for c in certificates]
    goals = tuple(o.goal for o in outcomes)
    engines = tuple(sorted({o.engine for o in outcomes if o.engine != "cited"}))
    cites = tuple(o.goal for o in outcomes if o.kind == "cited")
    broken = [o for o in outcomes if not o.ok]
    if broken:
        detail = "; ".join(f"{o.goal}: {o.detail}" for o in broken)
        return Verdict(Status.FAILED, engines, goals, cites, f"not closed: {detail}")
    kinds = {o.kind for o in outcomes}
    if "refuted" in kinds and kinds != {"refuted"}:
        return Verdict(Status.FAILED, engines, goals, cites, "a claim cannot be both refuted and established")
    weakest = min(kinds, key=KIND_RANK.__getitem__)
    details = "; ".join(o.detail for o in outcomes if o.detail)
    return Verdict(_STATUS_OF_KIND[weakest], engines, goals, cites, details)


def _child(check: Callable, sender) -> None:
    try:
        verdict = verdict_of(check())
    except BaseException as error:  # noqa: BLE001 - anything a check raises is a failed certificate
        last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
        where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
        verdict = Verdict(Status.FAILED, (), (), (), f"check raised {type(error).__name__}: {error}{where}")
    try:
        sender.send_bytes(pickle.dumps(verdict))
    finally:
        sender.close()
        os._exit(0)


def run_claim(entry: Claim) -> ClaimResult:
    """Run one check in a forked process, with its time limit; every failure mode is ``failed``."""
    return check_all([entry], workers=1)[0]


@dataclass
class _Running:
    index: int
    entry: Claim
    process: multiprocessing.Process
    receiver: object
    start: float


def _launch(index: int, entry: Claim) -> _Running:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(entry.check, sender), daemon=True)
    process.start()
    sender.close()
    return _Running(index, entry, process, receiver, time.perf_counter())


def _finish(job: _Running, timed_out: bool) -> ClaimResult:
    verdict = None
    if not timed_out:
        try:
            verdict = pickle.loads(job.receiver.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError):
            verdict = None
    job.process.join(timeout=0 if timed_out else 5)
    if job.process.is_alive():
        job.process.kill()
        job.process.join()
    job.receiver.close()
    seconds = time.perf_counter() - job.start
    if verdict is None:
        reason = (f"exceeded its time limit of {job.entry.timeout:g} s" if timed_out
                  else f"check process ended without a verdict (exit code {job.process.exitcode})")
        verdict = Verdict(Status.FAILED, (), (), (), reason)
    return ClaimResult(job.entry, verdict, seconds)


def check_all(claims: Iterable[Claim] | None = None, workers: int | None = None) -> list[ClaimResult]:
    """Run every check (default :func:`all_claims`), each in its own forked process, ``workers`` at a time."""
    from multiprocessing.connection import wait

    entries = all_claims() if claims is None else list(claims)
    workers = workers or max(1, len(os.sched_getaffinity(0)))
    results: list[ClaimResult | None] = [None] * len(entries)
    queue = list(enumerate(entries))[::-1]
    running: list[_Running] = []
    while queue or running:
        while queue and len(running) < workers:
            running.append(_launch(*queue.pop()))
        now = time.perf_counter()
        deadline = min(job.start + job.entry.timeout for job in running)
        ready = wait([job.receiver for job in running], timeout=max(0.0, deadline - now))
        for job in list(running):
            timed_out = job.receiver not in ready and time.perf_counter() >= job.start + job.entry.timeout
            if job.receiver in ready or timed_out:
                running.remove(job)
                results[job.index] = _finish(job, timed_out)
    return results  # type: ignore[return-value]


# --- the manifest -------------------------------------------------------------------------


def manifest_entry(result: ClaimResult) -> dict:
    c = result.claim
    return {"name": c.name, "source": c.source, "module": c.module, "relied_on": c.relied_on,
            "status": result.verdict.status.value}


def write_manifest(results: Sequence[ClaimResult], path: Path = MANIFEST) -> None:
    """Record the current claims and statuses as the expected ones (a deliberate, reviewed edit)."""
    failed = [r.claim.name for r in results if r.verdict.status is Status.FAILED]
    if failed:
        raise ValueError(f"refusing to record failed claims in the manifest: {', '.join(failed)}")
    payload = {"claims": [manifest_entry(r) for r in results]}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")


def read_manifest(path: Path = MANIFEST) -> list[dict]:
    if not path.exists():
        return []
    return json.loads(path.read_text())["claims"]


def manifest_differences(results: Sequence[ClaimResult], expected: list[dict] | None = None) -> list[str]:
    """Every way the run differs from the manifest: claims added, removed, renamed or changed."""
    expected = read_manifest() if expected is None else expected
    wanted = {e["name"]: e for e in expected}
    found = {r.claim.name: manifest_entry(r) for r in results}
    problems = [f"claim not in the manifest: {name!r}" for name in found if name not in wanted]
    problems += [f"claim missing from this run: {name!r} ({wanted[name]['module']})"
                 for name in wanted if name not in found]
    for name in wanted.keys() & found.keys():
        for key in ("source", "module", "relied_on", "status"):
            if wanted[name][key] != found[name][key]:
                problems.append(f"{name!r}: {key} is {found[name][key]!r}, the manifest says {wanted[name][key]!r}")
    return sorted(problems)


def problems(results: Sequence[ClaimResult], expected: list[dict] | None = None) -> list[str]:
    """Everything that makes ``barriers proofs`` fail: failures, unsupported relied-on claims, drift."""
    found = [f"{r.claim.name!r} failed: {r.verdict.detail}" for r in results if r.verdict.status is Status.FAILED]
    found += [f"{r.claim.name!r} is relied on but {r.verdict.status.value}" for r in results
              if r.claim.relied_on and r.verdict.status not in (Status.FAILED,) and not r.verdict.status.holds]
    return found + manifest_differences(results, expected)


def exit_code(results: Sequence[ClaimResult], expected: list[dict] | None = None) -> int:
    """0 exactly when nothing failed, every relied-on claim holds and the manifest matches."""
    return int(bool(problems(results, expected)))


# --- output -------------------------------------------------------------------------------


def _engine_text(verdict: Verdict) -> str:
    return "+".join(verdict.engines) or "-"


def render_table(results: Sequence[ClaimResult], width: int = 100) -> str:
    """A text table no wider than ``width`` columns: claim, source, status, engine, relied on."""
    status_w = max(len(s.value) for s in Status)
    engine_w = max([len("engine"), *(len(_engine_text(r.verdict)) for r in results)])
    engine_w = min(engine_w, 18)
    source_w = 24
    name_w = width - status_w - engine_w - source_w - 4 - 2 * 4
    header = ("claim", "source", "status", "engine", "rely")

    def cut(text: str, size: int) -> str:
        return text if len(text) <= size else text[: size - 1] + "…"

    def line(cells) -> str:
        sizes = (name_w, source_w, status_w, engine_w, 4)
        return "  ".join(cut(c, s).ljust(s) for c, s in zip(cells, sizes)).rstrip()

    rows = [line(header), "-" * width]
    for r in results:
        rows.append(line((r.claim.name, r.claim.source, r.verdict.status.value, _engine_text(r.verdict),
                          "yes" if r.claim.relied_on else "no")))
    counts = {s: sum(r.verdict.status is s for r in results) for s in Status}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    rows += ["-" * width, cut(f"{len(results)} claims: {summary}", width)]
    return "\n".join(rows)


def results_to_records(results: Iterable[ClaimResult]) -> list[dict]:
    return [
        {
            "name": r.claim.name,
            "source": r.claim.source,
            "statement": r.claim.statement,
            "module": r.claim.module,
            "relied_on": r.claim.relied_on,
            "status": r.verdict.status.value,
            "holds": r.verdict.status.holds,
            "engines": list(r.verdict.engines),
            "goals": list(r.verdict.goals),
            "cites": list(r.verdict.cites),
            "detail": r.verdict.detail,
            "seconds": round(float(r.seconds), 3),
        }
        for r in results
    ]


def results_to_json(results: Sequence[ClaimResult], indent: int | None = 2) -> str:
    payload = {"claims": results_to_records(results), "problems": problems(results),
               "exit_code": exit_code(results)}
    return json.dumps(payload, indent=indent, ensure_ascii=False)


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def results_to_latex(results: Sequence[ClaimResult]) -> str:
    """A ``longtable`` (claim, source, status, engine) for a paper's appendix."""
    lines = [
        "% generated by `barriers proofs --latex`; needs \\usepackage{longtable}",
        "\\begin{longtable}{p{0.42\\linewidth}p{0.2\\linewidth}p{0.16\\linewidth}p{0.12\\linewidth}}",
        "\\textbf{Claim} & \\textbf{Source} & \\textbf{Status} & \\textbf{Engine}\\\\ \\hline\\endhead",
    ]
    for r in results:
        cells = (r.claim.name, r.claim.source, r.verdict.status.value, _engine_text(r.verdict))
        lines.append(" & ".join(_latex_escape(c) for c in cells) + "\\\\")
    lines.append("\\end{longtable}")
    return "\n".join(lines) + "\n"
