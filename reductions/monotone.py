"""Order facts that certificates use to eliminate ``log``, ``exp`` and ``x^d``, each certified here.

z3 reasons about polynomials only, so a certificate that needs ``e^s <= e^r`` or ``x^d <= y^d``
names the values as fresh variables and takes an *instance* of one of these lemmas as a hypothesis.
Each function returns the certificates (:mod:`reductions.tactics`) of one lemma over its own
symbols; a claim that uses the lemma returns them too, so the lemma is re-checked with the claim.

* :func:`log_increasing`: ``0 < a <= b  =>  log a <= log b``;
* :func:`exp_increasing`: ``t >= 0 => e^t >= 1`` and ``t > 0 => e^t > 1`` (so ``exp`` is increasing:
  ``e^b = e^a e^{b-a}``);
* :func:`power_increasing`: ``w >= 0 => (1 + w)^d >= 1`` for every integer ``d >= 1`` (so
  ``x^d <= y^d`` for ``0 < x <= y``: ``y^d = x^d (y/x)^d``).

Every step is closed by sympy (identities, signs inferred from the symbols' assumptions) or z3.
"""

from __future__ import annotations

import sympy as sp

from reductions.tactics import Identity, Implies

__all__ = ["log_increasing", "exp_increasing", "power_increasing"]


def log_increasing() -> list:
    """``0 < a <= b => log a <= log b``, with ``b = a (1 + w)``, ``w = b/a - 1 >= 0`` (every ``b >= a``)."""
    a = sp.Symbol("a", positive=True)
    w = sp.Symbol("w", nonnegative=True)
    return [
        Identity(sp.log(a * (1 + w)), sp.log(a) + sp.log(1 + w), note="log of a product of positive numbers"),
        Implies(sp.GreaterThan(sp.log(1 + w), 0, evaluate=False), note="log(1 + w) >= 0 for w >= 0 (sympy: the argument is >= 1)"),
    ]


def exp_increasing() -> list:
    """``t >= 0 => e^t >= 1`` and ``t > 0 => e^t > 1``, from ``log`` (a left inverse of ``exp``) and its sign.

    With ``X = e^t > 0`` and ``log X = t``: if ``X < 1`` then ``X = 1/(1 + w)`` with ``w = 1/X - 1 > 0``
    and ``log X = -log(1 + w) < 0``; if ``X = 1`` then ``log X = 0``. So ``t >= 0`` forces ``X >= 1``
    and ``t > 0`` forces ``X > 1``.
    """
    w = sp.Symbol("w", positive=True)
    t = sp.Symbol("t", real=True)
    X = sp.Symbol("X", positive=True)
    T = sp.Symbol("T", real=True)
    LX = sp.Symbol("LX", real=True)
    below_one = sp.Implies(X < 1, LX < 0)
    at_one = sp.Implies(sp.Eq(X, 1), sp.Eq(LX, 0))
    where = {X: sp.exp(T), LX: sp.log(X)}
    return [
        Implies(sp.StrictGreaterThan(sp.log(1 + w), 0, evaluate=False), note="log(1 + w) > 0 for w > 0 (sympy)"),
        Identity(sp.log(1 / (1 + w)), -sp.log(1 + w), note="log(1/(1 + w)) = -log(1 + w)"),
        Identity(sp.log(sp.exp(t), evaluate=False), t, note="log(e^t) = t for real t"),
        Identity(sp.log(sp.Integer(1), evaluate=False), 0, note="log 1 = 0"),
        Implies(1 / X - 1 > 0, [X < 1], note="every X in (0, 1) is 1/(1 + w) with w = 1/X - 1 > 0"),
        Implies(X >= 1, [T >= 0, sp.Eq(LX, T), below_one], where=where, engine="z3",
                note="t >= 0 => e^t >= 1 (the two facts above give X < 1 => log X < 0)"),
        Implies(X > 1, [T > 0, sp.Eq(LX, T), below_one, at_one], where=where, engine="z3",
                note="t > 0 => e^t > 1"),
    ]


def power_increasing() -> list:
    """``(1 + w)^d >= 1`` for ``w >= 0`` and every integer ``d >= 1`` (``> 1`` when ``w > 0``).

    ``w > 0``: ``(1 + w)^d - 1 = w Σ_{k<d} (1 + w)^k``, a positive number times a sum of positive terms;
    ``w = 0``: ``1^d = 1``.
    """
    w = sp.Symbol("w", positive=True)
    d = sp.Symbol("d", integer=True, positive=True)
    k = sp.Symbol("k", integer=True)
    geometric = sp.Sum(w * (1 + w) ** k, (k, 0, d - 1))
    return [
        Identity((1 + w) ** d - 1, geometric, note="geometric sum, symbolic d >= 1"),
        Implies(sp.StrictGreaterThan(geometric, 0, evaluate=False), note="w > 0 times a sum of positive terms (sympy)"),
        Identity(sp.Pow(1, d, evaluate=False), 1, note="1^d = 1"),
    ]
