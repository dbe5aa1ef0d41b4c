"""The Fano guard: a scored point above the information-theoretic frontier stops the run.

HO Theorem 5 (Fano's inequality with the chain rule, :mod:`protocols.fano`) bounds the average
accuracy of *any* Bob who sees an ``M``-bit message about ``N`` uniform bits by
``max_accuracy(M, N)``. The bound also holds for any subset of the bits Bob is asked for (they
are uniform too, and the message carries at most ``M`` bits about them), so it applies to every
scored call, whatever rows it decodes. A measured accuracy whose 99% Wilson lower bound lies
above it is not bad luck (a 1% event per point at worst): information reached Bob by another way
than the message, through a hole in the harness. Every path that scores Bob's bits calls
:func:`check_point`; the command line turns :class:`InformationLeak` into exit status 3.
"""

from __future__ import annotations

from protocols.fano import max_accuracy, min_memory_ratio, nonuniform_max_accuracy
from protocols.stats import wilson_interval


class InformationLeak(Exception):
    """A point beat the Fano frontier: information reached Bob outside the message (HO Theorem 5).

    Not a :class:`~caches.params.ParameterError`: it is no user mistake but a breach of the
    game's one-message rule that the harness failed to stop.
    """


def check_point(cache: str, memory_bits: int, bits_encoded: int, correct: int, total: int,
                unit: str = "bits") -> None:
    """Raise :class:`InformationLeak` if ``correct / total`` provably beats the frontier.

    ``memory_bits`` is the message size, ``bits_encoded`` how many uniform bits the scored
    decoding is about, ``correct`` of ``total`` guesses were right (``unit``: bits, or sampled rows
    counted at their accuracy when rows are the independent units). The test is the 99%
    Wilson lower bound of the accuracy against ``max_accuracy(memory_bits, bits_encoded)``.
    """
    if total <= 0:
        return
    low, _ = wilson_interval(int(correct), int(total))
    # low > max_accuracy(M, N)  <=>  M / N < min_memory_ratio(low): the closed form is cheap
    if int(memory_bits) >= int(bits_encoded) * min_memory_ratio(low):
        return
    frontier = float(max_accuracy(int(memory_bits), int(bits_encoded)))
    if low > frontier:
        raise InformationLeak(
            f"{cache} with {int(memory_bits)} bits of memory decoded {correct / total:.2%} of {int(total)} {unit} "
            f"(99% lower bound {low:.4f}) but the Fano frontier allows at most {frontier:.4f} for "
            f"{int(bits_encoded)} bits (HO Theorem 5): information reached Bob outside the message"
        )


def weighted_wilson(accuracy: float, effective_units: float) -> tuple[float, float]:
    """99% Wilson interval of a weighted mean accuracy at ``effective_units`` (Kish: ``1 / Σ w²``)."""
    effective = float(effective_units)
    return wilson_interval(float(accuracy) * effective, effective)


def check_weighted_point(cache: str, memory_bits: int, p, d: int, accuracy: float, effective_units: float) -> float:
    """Raise :class:`InformationLeak` if a p-weighted accuracy provably beats the non-uniform frontier.

    Bob's row follows the public distribution ``p`` over rows of ``d`` uniform bits; the frontier is
    :func:`protocols.fano.nonuniform_max_accuracy` (Fano per row, water-filling; docs/theory.md §1),
    the test its 99% weighted Wilson lower bound (:func:`weighted_wilson`). Returns the frontier.
    """
    frontier = float(nonuniform_max_accuracy(int(memory_bits), p, d))
    low, _ = weighted_wilson(accuracy, effective_units)
    if low > frontier:
        raise InformationLeak(
            f"{cache} with {int(memory_bits)} bits of memory decoded a p-weighted {accuracy:.2%} of its rows "
            f"(99% lower bound {low:.4f}) but the non-uniform Fano frontier allows at most {frontier:.4f}: "
            f"information reached Bob outside the message"
        )
    return frontier
