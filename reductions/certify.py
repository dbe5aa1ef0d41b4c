"""Proof certificates: every claim the suite checks, with an honest verdict.

A *claim* is one mathematical statement from a source (``"HO eq. 16"``, ``"THEORY §2"``) and a
zero-argument check function that returns a :class:`Verdict`. Claims are registered with the
:func:`claim` decorator, in declaration order, in a module-level :class:`Registry`::

    @claim(name="Lemma 21 polarization", source="HO Lemma 21",
           statement="<f(x),f(y)> = (||f(x+y)||^2 - ||f(x-y)||^2)/4 for linear f",
           relied_on=True)
    def _check_polarization() -> Verdict:
        ...
        return proved("sympy: expand(...) == 0")

Statuses are deliberately few and mean exactly what they say:

* ``proved (sympy)``: sympy closed it symbolically (exact Rationals, positivity/real assumptions);
  the detail says what sympy established and what, if anything, is cited rather than proved;
* ``verified on grid``: checked numerically at finitely many points; the detail states the grid;
* ``verified (interval arithmetic)``: checked with rigorous interval enclosures;
* ``refuted (counterexample)``: the claim is false; the detail gives the concrete values;
* ``failed``: a check that should have held did not, or the check itself raised.

Printed statements marked ``[sic]`` in THEORY.md are registered with ``relied_on=False``: the
suite reports them but builds on the corrected versions. :func:`exit_code` is 1 exactly when a
relied-on claim is not proved or verified.

Tests and experiments that want their own claims use a fresh :class:`Registry` so that they
never touch the global one.
"""

from __future__ import annotations

import enum
import importlib
import json
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

__all__ = [
    "Status",
    "Verdict",
    "Claim",
    "ClaimResult",
    "Registry",
    "REGISTRY",
    "claim",
    "proved",
    "verified_on_grid",
    "verified_interval",
    "refuted",
    "failed",
    "all_claims",
    "run_claim",
    "check_all",
    "render_table",
    "results_to_records",
    "results_to_json",
    "exit_code",
]


class Status(enum.Enum):
    """How a claim was settled; the value is the text shown in tables and JSON."""

    PROVED = "proved (sympy)"
    VERIFIED_GRID = "verified on grid"
    VERIFIED_INTERVAL = "verified (interval arithmetic)"
    REFUTED = "refuted (counterexample)"
    FAILED = "failed"

    @property
    def holds(self) -> bool:
        """True for the statuses that establish the claim (proved or verified)."""
        return self in _HOLDING

    def __str__(self) -> str:  # readable in f-strings and tables
        return self.value


_HOLDING = frozenset({Status.PROVED, Status.VERIFIED_GRID, Status.VERIFIED_INTERVAL})


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: a :class:`Status` and a human-readable detail."""

    status: Status
    detail: str

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            raise TypeError(f"Verdict.status must be a Status, got {self.status!r}")


def proved(detail: str) -> Verdict:
    """Verdict for a statement sympy closed symbolically (say what was proved in ``detail``)."""
    return Verdict(Status.PROVED, detail)


def verified_on_grid(detail: str) -> Verdict:
    """Verdict for a numerical check at finitely many points (``detail`` states the grid)."""
    return Verdict(Status.VERIFIED_GRID, detail)


def verified_interval(detail: str) -> Verdict:
    """Verdict for a check with rigorous interval enclosures."""
    return Verdict(Status.VERIFIED_INTERVAL, detail)


def refuted(detail: str) -> Verdict:
    """Verdict for a false claim (``detail`` gives the concrete counterexample)."""
    return Verdict(Status.REFUTED, detail)


def failed(detail: str) -> Verdict:
    """Verdict for a check that should have held but did not, or that errored."""
    return Verdict(Status.FAILED, detail)


@dataclass(frozen=True)
class Claim:
    """One checkable statement. ``check`` takes no arguments and returns a :class:`Verdict`."""

    name: str
    source: str
    statement: str
    relied_on: bool
    check: Callable[[], Verdict]
    module: str = ""


@dataclass(frozen=True)
class ClaimResult:
    """A claim, its verdict and how long the check took (seconds)."""

    claim: Claim
    verdict: Verdict
    seconds: float


class Registry:
    """An ordered collection of claims; names are unique within a registry.

    Re-registering a name from the same function (e.g. after ``importlib.reload``) replaces
    the old entry in place; a different function under a taken name is an error.
    """

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def claim(self, *, name: str, source: str, statement: str, relied_on: bool):
        """Decorator registering a zero-argument check function; returns it unchanged."""
        if not isinstance(relied_on, bool):
            raise TypeError(f"relied_on must be a bool, got {relied_on!r}")

        def register(check: Callable[[], Verdict]) -> Callable[[], Verdict]:
            entry = Claim(name, source, statement, relied_on, check, getattr(check, "__module__", ""))
            old = self._claims.get(name)
            if old is not None and _origin(old.check) != _origin(check):
                raise ValueError(f"claim name {name!r} is already registered by {_origin(old.check)}")
            self._claims[name] = entry
            check.claim = entry  # type: ignore[attr-defined]
            return check

        return register

    def claims(self) -> list[Claim]:
        """The registered claims in declaration order."""
        return list(self._claims.values())

    def get(self, name: str) -> Claim:
        """The claim called ``name`` (KeyError if absent)."""
        return self._claims[name]

    def __len__(self) -> int:
        return len(self._claims)

    def __iter__(self):
        return iter(self.claims())


def _origin(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"


REGISTRY = Registry()
"""The global registry that the result modules (``reductions.jl``, ...) register into."""


def claim(*, name: str, source: str, statement: str, relied_on: bool):
    """Register a check in the global :data:`REGISTRY` (see :meth:`Registry.claim`)."""
    return REGISTRY.claim(name=name, source=source, statement=statement, relied_on=relied_on)


def all_claims(registry: Registry | None = None) -> list[Claim]:
    """Import every result module and return the claims of ``registry`` (default global).

    The modules are ``reductions.<name>`` for each name in ``reductions.RESULT_MODULES``
    (an empty tuple if the package does not define it). An ImportError propagates: a missing
    result module must never make its claims silently disappear. Claims are ordered by the
    position of their module in ``RESULT_MODULES``, then by declaration order; claims of
    other modules come last.
    """
    import reductions

    names: Sequence[str] = tuple(getattr(reductions, "RESULT_MODULES", ()))
    for name in names:
        importlib.import_module(f"reductions.{name}")
    registry = REGISTRY if registry is None else registry
    rank = {f"reductions.{name}": k for k, name in enumerate(names)}
    listed = registry.claims()
    order = sorted(range(len(listed)), key=lambda k: (rank.get(listed[k].module, len(rank)), k))
    return [listed[k] for k in order]


def run_claim(entry: Claim) -> ClaimResult:
    """Run one check; exceptions and non-Verdict returns become ``failed``."""
    start = time.perf_counter()
    try:
        verdict = entry.check()
        if not isinstance(verdict, Verdict):
            verdict = failed(f"check returned {type(verdict).__name__}, not a Verdict")
    except Exception as exc:  # noqa: BLE001 - a crashing check is a failed certificate
        verdict = failed(f"{type(exc).__name__}: {exc}")
    return ClaimResult(entry, verdict, time.perf_counter() - start)


def check_all(claims: Iterable[Claim] | None = None) -> list[ClaimResult]:
    """Run every check (default: :func:`all_claims`) and return the results in order."""
    entries = all_claims() if claims is None else list(claims)
    return [run_claim(entry) for entry in entries]


def exit_code(results: Iterable[ClaimResult]) -> int:
    """1 iff some relied-on claim is not proved or verified, else 0."""
    return int(any(r.claim.relied_on and not r.verdict.status.holds for r in results))


def render_table(results: Sequence[ClaimResult], detail_width: int = 72) -> str:
    """A fixed-width text table: claim, source, status, relied on?, detail (truncated)."""
    header = ("claim", "source", "status", "relied on", "detail")
    rows = [
        (
            r.claim.name,
            r.claim.source,
            r.verdict.status.value,
            "yes" if r.claim.relied_on else "no",
            _truncate(" ".join(r.verdict.detail.split()), detail_width),
        )
        for r in results
    ]
    widths = [max(len(row[k]) for row in [header, *rows]) for k in range(4)]

    def line(row) -> str:
        cells = [row[k].ljust(widths[k]) for k in range(4)]
        return "  ".join([*cells, row[4]]).rstrip()

    rule = "  ".join("-" * w for w in [*widths, min(detail_width, max(len(r[4]) for r in [header, *rows]))])
    held = sum(r.verdict.status.holds for r in results)
    relied_bad = sum(r.claim.relied_on and not r.verdict.status.holds for r in results)
    footer = (
        f"{len(rows)} claims: {held} proved/verified, {len(rows) - held} not; "
        f"{relied_bad} relied-on claim(s) not established"
    )
    return "\n".join([line(header), rule, *(line(row) for row in rows), rule, footer])


def results_to_records(results: Iterable[ClaimResult]) -> list[dict]:
    """JSON-able dicts, one per result (full detail, not truncated)."""
    return [
        {
            "name": r.claim.name,
            "source": r.claim.source,
            "statement": r.claim.statement,
            "relied_on": r.claim.relied_on,
            "module": r.claim.module,
            "status": r.verdict.status.value,
            "holds": r.verdict.status.holds,
            "detail": r.verdict.detail,
            "seconds": float(r.seconds),
        }
        for r in results
    ]


def results_to_json(results: Sequence[ClaimResult], indent: int | None = 2) -> str:
    """JSON text ``{"claims": [...], "exit_code": 0|1}`` for the results."""
    payload = {"claims": results_to_records(results), "exit_code": exit_code(results)}
    return json.dumps(payload, indent=indent, ensure_ascii=False)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."
