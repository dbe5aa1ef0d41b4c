"""Elementary lemmas shared by several certificates (no claims are registered here).

Each function returns :mod:`reductions.tactics` certificates that the claim using the lemma
includes in its own list, so the lemma is re-verified inside every claim that relies on it.

* :func:`exp_sign_certificates`: ``sign(e^y - 1) = sign(y)`` for real ``y``, hence ``exp`` and
  ``log`` are strictly increasing. This is the monotonicity step every threshold certificate uses
  after eliminating ``exp`` by a substitution ``w = e^y > 0`` (docs/theory.md §2, §3).
"""

from __future__ import annotations

import sympy as sp

from reductions.tactics import Identity, Implies, ge, gt, le, lt

__all__ = ["exp_sign_certificates", "gt", "ge", "lt", "le", "at"]






def at(expr, symbol, value):
    """``expr`` at ``symbol = value`` without sympy's automatic simplification (for readable goals)."""
    with sp.evaluate(False):
        return sp.sympify(expr).xreplace({symbol: sp.sympify(value)})


def exp_sign_certificates() -> list:
    """``e^y > 1 <=> y > 0`` and ``e^y < 1 <=> y < 0`` for real ``y``; ``e^b - e^a = e^a (e^{b-a} - 1)``.

    Write ``w = e^y > 0``, so ``y = log w`` (``log`` inverts ``exp`` on the reals: first
    certificate). Every ``w > 1`` is ``1 + m`` and every ``0 < w < 1`` is ``1/(1 + m)`` with
    ``m > 0``; sympy signs ``log(1 + m) > 0`` and ``log(1/(1 + m)) < 0``, and ``log 1 = 0``. So
    ``sign(y) = sign(w - 1)`` in both directions. With the factorization ``e^b - e^a =
    e^a (e^{b-a} - 1)`` and ``e^a > 0`` this makes ``exp`` strictly increasing.
    """
    y, a, b = sp.symbols("y a b", real=True)
    m = sp.Symbol("m", positive=True)
    note = "sign(exp(y) - 1) = sign(y): w = exp(y) > 0 is 1 + m or 1/(1 + m) (m > 0) or 1, and y = log w"
    return [
        Identity(sp.log(sp.exp(y), evaluate=False), y, note="log(exp(y)) = y for real y (sympy)"),
        Implies(gt(sp.log(1 + m), 0), note=note),
        Implies(lt(sp.log(1 / (1 + m)), 0), note=note),
        Identity(sp.log(sp.Integer(1), evaluate=False), 0, note="log 1 = 0"),
        Identity(sp.exp(b) - sp.exp(a), sp.exp(a) * (sp.exp(b - a) - 1),
                 note="exp(b) - exp(a) = exp(a)(exp(b - a) - 1): exp is strictly increasing"),
        Implies(gt(sp.exp(a), 0), note="exp(a) > 0 for real a (sympy)"),
    ]
