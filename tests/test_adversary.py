"""The one (1±η) adversary (HO footnote 1, Theorem 8): it hides the bit, it never inverts it.

Every test is parametrized over the adversary's uses: standard attention (HO Theorem 8), the
sliding window (HO Theorem 26) and tensor attention (TA). Each of them fails if the rule is
weakened (e.g. to ``0.3·η``) or replaced by "move by the full ``η|y|`` toward the threshold".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caches.adversary import AdversarialApproximation, hidden_fraction, nearest_to_threshold
from caches.exact import ExactCache
from caches.params import ParameterError
from caches.sliding import RunningSumWindowCache
from caches.spec import object_spec
from caches.tensor import ExactFourCache
from protocols.game import BobRequest, trial_input
from reductions import thm8, thm17
from reductions import tensor as tensor_reduction
from reductions.spike import threshold_C
from reductions.thm6 import ExactOutputReduction
from reductions.thm17 import SlidingWindowReduction
from reductions.tensor import TensorIndexReduction, tensor_threshold_C


@dataclass(frozen=True)
class Use:
    """One reduction that plays the adversary: how to scale it, its inner cache and its limits."""

    name: str
    base: object
    inner: Callable
    scaled: Callable  # (base, C, eta) -> reduction
    adversary: Callable  # reduction -> AdversarialApproximation
    hiding_limit: Callable  # eta -> C
    exact_threshold: Callable  # (eps, eta) -> C


def _standard(base, C, eta):
    return ExactOutputReduction(base.n, base.d, C, eta, base.codebook, base.public_seed)


def _window(base, C, eta):
    return SlidingWindowReduction(base.n, base.W, base.d, C, eta, base.codebook, base.public_seed)


def _tensor(base, C, eta):
    return TensorIndexReduction(base.n, base.d, C, eta, base.codebook, base.public_seed)


USES = {
    "standard": Use("standard", ExactOutputReduction(256, 128, C=1.0), lambda: ExactCache("float64"), _standard,
                    thm8.adversary_for, lambda eta: thm8.hiding_limit_C(256, eta),
                    lambda eps, eta: threshold_C(256, eps, eta)),
    # W = 64 bit rows: with few rows the rest of a column spreads by about 1/sqrt(W-1), and one
    # hiding point covers less of it (the experiments report the hidden fraction).
    "window": Use("window", SlidingWindowReduction(512, 64, 128, C=1.0), lambda: RunningSumWindowCache(window=65),
                  _window, thm17.adversary_for, lambda eta: thm17.window_hiding_limit_C(64, eta),
                  lambda eps, eta: threshold_C(512, eps, eta)),
    "tensor": Use("tensor", TensorIndexReduction(128, 128, C=1.0), lambda: ExactFourCache("float64"), _tensor,
                  tensor_reduction.tensor_adversary_for, lambda eta: tensor_reduction.tensor_hiding_limit_C(128, eta),
                  lambda eps, eta: tensor_threshold_C(128, eps, eta)),
}


@pytest.fixture(scope="module", params=list(USES))
def use(request, isolated_bob):
    """The use, one public instance of its reduction, Alice's bits and her message."""
    use = USES[request.param]
    reduction, x = trial_input(use.base, seed=23, trial=0)
    return use, reduction, x, isolated_bob.alice(reduction, use.inner(), x)


def play_adversary(use, bob, C, eta):
    """Bob's accuracy, the flipped decoder's (same decoded bits) and the fraction hidden."""
    use, base, x, message = use
    reduction = use.scaled(base, C, eta)
    adversary = use.adversary(reduction)
    rows = tuple(range(reduction.shape[0]))
    decoded = bob.bob(BobRequest(object_spec(adversary), message, object_spec(reduction), rows))
    accuracy = float(np.mean(decoded == x))
    flipped = float(np.mean((1 - decoded) == x))
    return accuracy, flipped, hidden_fraction(adversary, message, reduction.bob_queries(np.arange(len(rows))))


def exact_and_adversarial(use, C, eta):
    """Inner outputs, adversarial outputs and the threshold, for every row of the use's reduction."""
    use, base, _, message = use
    reduction = use.scaled(base, C, eta)
    adversary = type(use.adversary(reduction)).from_bytes(message, **use.adversary(reduction).params())
    queries = reduction.bob_queries(np.arange(reduction.shape[0]))
    return adversary.inner.probe(*queries), adversary.probe(*queries), reduction.threshold, reduction


# --- (a) the rule stays inside the allowed interval -------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def ulps(y):
    """Rounding room: the interval's ends ``y ± η|y|`` are computed in float64, so 2 ulps of ``y``."""
    return 2 * np.spacing(np.abs(y))


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40), finite, st.floats(0.0, 0.999))
def test_rule_stays_in_the_interval_hides_when_it_can_and_never_crosses(ys, tau, eta):
    y = np.array(ys)
    out = nearest_to_threshold(y, eta, tau)
    slack = eta * np.abs(y)
    assert np.all(np.abs(out - y) <= slack + ulps(y))
    inside = (y - slack <= tau) & (tau <= y + slack)
    assert np.all(out[inside] == tau)  # the common point, exactly
    outside = ~inside
    assert np.all(np.sign(out[outside] - tau) == np.sign(y[outside] - tau))  # same side, never across
    assert np.all(np.abs(out[outside] - tau) <= np.abs(y[outside] - tau))  # as close as allowed
    order = np.argsort(y, kind="stable")
    assert np.all(np.diff(out[order]) >= 0)  # monotone: no order inverted


@settings(max_examples=12, deadline=None)
@given(C_factor=st.floats(0.2, 2.0), eta=st.floats(0.0, 0.95), tau=st.floats(0.01, 0.99))
def test_every_output_of_every_use_is_a_one_plus_minus_eta_approximation(use, C_factor, eta, tau):
    use_, base, _, message = use
    reduction = use_.scaled(base, C_factor * np.log(base.shape[0]) * 3, eta)
    adversary = AdversarialApproximation(type(use_.inner()).from_bytes(message, **use_.inner().params()), eta, tau)
    queries = reduction.bob_queries(np.arange(reduction.shape[0]))
    truth, out = adversary.inner.probe(*queries), adversary.probe(*queries)
    assert np.all(np.abs(out - truth) <= eta * np.abs(truth) + ulps(truth))
    inside = np.abs(truth - tau) <= eta * np.abs(truth)
    assert np.all(out[inside] == tau)


# --- (b) below the hiding limit: hidden, not inverted -----------------------------------------


@pytest.mark.parametrize("eta", [0.3, 0.6])
def test_coordinates_whose_interval_contains_the_threshold_are_output_as_it_exactly(use, eta):
    C = use[0].hiding_limit(eta) - 1.0
    truth, out, tau, _ = exact_and_adversarial(use, C, eta)
    inside = np.abs(truth - tau) <= eta * np.abs(truth)
    assert inside.mean() > 0.5  # most coordinates can be hidden here (measured, not assumed)
    assert np.all(out[inside] == tau)
    assert np.all(np.abs(out[~inside] - tau) < np.abs(truth[~inside] - tau))


@pytest.mark.parametrize("eta", [0.3, 0.6])
def test_well_below_the_hiding_limit_bob_and_the_flipped_decoder_are_at_chance(use, isolated_bob, eta):
    """HO Theorem 8's adversary hides: both decoders within 0.05 of 1/2.

    At least 8192 bits per game, so chance has σ <= 0.006 and 0.05 is over 8σ: a false alarm is
    negligible (seed fixed). The 0.3·η rule gives 0.87-1.0 here and the crossing rule 0.0-0.2.
    """
    C = use[0].hiding_limit(eta) - 1.0
    assert C < use[0].exact_threshold(use[1].eps, eta) / 3  # "well below" the theorem's threshold
    accuracy, flipped, hidden = play_adversary(use, isolated_bob, C, eta)
    assert 0.45 <= accuracy <= 0.55 and 0.45 <= flipped <= 0.55, (accuracy, flipped)
    assert hidden > 0.5


def test_the_tie_at_the_threshold_decodes_to_one_bit_whatever_the_input(use):
    """A hidden coordinate is exactly τ; every decoder reads ``> τ`` with the same τ, so all read 0."""
    use_, base, _, _ = use
    reduction = use_.scaled(base, use_.hiding_limit(0.3), 0.3)
    adversary = use_.adversary(reduction)
    assert adversary.threshold == reduction.threshold
    rows = np.arange(reduction.shape[0])
    decoded = reduction.decode(np.full(reduction.shape, adversary.threshold), rows)
    assert np.all(decoded == 0)
    nudged = reduction.decode(np.full(reduction.shape, np.nextafter(adversary.threshold, 2.0)), rows)
    assert np.all(nudged == 1)  # the decoder does compare with this very τ


# --- (c) above the exact threshold: decoded -------------------------------------------------


@pytest.mark.parametrize("eta", [0.1, 0.3, 0.6])
def test_above_the_exact_threshold_bob_decodes_and_nothing_is_hidden(use, isolated_bob, eta):
    C = 1.05 * use[0].exact_threshold(use[1].eps, eta)
    accuracy, flipped, hidden = play_adversary(use, isolated_bob, C, eta)
    assert accuracy >= 0.99 and flipped <= 0.01
    assert hidden == 0.0  # (1+η)δ < τ < (1-η)Δ: no interval reaches τ


# --- the wrapper itself -----------------------------------------------------------------------


def test_wrapper_adds_no_state_and_rebuilds_from_the_inner_message(use):
    use_, base, _, message = use
    adversary = use_.adversary(use_.scaled(base, 5.0, 0.3))
    rebuilt = type(adversary).from_bytes(message, **adversary.params())
    assert rebuilt.to_bytes() == message and rebuilt.eta == 0.3 and rebuilt.memory_bits == 8 * len(message)


def test_per_row_thresholds_come_from_a_public_rule():
    from reductions.cor9 import BoundedNormReduction

    reduction, x = trial_input(BoundedNormReduction(40, 6, 2.5, eta=0.4, codebook="packed"), 0, 0)
    exact = ExactCache()
    exact.extend(*reduction.alice_stream(x))
    adversary = AdversarialApproximation(exact, 0.4, reduction)
    queries = reduction.bob_queries(np.arange(40))
    tau = reduction.thresholds(np.arange(40))[:, None]
    truth = exact.probe(*queries)
    inside = np.abs(truth - tau) <= 0.4 * np.abs(truth)
    assert inside.any() and np.array_equal(adversary.hidden(*queries), inside)
    assert np.all(reduction.decode(np.broadcast_to(tau, truth.shape), np.arange(40)) == 0)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: AdversarialApproximation(ExactCache(), eta=1.0, threshold=0.5), "eta"),
        (lambda: AdversarialApproximation(ExactFourCache(), eta=-0.1, threshold=0.5), "eta"),
        (lambda: AdversarialApproximation(ExactCache(), eta=0.2, threshold=float("nan")), "threshold"),
        (lambda: AdversarialApproximation(ExactCache(), eta=0.2, threshold="middle"), "threshold"),
    ],
)
def test_bad_parameters(make, name):
    with pytest.raises(ParameterError, match=name):
        make()


def test_inner_must_be_a_cache():
    with pytest.raises(TypeError, match="inner"):
        AdversarialApproximation(object(), 0.2, 0.5)


# --- (d) the experiments report both decoders ----------------------------------------------


def test_threshold_experiment_reports_both_decoders_and_hides_below_the_limit(isolated_bob):
    config = {"n": 256, "d": 128, "etas": [0.0, 0.6], "c_points": 8, "codebook": "normalized", "trials": 1}
    from barriers.experiments import EXPERIMENTS
    from protocols.runner import run_sweep

    result = run_sweep(EXPERIMENTS["threshold"], config, 0, isolated_bob)
    for curve in result["summary"]["curves"]:
        accuracy, flipped = np.array(curve["accuracy"]), np.array(curve["flipped_accuracy"])
        np.testing.assert_allclose(accuracy + flipped, 1.0)
        hidden = np.array(curve["hidden_fraction"])
        assert np.all((hidden >= 0) & (hidden <= 1))
        C = np.array(curve["C"])
        if curve["eta"] == 0:
            assert not hidden.any()
            continue
        below = C < curve["necessary_threshold"] - 1.0
        assert below.any() and np.all(np.abs(accuracy[below] - 0.5) <= 0.05), accuracy[below]
        assert np.all(hidden[below] > 0.5)
        above = C > curve["theorem_threshold"]
        assert above.any() and np.all(accuracy[above] >= 0.99) and not hidden[above].any()
    for row in result["trials"]:
        assert row["flipped_accuracy"] == pytest.approx(1 - row["accuracy"])
    assert all("flipped_accuracy" in p and "hidden_fraction" in p for p in result["summary"]["points"])
