"""One ``(1±η)`` adversary for every reduction: hide the bit wherever the slack allows (HO footnote 1, Theorem 8).

:class:`AdversarialApproximation` wraps any cache (triples, or the 5-tuples of tensor attention)
and replaces each output coordinate by the point of its allowed interval nearest the decoder's
threshold (:func:`nearest_to_threshold`). It adds no state: its message is the inner cache's.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from caches.base import StreamingAttention
from caches.params import ParameterError, check_cache, check_real


def nearest_to_threshold(outputs, eta: float, threshold) -> np.ndarray:
    """Each ``y`` replaced by the point of ``A(y) = [y - η|y|, y + η|y|]`` nearest ``threshold``.

    That is ``threshold`` itself when it lies in ``A(y)``, else the endpoint of ``A(y)`` on its side
    (never across it): the projection ``clip(τ, y - η|y|, y + η|y|)`` (HO footnote 1). ``threshold``
    broadcasts against ``outputs`` (one value, or one per row as a column).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    slack = eta * np.abs(outputs)
    return np.clip(np.asarray(threshold, dtype=np.float64), outputs - slack, outputs + slack)


@dataclass
class AdversarialApproximation(StreamingAttention):
    """The worst ``(1±η)`` approximation of ``inner`` against every decoder (HO footnote 1, Theorem 8).

    **Rule.** HO footnote 1 allows any output ``a(y)`` in ``A(y) = [y - η|y|, y + η|y|]`` for each
    coordinate ``y``. With the decoder's threshold ``τ``: if ``τ in A(y)`` (for ``τ > 0``:
    ``τ/(1+η) <= y <= τ/(1-η)``) output ``τ`` exactly (the coordinate is *hidden*); otherwise
    output the endpoint of ``A(y)`` nearest ``τ``, never across it.

    **Why it is the worst case for every decoder where the intervals overlap.** Fix a coordinate,
    let ``y0`` and ``y1`` be its exact outputs when Bob's bit is 0 resp. 1, the bit uniform.

    1. *Chance is the floor.* A decoder ``g`` and its flip ``1 - g`` are right on complementary
       events, so the better of the two is right with probability ``>= 1/2`` against any
       adversary. An adversary can at best bring every decoder to exactly ``1/2``.
    2. *Hiding reaches the floor.* Where ``τ in A(y0) ∩ A(y1)`` the rule outputs ``τ`` in both
       cases: the output does not depend on the bit, so every decoder (threshold or not, flipped
       or not, knowing ``y0`` and ``y1`` or not) is right with probability exactly ``1/2``.
    3. *Crossing does not hide.* Moving ``y`` by the full ``η|y|`` toward ``τ`` sends
       ``y0 < τ < y1`` with ``|y - τ| < η|y|`` to ``a(y0) > τ > a(y1)``: still two different
       outputs, so Bob's threshold decoder is always wrong and its flip always right
       (accuracy ``0`` is as informative as ``1``).
    4. *Elsewhere nothing hides.* If ``A(y0) ∩ A(y1)`` is empty no ``(1±η)`` output can be shared
       and a decoder knowing ``y0, y1`` separates them whatever the adversary does. The rule keeps
       ``a(y)`` non-decreasing in ``y`` (both endpoints ``y(1±η)`` are, for ``η < 1``), so it never
       inverts the order of two outputs for a flipped decoder to exploit.

    Intervals that overlap away from ``τ`` (``y0, y1`` both far on one side) cannot be hidden by
    one public ``τ``; which coordinates are hidden is measured (:meth:`hidden`), not assumed.
    Below HO Theorem 8's threshold the two-case bounds put the bit-0 outputs (``<= δ``) and the
    bit-1 outputs (``>= Δ``) into ``[τ/(1+η), τ/(1-η)]`` for ``τ`` in ``[(1-η)Δ, (1+η)δ]``.

    **Ties.** Every reduction's decoder reads a bit as ``output > τ`` with the ``τ`` given here,
    so a hidden coordinate decodes to 0 whatever the bit: the tie at ``τ`` leaks nothing.

    **Parameters.** ``inner``: any cache (``step``/``extend``/``probe`` take however many arrays
    a token has); ``eta`` in ``[0, 1)``; ``threshold``: a real ``τ``, or a public object whose
    ``query_thresholds(Q)`` gives one ``τ`` per query row (HO Corollary 9's decoder has one per
    row; :class:`reductions.cor9.BoundedNormReduction`). No state of its own: the message is
    the inner cache's, and ``from_bytes`` rebuilds the inner cache from its own parameters.
    """

    inner: object
    eta: float
    threshold: object

    def __post_init__(self) -> None:
        check_cache("inner", self.inner)
        self.eta = check_real("eta", self.eta, 0.0, 1.0, high_open=True)
        if isinstance(self.threshold, numbers.Real) and not isinstance(self.threshold, bool):
            self.threshold = check_real("threshold", self.threshold)
        elif not callable(getattr(self.threshold, "query_thresholds", None)):
            raise ParameterError(
                f"threshold must be a finite number or provide query_thresholds(Q), got {self.threshold!r}"
            )

    def thresholds(self, Q) -> np.ndarray | float:
        """``τ`` for each query row of ``Q`` (a column), or the one real ``τ``."""
        if isinstance(self.threshold, float):
            return self.threshold
        rows = np.atleast_2d(np.asarray(Q, dtype=np.float64))
        return np.asarray(self.threshold.query_thresholds(rows), dtype=np.float64).reshape(-1, 1)

    def hidden(self, *arrays) -> np.ndarray:
        """Which output coordinates of :meth:`probe` are exactly ``τ`` (hidden from every decoder)."""
        return self.probe(*arrays) == self.thresholds(arrays[0])

    def step(self, *arrays) -> np.ndarray:
        output = np.asarray(self.inner.step(*arrays), dtype=np.float64).reshape(1, -1)
        return nearest_to_threshold(output, self.eta, self.thresholds(arrays[0]))[0]

    def extend(self, *arrays) -> None:
        self.inner.extend(*arrays)

    def probe(self, *arrays) -> np.ndarray:
        return nearest_to_threshold(self.inner.probe(*arrays), self.eta, self.thresholds(arrays[0]))

    def to_bytes(self) -> bytes:
        return self.inner.to_bytes()

    def budget_bits(self, n: int, d: int) -> int | None:
        budget = getattr(self.inner, "budget_bits", None)
        return budget(n, d) if callable(budget) else None

    @classmethod
    def from_bytes(cls, data, *, inner, eta, threshold) -> "AdversarialApproximation":
        return cls(type(inner).from_bytes(data, **inner.params()), eta, threshold)


def hidden_fraction(adversary: AdversarialApproximation, message: bytes, queries) -> float:
    """Fraction of output coordinates hidden (exactly ``τ``) when ``queries`` probe ``message``.

    A referee's measurement on Alice's side (it never reaches Bob): the adversary is rebuilt from
    the message alone, as Bob rebuilds it, and probed with his queries.
    """
    rebuilt = type(adversary).from_bytes(message, **adversary.params())
    return float(np.mean(rebuilt.hidden(*queries)))
