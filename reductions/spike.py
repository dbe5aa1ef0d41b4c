"""The JL-spike reduction shared by HO Theorems 6, 8, 26, Corollary 16 and the tensor reduction; docs/theory.md §3.

Alice stores public JL keys ``k_l = f(e_l)`` (:mod:`reductions.jl`) with her bits as values; Bob
queries ``C·k_i`` so that the spike ``s_i >= C(1-ε)`` outweighs every other score ``<= Cε``.
This module holds what the results built on that idea share, in the order of the proof:

1. **Two-case bounds** ``δ(C)`` (eq. 13) and ``Δ(C) = 1 - δ(C)`` (eq. 15).
2. **Parameter choice**: the threshold on C (eq. 16, with ``(1±η)`` for Theorem 8) and the
   paper's ``C = 2 ln n / (1 - 2ε)``; :func:`threshold_certificates` proves the threshold both ways.
3. **Construction**: the public codebook and :class:`SpikeQueryReduction`, the base class of
   every spike reduction (Bob's query ``C·f(e_i)``, his threshold decoder).
4. **Experiments**: the success criterion, the bisection for the smallest working C, and the C
   sweep: one unit per trial (:func:`c_sweep_trial`: Alice's message once, Bob at every ``(η, C)``),
   its grid fixed from the public codebooks (:func:`sweep_c_grid`), the curves from the rows
   (:func:`c_curves`) and the thresholds over the trials' codebooks (:func:`threshold_spread`).

The theorems' own reductions and certificates stay in their modules (:mod:`reductions.thm6`,
:mod:`reductions.thm8`, :mod:`reductions.thm17`, :mod:`reductions.cor16`, :mod:`reductions.tensor`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from caches.params import ParameterError, check_choice, check_int, check_real
from protocols.reduction import Reduction
from reductions.elementary import exp_sign_certificates
from reductions.jl import CODEBOOKS, make_codebook, measure_epsilon
from reductions.tactics import Identity, Implies, eps_in_open_half, eta_in_open_unit, gt

#: Decoding "succeeds" when at least this fraction of the bits is right.
SUCCESS_ACCURACY = 0.99


# --- two-case bounds and the threshold on C ---------------------------------------------------


def check_eps(eps) -> float:
    """ε must lie in (0, 1/2) for the reduction to have a threshold (eq. 16)."""
    return check_real("eps", eps, 0.0, 0.5, low_open=True, high_open=True)


def delta_bound(C: float, eps: float, n: int) -> float:
    """Eq. 13: ``n e^{Cε} / (n e^{Cε} + e^{C(1-ε)})``, the largest output when ``x_ij = 0``."""
    return 1.0 / (1.0 + math.exp(min(700.0, C * (1 - 2 * eps) - math.log(n))))


def Delta_bound(C: float, eps: float, n: int) -> float:  # noqa: N802 - the paper's Δ
    """Eq. 15: ``e^{C(1-ε)} / (e^{C(1-ε)} + n e^{Cε})``, the smallest output when ``x_ij = 1``."""
    return 1.0 - delta_bound(C, eps, n)


def decision_threshold(C: float, eps: float, n: int, eta: float = 0.0) -> float:
    """Bob's threshold on each output coordinate.

    Above the threshold on C (the gap ``[(1+η)δ, (1-η)Δ]`` is non-empty) it is the middle of the
    gap, which the theorem proves correct. Below it the theorem gives no decoder; Bob then uses
    the typical case (the suite's choice, not the paper's): with nearly orthogonal unit keys the
    spike weighs ``ξ = e^C/(e^C + n)`` and the rest of a column ``≈ (1-ξ)/2``, so the two cases
    sit near ``(1∓ξ)/2`` and he takes the middle of ``[(1+η)(1-ξ)/2, (1-η)(1+ξ)/2]``.
    """
    delta = delta_bound(C, eps, n)
    if (1 + eta) * delta < (1 - eta) * (1 - delta):
        return 0.5 * ((1 + eta) * delta + (1 - eta) * (1 - delta))
    spike = 1.0 / (1.0 + n * math.exp(-min(C, 700.0)))
    return 0.25 * ((1 + eta) * (1 - spike) + (1 - eta) * (1 + spike))


def threshold_C(n: int, eps: float, eta: float = 0.0) -> float:  # noqa: N802
    """Smallest C with ``(1+η)δ < (1-η)Δ``: ``[ln n + ln((1+η)/(1-η))] / (1 - 2ε)`` (eq. 16, Thm 8)."""
    n = check_int("n", n, 2)
    eps = check_eps(eps)
    eta = check_real("eta", eta, 0.0, 1.0, high_open=True)
    return (math.log(n) + math.log((1 + eta) / (1 - eta))) / (1 - 2 * eps)


def paper_C(n: int, eps: float) -> float:  # noqa: N802
    """The paper's choice ``C = 2 ln n / (1 - 2ε)`` (proof of HO Theorem 6)."""
    return 2 * math.log(check_int("n", n, 2)) / (1 - 2 * check_eps(eps))


def threshold_certificates(eta=None) -> list:
    """Both directions of ``(1+η)δ(C) < (1-η)Δ(C)  <=>  C > [ln n + ln((1+η)/(1-η))]/(1-2ε)``.

    Over ``n > 0``, ``C > 0``, ``ε in (0, 1/2)`` (``ε = 1/(2(1+s))``, ``s > 0``) and ``η in (0, 1)``
    (``η = u/(1+u)``, ``u > 0``); ``eta=0`` gives eq. 16. The chain of equivalences, each certified
    both ways: with ``E = C(1-2ε) - ln n - ln((1+η)/(1-η))``,
    ``(1-η)Δ - (1+η)δ = P (e^E - 1)`` for a ``P > 0`` (identity), so the gap is positive iff
    ``e^E > 1`` (z3), iff ``E > 0`` (sign of ``e^E - 1``), iff ``C`` exceeds the threshold (z3).
    Used by the claims "eq. 16 threshold" (:mod:`reductions.thm6`) and Theorem 8's threshold
    (:mod:`reductions.thm8`).
    """
    s, eps = eps_in_open_half("s")
    if eta is None:
        u, eta = eta_in_open_unit("u")
        where = {sp.Symbol("epsilon"): eps, sp.Symbol("eta"): eta}
    else:
        where = {sp.Symbol("epsilon"): eps}
    n, C = sp.symbols("n C", positive=True)
    big, small = sp.exp(C * (1 - eps)), n * sp.exp(C * eps)
    denominator = big + small
    delta, Delta = small / denominator, big / denominator
    log_eta = sp.log((1 + eta) / (1 - eta))
    E = C * (1 - 2 * eps) - sp.log(n) - log_eta
    P = (1 + eta) * small / denominator
    gap, p, w = sp.symbols("G P w", real=True)
    exponent, L, M = sp.symbols("E L M", real=True)  # L = ln n, M = ln((1+η)/(1-η)): any reals
    threshold = (L + M) / (1 - 2 * eps)
    defining = [sp.Eq(gap, p * (w - 1)), gt(p, 0)]
    return [
        Identity((1 - eta) * Delta - (1 + eta) * delta, P * (sp.exp(E) - 1), where=where,
                 note="(1-η)Δ - (1+η)δ = P (e^E - 1), E = C(1-2ε) - ln n - ln((1+η)/(1-η)) (common denominator)"),
        Implies(gt(P, 0), where=where, note="P = (1+η) n e^{Cε} / (e^{C(1-ε)} + n e^{Cε}) > 0"),
        Implies(gt(w, 1), hypotheses=[*defining, gt(gap, 0)], engine="z3", note="gap > 0 => e^E > 1"),
        Implies(gt(gap, 0), hypotheses=[*defining, gt(w, 1)], engine="z3", note="e^E > 1 => gap > 0"),
        *exp_sign_certificates(),
        Implies(gt(C, threshold), hypotheses=[sp.Eq(exponent, C * (1 - 2 * eps) - L - M), gt(exponent, 0)],
                where=where, engine="z3", note="E > 0 => C > (ln n + ln((1+η)/(1-η)))/(1-2ε)"),
        Implies(gt(exponent, 0), hypotheses=[sp.Eq(exponent, C * (1 - 2 * eps) - L - M), gt(C, threshold)],
                where=where, engine="z3", note="C > (ln n + ln((1+η)/(1-η)))/(1-2ε) => E > 0"),
    ]


# --- the construction ----------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def public_codebook(kind: str, n: int, d: int, seed: int) -> tuple[np.ndarray, float]:
    """The JL keys both players derive from the public seed, and their measured ε."""
    keys = make_codebook(kind, n, d, seed)
    keys.setflags(write=False)
    return keys, measure_epsilon(keys).eps


class SpikeQueryReduction(Reduction):
    """What every JL-spike reduction shares: public keys, measured ε, Bob's query ``C·f(e_i)``.

    Subclasses are frozen dataclasses with fields ``C``, ``eta``, ``codebook``, ``public_seed``
    and implement ``key_count`` (how many JL keys carry data), ``default_C()``,
    ``threshold_for(C)`` and ``alice_stream``. ``stream_width`` is the length of a stream triple
    (3 for attention, 5 for tensor attention). ``result`` names the theorem in error messages.
    """

    stream_width = 3
    result = "HO Theorem 6"

    def _check_common(self) -> None:
        if self.C is not None:
            check_real("C", self.C, 0.0, low_open=True)
        check_real("eta", self.eta, 0.0, 1.0, high_open=True)
        check_choice("codebook", self.codebook, CODEBOOKS)

    @property
    def key_count(self) -> int:
        raise NotImplementedError

    def default_C(self) -> float:  # noqa: N802
        raise NotImplementedError

    def threshold_for(self, C: float) -> float:  # noqa: N803
        raise NotImplementedError

    @property
    def keys(self) -> np.ndarray:
        """The data-carrying JL keys ``f(e_l)``, derived from the public seed."""
        return public_codebook(self.codebook, self.key_count, self.d, self.public_seed)[0]

    @property
    def eps(self) -> float:
        """Measured ε: max |<k_l,k_m>| off the diagonal and max |<k_l,k_l> - 1|."""
        return public_codebook(self.codebook, self.key_count, self.d, self.public_seed)[1]

    @property
    def scale(self) -> float:
        """The query scale C actually used (``C=None``: the default from the measured ε)."""
        if self.C is not None:
            return float(self.C)
        if not self.eps < 0.5:
            raise ParameterError(
                f"the {self.codebook} codebook of {self.key_count} keys at d={self.d} has measured "
                f"eps={self.eps:.3f}; eps must be in (0, 1/2) for {self.result} to give a C: "
                "increase d or pass C explicitly"
            )
        return self.default_C()

    @property
    def threshold(self) -> float:
        return self.threshold_for(self.scale)

    def bob_queries(self, rows):
        queries = self.scale * self.keys[np.asarray(rows)]
        zeros = np.zeros_like(queries)
        return (queries, *(zeros,) * (self.stream_width - 1))

    def decode(self, outputs, rows):
        return (np.asarray(outputs) > self.threshold).astype(np.uint8)


# --- experiments ---------------------------------------------------------------------------


def smallest_working_C(accuracy_at, low: float, high: float, rel_tol: float = 0.03):
    """Bisection (in log C) for the smallest C in ``[low, high]`` with accuracy >= 0.99.

    Assumes success is monotone in C (a sharper spike never hurts an exact cache). Returns
    ``(C, accuracy)`` or ``(None, None)`` when even ``high`` fails.
    """
    best = accuracy_at(high)
    if best < SUCCESS_ACCURACY:
        return None, None
    lo_acc = accuracy_at(low)
    if lo_acc >= SUCCESS_ACCURACY:
        return low, lo_acc
    return bisect_log_C(accuracy_at, low, high, best, rel_tol)


def bisect_log_C(accuracy_at, low: float, high: float, best: float, rel_tol: float) -> tuple[float, float]:  # noqa: N802
    """Bisection in log C between a failing ``low`` and a succeeding ``high`` (accuracy ``best``):
    the smallest succeeding C to within ``rel_tol`` and its accuracy."""
    while high / low > 1 + rel_tol:
        middle = math.sqrt(low * high)
        accuracy = accuracy_at(middle)
        if accuracy >= SUCCESS_ACCURACY:
            high, best = middle, accuracy
        else:
            low = middle
    return high, best


def c_grid(low: float, high: float, points: int) -> list[float]:
    """``points`` values of C from ``low`` to ``high``, evenly spaced in log C."""
    return [float(c) for c in np.geomspace(low, high, points)]


def c_sweep_top(n: int, eps: float, etas, threshold) -> float:
    """Top of a C sweep: 1.5 × the largest ``threshold(n, eps, η)`` over ``etas`` (``8 ln n`` if ε >= 1/2)."""
    return 1.5 * max(threshold(n, eps, eta) for eta in etas) if eps < 0.5 else 8 * math.log(n)


# --- the C sweep as units: one trial each -------------------------------------------------------

#: What the summary of a C sweep says about its ε and thresholds (they rest on the trials' codebooks).
SPREAD_NOTE = ("eps_measured and every threshold on C: median over the trials' public codebooks (one per trial); "
               "*_interval: [min, max] over those trials, a range of draws, not a confidence interval")


def spread_shown(value: float, interval, digits: int = 2) -> str:
    """A number resting on the trials' codebooks for a headline: ``24.67 [23.90, 25.31]`` (median
    [min, max] over the trials), or ``24.67 (single draw)`` when the interval is one point."""
    low, high = interval
    if f"{low:.{digits}f}" == f"{high:.{digits}f}":
        return f"{value:.{digits}f} (single draw)"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def trial_epsilons(base: Reduction, seed: int, trials: int) -> list[float]:
    """The measured ε of each trial's public codebook (the public seeds of :func:`protocols.game.trial_input`)."""
    from protocols.game import trial_input

    return [trial_input(base, seed, trial)[0].eps for trial in range(trials)]


def sweep_c_grid(base: Reduction, seed: int, trials: int, n: int, etas, threshold, low: float,
                 points: int) -> list[float]:
    """The C grid every trial of a C sweep shares, fixed before any game from the public codebooks
    alone: ``points`` values from ``low`` to :func:`c_sweep_top` at the trials' largest ε."""
    return c_grid(low, c_sweep_top(n, max(trial_epsilons(base, seed, trials)), etas, threshold), points)


def c_sweep_trial(players, base: Reduction, exact, seed: int, trial: int, etas, grid, rescale, cache_for,
                  rows) -> list[dict]:
    """One trial of a C sweep: Alice's message for the exact cache once, then Bob at every ``(η, C)``.

    ``rescale(reduction, C, eta)`` is the trial's reduction at that C and η (same codebook);
    ``cache_for(scaled)`` the cache Bob reads the message with (the worst ``(1±η)`` approximation, or
    the exact cache); ``rows`` the rows whose hidden coordinates are counted (output exactly at Bob's
    threshold; 0 for a cache that is not an :class:`caches.adversary.AdversarialApproximation`).
    Below the hiding limit the adversary hides rather than inverts, so *both* Bob's accuracy and the
    flipped decoder's (``1 - accuracy``, same decoded bits) are near 1/2. One row per ``(η, C)``: ``eta``,
    ``C``, ``trial``, ``public_seed``, ``eps_measured`` (of this trial's codebook), ``memory_bits``,
    ``correct``, ``total``, ``accuracy``, ``flipped_accuracy`` and ``hidden_fraction``; the rows depend
    only on ``(base, seed, trial)`` and the grid (:func:`protocols.game.trial_input`).
    """
    from caches.adversary import AdversarialApproximation, hidden_fraction
    from protocols.game import score, trial_input

    reduction, x = trial_input(base, seed, trial)
    message = players.alice(reduction, exact, x)
    records = []
    for eta in etas:
        for C in grid:
            scaled = rescale(reduction, float(C), eta)
            cache = cache_for(scaled)
            result = score(players, scaled, cache, message, x)
            hidden = (hidden_fraction(cache, message, scaled.bob_queries(rows))
                      if isinstance(cache, AdversarialApproximation) else 0.0)
            records.append({"eta": eta, "C": float(C), "trial": trial, "public_seed": reduction.public_seed,
                            "eps_measured": reduction.eps, "memory_bits": result.memory_bits,
                            "correct": result.correct, "total": result.total, "accuracy": result.accuracy,
                            "flipped_accuracy": 1.0 - result.accuracy, "hidden_fraction": float(hidden)})
    return records


def c_curves(rows: list[dict], etas, grid) -> list[dict]:
    """Per η the curve over ``grid`` from the :func:`c_sweep_trial` rows of every trial.

    Accuracy is the bits right over the bits asked, summed over the trials (each trial asks the
    same bits, so this is the mean of their accuracies), its flip ``1 - accuracy``, the mean hidden
    fraction, and ``correct``/``total`` for intervals (keys ``eta``, ``C``, ``accuracy``,
    ``flipped_accuracy``, ``hidden_fraction``, ``correct``, ``total``). Rows without ``eta`` and ``C``
    are ignored.
    """
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        if "eta" in row and "C" in row:
            cells.setdefault((row["eta"], row["C"]), []).append(row)
    curves = []
    for eta in etas:
        here = [cells[eta, float(C)] for C in grid]
        correct = [sum(r["correct"] for r in cell) for cell in here]
        total = [sum(r["total"] for r in cell) for cell in here]
        accuracy = [c / t for c, t in zip(correct, total)]
        curves.append({"eta": eta, "C": [float(C) for C in grid], "accuracy": accuracy,
                       "flipped_accuracy": [1.0 - a for a in accuracy],
                       "hidden_fraction": [float(np.mean([r["hidden_fraction"] for r in cell])) for cell in here],
                       "correct": correct, "total": total})
    return curves


def trial_eps(rows: list[dict]) -> list[float]:
    """The measured ε of each trial's codebook, in trial order, from :func:`c_sweep_trial` rows."""
    by_trial: dict[int, float] = {}
    for row in rows:
        if "eps_measured" in row and "trial" in row:
            by_trial.setdefault(row["trial"], row["eps_measured"])
    return [by_trial[trial] for trial in sorted(by_trial)]


def median_interval(values) -> tuple[float | None, list[float] | None]:
    """The median of ``values`` and ``[min, max]``; ``(None, None)`` if any value is None."""
    values = list(values)
    if not values or any(v is None for v in values):
        return None, None
    return float(np.median(values)), [float(min(values)), float(max(values))]


def threshold_spread(n: int, eps_values, eta: float, threshold=threshold_C) -> tuple[float | None, list | None]:
    """``threshold(n, ε, η)`` at each trial's ε: median and ``[min, max]`` over the trials (:func:`median_interval`);
    ``(None, None)`` when some trial's codebook has ε >= 1/2 (no threshold there)."""
    return median_interval([threshold(n, eps, eta) if eps < 0.5 else None for eps in eps_values])
