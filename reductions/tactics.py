"""Certificates that close themselves: each carries its goal as an expression, the engine re-checks it.

A claim's check function (see :mod:`reductions.certify`) *builds* goals; it never declares its own
success. It returns one certificate or a list of them, and the certify runner calls
:meth:`Certificate.verify` on each. The kinds, strongest first:

* :class:`Identity` ``lhs == rhs`` for all values of its symbols allowed by their sympy
  assumptions (engine: sympy ``simplify``; never ``force=True``);
* :class:`Implies` ``hypotheses ⇒ goal`` over the reals (engine: sympy's sign inference when it
  succeeds, else z3's nonlinear real arithmetic; both symbolic over the whole domain);
* :class:`Cited` a named step taken from the literature, not machine-checked: any claim that
  contains one is at most "checked, cites ...";
* :class:`IntervalCheck` ``goal`` on a box, by rigorous interval arithmetic (mpmath ``iv``) with
  bisection: verified on the whole box, not on sample points;
* :class:`GridCheck` ``goal`` at finitely many points, exactly or at 50 digits;
* :class:`Counterexample` a *printed* claim evaluated at concrete values and found false.

Domains are carried by the symbols' assumptions (``positive=True``, ...) and by explicit
``hypotheses``. A parameter restricted to an open interval is encoded by substitution
(``ε = 1/(2(1+s))`` with ``s > 0`` covers exactly ``ε ∈ (0, 1/2)``), recorded in ``where`` so
that the generated statement shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import sympy as sp

__all__ = [
    "Certificate",
    "Identity",
    "Implies",
    "Cited",
    "IntervalCheck",
    "GridCheck",
    "Counterexample",
    "Outcome",
    "KIND_RANK",
    "eps_in_open_half",
    "gt",
    "ge",
    "lt",
    "le",
    "eta_in_open_unit",
]

#: Strength of each kind of certificate; a claim is as strong as its weakest certificate.
KIND_RANK = {"proved": 5, "cited": 4, "interval": 3, "grid": 2, "refuted": 1}


@dataclass(frozen=True)
class Outcome:
    """What verifying one certificate established."""

    ok: bool
    kind: str  # a key of KIND_RANK
    engine: str
    goal: str
    detail: str = ""


def _text(expr) -> str:
    return sp.sstr(expr) if isinstance(expr, sp.Basic) else str(expr)


def _domain_text(symbols, hypotheses, where) -> str:
    parts = []
    assumed = sorted((s for s in symbols if isinstance(s, sp.Symbol)), key=lambda s: s.name)
    for s in assumed:
        if s.is_positive:
            parts.append(f"{s} > 0")
        elif s.is_nonnegative:
            parts.append(f"{s} >= 0")
        elif s.is_real:
            parts.append(f"{s} real")
    parts.extend(_text(h) for h in hypotheses)
    parts.extend(f"{_text(k)} = {_text(v)}" for k, v in where.items())
    return ", ".join(parts)


class Certificate:
    """Base class: a goal that :meth:`verify` re-checks with a named engine."""

    def verify(self) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def statement(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Identity(Certificate):
    """``lhs == rhs`` identically, for every value its symbols' assumptions allow."""

    lhs: object
    rhs: object
    where: dict = field(default_factory=dict)
    note: str = ""

    def statement(self) -> str:
        expr = sp.sympify(self.lhs) - sp.sympify(self.rhs)
        domain = _domain_text(expr.free_symbols, [], self.where)
        return f"{_text(self.lhs)} == {_text(self.rhs)}" + (f" for {domain}" if domain else "")

    def verify(self) -> Outcome:
        difference = sp.sympify(self.lhs) - sp.sympify(self.rhs)
        forms = [difference]
        if difference.has(sp.Sum, sp.Product):
            forms.insert(0, difference.doit())  # exact: Sum(x, (b, 1, n)) = n x for x free of b
        closed = False
        for form in forms:
            closed = form == 0 or sp.simplify(form) == 0
            if not closed:
                closed = sp.simplify(sp.expand(sp.expand_log(sp.powsimp(form)))) == 0
            if closed:
                break
        detail = self.note or ("difference simplifies to 0" if closed else "difference does not simplify to 0")
        return Outcome(bool(closed), "proved", "sympy", self.statement(), detail)


@dataclass(frozen=True)
class Implies(Certificate):
    """``hypotheses ⇒ goal`` for all real values of the free symbols (with their assumptions).

    Engine ``auto`` tries sympy first (no hypotheses, goal ``a ⋈ b`` with the sign of ``a - b``
    inferred from the symbols' assumptions), then z3. Engine ``z3`` or ``sympy`` forces one.
    """

    goal: object
    hypotheses: Sequence = ()
    where: dict = field(default_factory=dict)
    engine: str = "auto"
    note: str = ""
    timeout_ms: int = 20000

    def statement(self) -> str:
        symbols = set(sp.sympify(self.goal).free_symbols)
        for h in self.hypotheses:
            symbols |= sp.sympify(h).free_symbols
        domain = _domain_text(symbols, [], self.where)
        premise = " and ".join(_text(h) for h in self.hypotheses)
        head = f"({premise}) => {_text(self.goal)}" if premise else _text(self.goal)
        return head + (f" for {domain}" if domain else "")

    def verify(self) -> Outcome:
        if sp.sympify(self.goal) is sp.true:
            return Outcome(False, "proved", "none", self.statement(),
                           "the goal was decided when it was built: build it with evaluate=False (tactics.gt, ...)")
        if self.engine in ("auto", "sympy"):
            if not self.hypotheses and _sympy_sign_closes(self.goal):
                return Outcome(True, "proved", "sympy", self.statement(), self.note or "sign inferred by sympy")
            if self.engine == "sympy":
                return Outcome(False, "proved", "sympy", self.statement(), "sympy could not infer the sign")
        ok, detail = _z3_proves(self.goal, self.hypotheses, self.timeout_ms)
        return Outcome(ok, "proved", "z3", self.statement(), self.note or detail if ok else detail)


@dataclass(frozen=True)
class Cited(Certificate):
    """A step taken from the literature and not checked here: name it and say where it is from."""

    fact: str
    source: str

    def statement(self) -> str:
        return f"{self.fact} [cited: {self.source}]"

    def verify(self) -> Outcome:
        return Outcome(True, "cited", "cited", self.statement(), f"cites {self.source}")


@dataclass(frozen=True)
class IntervalCheck(Certificate):
    """``goal`` (``a ⋈ b``, strict or not) on every point of a box, by interval arithmetic.

    The box is bisected along its widest side until ``a - b`` has a provable sign on each piece
    (mpmath ``iv``, outward rounding) or ``max_boxes`` pieces were tried.
    """

    goal: object
    box: dict  # symbol -> (low, high), closed interval
    max_boxes: int = 20000
    prec: int = 80
    note: str = ""

    def statement(self) -> str:
        ranges = ", ".join(f"{s} in [{lo}, {hi}]" for s, (lo, hi) in self.box.items())
        return f"{_text(self.goal)} for {ranges}"

    def verify(self) -> Outcome:
        import mpmath

        rel = sp.sympify(self.goal)
        strict = isinstance(rel, (sp.StrictLessThan, sp.StrictGreaterThan))
        gap = (rel.lhs - rel.rhs) if isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)) else (rel.rhs - rel.lhs)
        symbols = list(self.box)
        ctx = mpmath.iv
        ctx.prec = self.prec
        function = sp.lambdify(symbols, gap, modules=[_iv_namespace(ctx), "mpmath"])
        pending = [[_iv_hull(ctx, lo, hi) for lo, hi in (self.box[s] for s in symbols)]]
        tried = 0
        while pending:
            tried += 1
            if tried > self.max_boxes:
                return Outcome(False, "interval", "mpmath.iv", self.statement(), f"undecided after {self.max_boxes} boxes")
            piece = pending.pop()
            try:
                value = function(*piece)
            except (ZeroDivisionError, ValueError):
                value = None
            if value is not None and (value.a > 0 or (not strict and value.a >= 0)):
                continue
            if value is not None and value.b < 0:
                return Outcome(False, "interval", "mpmath.iv", self.statement(), f"violated on box {piece}")
            widths = [float(x.delta) for x in piece]
            k = max(range(len(piece)), key=widths.__getitem__)
            if widths[k] == 0:
                return Outcome(False, "interval", "mpmath.iv", self.statement(), f"undecided at point {piece}")
            middle = piece[k].mid
            left, right = list(piece), list(piece)
            left[k] = ctx.mpf([piece[k].a, middle])
            right[k] = ctx.mpf([middle, piece[k].b])
            pending.extend([left, right])
        return Outcome(True, "interval", "mpmath.iv", self.statement(), self.note or f"closed on {tried} boxes")


def _iv_hull(ctx, low, high):
    """The interval ``[low, high]``, endpoints enclosed outward (exact rationals stay exact)."""
    low, high = sp.Rational(low), sp.Rational(high)
    return ctx.mpf([(ctx.mpf(low.p) / low.q).a, (ctx.mpf(high.p) / high.q).b])


def _iv_namespace(ctx) -> dict:
    return {"exp": ctx.exp, "log": ctx.log, "sqrt": ctx.sqrt, "E": ctx.e, "pi": ctx.pi}


@dataclass(frozen=True)
class GridCheck(Certificate):
    """``goal`` at each of finitely many points (exact rationals where possible, else 50 digits)."""

    goal: object
    points: Sequence  # each a dict symbol -> value
    note: str = ""

    def statement(self) -> str:
        symbols = sorted(sp.sympify(self.goal).free_symbols, key=lambda s: s.name)
        return f"{_text(self.goal)} at {len(self.points)} grid points of ({', '.join(map(str, symbols))})"

    def verify(self) -> Outcome:
        if not self.points:
            return Outcome(False, "grid", "exact", self.statement(), "empty grid")
        for point in self.points:
            if _evaluate(self.goal, point) is not True:
                return Outcome(False, "grid", "exact/50 digits", self.statement(), f"fails at {point}")
        return Outcome(True, "grid", "exact/50 digits", self.statement(), self.note or f"{len(self.points)} points")


@dataclass(frozen=True)
class Counterexample(Certificate):
    """A printed claim (a sympy relation) that is false at ``values``: the runner re-evaluates it."""

    printed: object
    values: dict
    note: str = ""

    def statement(self) -> str:
        shown = ", ".join(f"{k} = {_text(v)}" for k, v in self.values.items())
        return f"NOT ({_text(self.printed)}) at {shown}"

    def verify(self) -> Outcome:
        holds = _evaluate(self.printed, self.values)
        ok = holds is False
        detail = self.note or ("the printed claim is false there" if ok else f"printed claim evaluates to {holds}")
        return Outcome(ok, "refuted", "exact/50 digits", self.statement(), detail)


def _evaluate(relation, values: dict):
    """Truth value of a relation at a point: both sides evaluated to 50 digits, then compared.

    Each side is substituted and evaluated on its own (sympy may otherwise decide the relation
    with a low-precision comparison of its own); an undecidable side gives ``None``.
    """
    replacements = {sp.sympify(k): sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v)
                    for k, v in values.items()}
    rel = sp.sympify(relation)
    if rel in (sp.true, sp.false):
        return bool(rel)
    if isinstance(rel, sp.core.relational.Relational):
        sides = [sp.sympify(side).xreplace(replacements).doit() for side in (rel.lhs, rel.rhs)]
        gap = sp.N(sides[0] - sides[1], 50)
        if not gap.is_Number:
            return None
        return bool(type(rel)(gap, 0))
    if isinstance(rel, (sp.And, sp.Or, sp.Not, sp.Implies)):
        parts = [_evaluate(a, values) for a in rel.args]
        if any(p is None for p in parts):
            return None
        if isinstance(rel, sp.Not):
            return not parts[0]
        if isinstance(rel, sp.Implies):
            return (not parts[0]) or parts[1]
        return all(parts) if isinstance(rel, sp.And) else any(parts)
    return None


# --- engines --------------------------------------------------------------------------------


def _sympy_sign_closes(goal) -> bool:
    """sympy infers the sign of ``lhs - rhs`` from the symbols' assumptions (as written, then simplified)."""
    rel = sp.sympify(goal)
    if not isinstance(rel, sp.core.relational.Relational) or isinstance(rel, (sp.Eq, sp.Ne)):
        return False
    sign = {sp.StrictGreaterThan: "is_positive", sp.GreaterThan: "is_nonnegative",
            sp.StrictLessThan: "is_negative", sp.LessThan: "is_nonpositive"}[type(rel)]
    gap = rel.lhs - rel.rhs
    for form in (lambda g: g, sp.simplify):
        try:
            if getattr(form(gap), sign) is True:
                return True
        except Exception:  # noqa: BLE001 - sympy bugs on nested sums: try the next form
            continue
    return False


def _z3_proves(goal, hypotheses, timeout_ms: int) -> tuple[bool, str]:
    """z3 shows ``hypotheses ∧ assumptions ∧ ¬goal`` unsatisfiable over the reals."""
    try:
        import z3
    except ImportError:
        return False, "z3-solver is not installed"
    expressions = [sp.sympify(goal), *(sp.sympify(h) for h in hypotheses)]
    symbols = sorted(set().union(*(e.free_symbols for e in expressions)), key=lambda s: s.name)
    names = {s: z3.Real(s.name) for s in symbols}
    try:
        translated_goal = _to_z3(expressions[0], names, z3)
        premises = [_to_z3(h, names, z3) for h in expressions[1:]]
    except _Untranslatable as error:
        return False, f"z3 cannot express {error}"
    for s in symbols:
        if s.is_positive:
            premises.append(names[s] > 0)
        elif s.is_nonnegative:
            premises.append(names[s] >= 0)
        elif s.is_negative:
            premises.append(names[s] < 0)
    solver = z3.Solver()
    solver.set("timeout", int(timeout_ms))
    solver.add(*premises)
    solver.add(z3.Not(translated_goal))
    answer = solver.check()
    if answer == z3.unsat:
        return True, "z3: negation unsatisfiable over the reals"
    if answer == z3.sat:
        return False, f"z3 found a counterexample: {solver.model()}"
    return False, f"z3 gave up ({solver.reason_unknown()})"


class _Untranslatable(Exception):
    pass


def _to_z3(expr, names, z3):
    if expr is sp.true:
        return z3.BoolVal(True)
    if expr is sp.false:
        return z3.BoolVal(False)
    if isinstance(expr, sp.Symbol):
        return names[expr]
    if isinstance(expr, sp.Integer):
        return z3.RealVal(int(expr))
    if isinstance(expr, sp.Rational):
        return z3.RealVal(f"{expr.p}/{expr.q}")
    if isinstance(expr, sp.Add):
        terms = [_to_z3(a, names, z3) for a in expr.args]
        return sum(terms[1:], terms[0])
    if isinstance(expr, sp.Mul):
        factors = [_to_z3(a, names, z3) for a in expr.args]
        product = factors[0]
        for f in factors[1:]:
            product = product * f
        return product
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        base = _to_z3(expr.base, names, z3)
        k = int(expr.exp)
        if k >= 0:
            result = z3.RealVal(1)
            for _ in range(k):
                result = result * base
            return result
        result = z3.RealVal(1)
        for _ in range(-k):
            result = result * base
        return 1 / result
    relations = {sp.StrictLessThan: "<", sp.LessThan: "<=", sp.StrictGreaterThan: ">", sp.GreaterThan: ">=",
                 sp.Eq: "==", sp.Ne: "!="}
    for kind, op in relations.items():
        if isinstance(expr, kind):
            a, b = _to_z3(expr.lhs, names, z3), _to_z3(expr.rhs, names, z3)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
    if isinstance(expr, sp.And):
        return z3.And(*[_to_z3(a, names, z3) for a in expr.args])
    if isinstance(expr, sp.Or):
        return z3.Or(*[_to_z3(a, names, z3) for a in expr.args])
    if isinstance(expr, sp.Not):
        return z3.Not(_to_z3(expr.args[0], names, z3))
    if isinstance(expr, sp.Implies):
        return z3.Implies(_to_z3(expr.args[0], names, z3), _to_z3(expr.args[1], names, z3))
    raise _Untranslatable(_text(expr))


# --- goals kept unevaluated, so that the engine (not construction) decides them ---------------


def gt(a, b):
    """``a > b`` as an unevaluated relation."""
    return sp.StrictGreaterThan(a, b, evaluate=False)


def ge(a, b):
    """``a >= b`` as an unevaluated relation."""
    return sp.GreaterThan(a, b, evaluate=False)


def lt(a, b):
    """``a < b`` as an unevaluated relation."""
    return sp.StrictLessThan(a, b, evaluate=False)


def le(a, b):
    """``a <= b`` as an unevaluated relation."""
    return sp.LessThan(a, b, evaluate=False)


# --- domain encodings -----------------------------------------------------------------------


def eps_in_open_half(name: str = "s") -> tuple[sp.Symbol, sp.Expr]:
    """``ε = 1/(2(1+s))`` with ``s > 0``: exactly ``ε ∈ (0, 1/2)``. Returns ``(s, ε(s))``."""
    s = sp.Symbol(name, positive=True)
    return s, 1 / (2 * (1 + s))


def eta_in_open_unit(name: str = "u") -> tuple[sp.Symbol, sp.Expr]:
    """``η = u/(1+u)`` with ``u > 0``: exactly ``η ∈ (0, 1)``. Returns ``(u, η(u))``."""
    u = sp.Symbol(name, positive=True)
    return u, u / (1 + u)
