"""HO Theorem 17 (= Theorem 26): approximating sliding-window attention needs Ω(dW) bits.

Reading order: the window shift, the construction, the thresholds on C (eq. 84 as printed and
corrected), the certificates, then the two experiments.

**The stream (as printed).** Alice holds ``x in {0,1}^{W x d}``. She streams ``n`` triples:
``q_l = 0`` throughout; ``k_l = v_l = 0`` for ``l <= n - W``; ``k_l = f(e_l)`` (JL keys) and
``v_l = x_{l-(n-W), :}`` for the last ``W``. Bob then streams ``(C·f(e_{n-W+i}), 0, 0)``.

**The window shift.** Bob's token is token ``n+1`` and takes a place in the window itself: the mask
of eq. 20 at his step is ``1{l > n + 1 - W}``. With an attention window of exactly ``W`` the oldest
bit row (token ``n-W+1``) has left the window when Bob asks: its key scores 0 like the zero tokens,
so nothing singles it out and row 1 decodes at chance (accuracy ``1 - 1/(2W)`` at best; the tests
check it). The suite therefore runs the algorithms with attention window ``W + 1`` for ``W``
encoded rows (:attr:`SlidingWindowReduction.attention_window`): at Bob's step the window holds all
``W`` bit rows and his own token. Equivalently, an algorithm with window ``W`` is attacked with
``W - 1`` rows, ``(W-1)d = Ω(dW)`` bits, so the theorem is unchanged. The zero tokens are harmless
on either side of the window: a zero key scores 0 inside it and is given 0 outside it.

**Scores at Bob's step** (window ``W+1``): the spike ``s_i = C<k_i,k_i> >= C(1-ε)``; the other
``W-1`` rows ``|s_l| <= Cε``; Bob's own token 0; the ``n - W`` zero tokens outside weigh 1. That
is ``n`` non-spike tokens, each of weight ``<= e^{Cε}``, so Theorem 6's two-case bounds hold with
the same ``n`` (HO eqs. 76-82): ``O_j <= δ = n e^{Cε}/(n e^{Cε} + e^{C(1-ε)})`` if ``x_ij = 0`` and
``O_j >= Δ = e^{C(1-ε)}/(e^{C(1-ε)} + n e^{Cε})`` if ``x_ij = 1``. On this stream ordinary
attention over all tokens equals ``Attn_W`` (every zero token weighs 1 either way), so the
foundation's caches are honest players too.

**The threshold.** A ``(1±η)`` output decodes iff ``(1+η)δ < (1-η)Δ``, i.e.
``C > [ln n + ln((1+η)/(1-η))]/(1-2ε)`` (:func:`reductions.thm6.threshold_C`). Eq. 84 prints
``C > [2 ln n - ln((1-η)/(1+η))]/[2(1-2ε)]``, which halves the ``η`` term: at that C the gap is
``(1-η)Δ/((1+η)δ) = sqrt((1-η)/(1+η)) < 1`` for every η in (0,1) [sic, THEORY §5].

Experiments: ``window`` (accuracy vs memory ratio ``memory_bits/(W·d)`` for the window algorithms
and the zoo under the Fano frontier, and accuracy vs C for the worst ``(1±η)`` output) and
``window_memory`` (the memory needed for 99% accuracy grows with ``W·d``, not with ``n``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.adversary import AdversarialApproximation
from caches.eviction import RandomEvictionCache, WindowCache
from caches.exact import ExactCache
from caches.params import check_choice, check_int, check_real
from caches.sliding import (
    WINDOW_CACHES,
    Algorithm1Cache,
    BoostedWindowCache,
    RunningSumWindowCache,
    windowed_attention,
)
from caches.spec import object_spec
from protocols.experiment import Experiment
from protocols.fano import frontier_curve, min_memory_ratio
from protocols.game import BobRequest, alice_message, play, trial_input
from reductions.certify import claim, proved, refuted, verified_on_grid
from reductions.jl import CODEBOOKS
from reductions.thm6 import (
    Delta_bound,
    SpikeQueryReduction,
    _ratio_after_threshold,
    delta_bound,
    threshold_C,
)

#: Decoding "succeeds" when at least this fraction of the bits is right.
SUCCESS_ACCURACY = 0.99


# --- thresholds on C --------------------------------------------------------------------------


def printed_eq84_C(n: int, eps: float, eta: float) -> float:  # noqa: N802
    """HO eq. 84 as printed: ``[2 ln n - ln((1-η)/(1+η))] / [2(1 - 2ε)]`` (too small for η > 0)."""
    return (2 * math.log(n) - math.log((1 - eta) / (1 + eta))) / (2 * (1 - 2 * eps))


def window_hiding_limit_C(W: int, eta: float) -> float | None:  # noqa: N802
    """Below about ``ln(W-1) + ln(η/(1-η))`` the worst ``(1±η)`` output hides the spike (``None`` at η = 0).

    The suite's estimate, not the paper's: only the ``W-1`` other bit rows carry ones (the zero
    tokens add only to the denominator), so a column's rest is ``R ≈ (W-1)/(2Z)`` against the
    spike ``e^C/Z``; the adversary confuses the two cases once ``2ηR >= (1-η)e^C/Z``.
    """
    if eta == 0 or W < 2:
        return None
    return math.log(W - 1) + math.log(eta / (1 - eta))


def window_decision_threshold(C: float, eps: float, n: int, W: int, eta: float = 0.0) -> float:
    """Bob's threshold on each output coordinate.

    Above the corrected threshold on C it is the middle of ``[(1+η)δ, (1-η)Δ]`` (proved correct).
    Below it the theorem gives no decoder; Bob then uses the typical case (the suite's choice):
    every non-spike token weighs about 1, so ``Z ≈ e^C + n``, the spike is ``ξ = e^C/Z`` and a
    column's rest is ``R ≈ (W-1)/(2Z)``; he takes the middle of ``[(1+η)R, (1-η)(R+ξ)]``.
    """
    delta = delta_bound(C, eps, n)
    if (1 + eta) * delta < (1 - eta) * (1 - delta):
        return 0.5 * ((1 + eta) * delta + (1 - eta) * (1 - delta))
    tail = n * math.exp(-min(C, 700.0))
    spike = 1.0 / (1.0 + tail)
    rest = 0.5 * (W - 1) * math.exp(-min(C, 700.0)) * spike
    return 0.5 * ((1 + eta) * rest + (1 - eta) * (rest + spike))


# --- the construction -------------------------------------------------------------------------


@dataclass(frozen=True)
class SlidingWindowReduction(SpikeQueryReduction):
    """HO Theorem 26: INDEX on ``W x d`` bits through sliding-window attention over ``n`` tokens.

    Alice's stream is the printed one (zeros, then the JL keys ``f(e_{n-W+i})`` with the bit rows
    as values). The algorithms must use attention window ``W + 1`` (:attr:`attention_window`):
    Bob's own token occupies one place of the window (see the module docstring). ``C=None`` takes
    twice the corrected threshold with ε measured on the ``W`` keys used (at η = 0 that is the
    paper's ``2 ln n/(1-2ε)``).
    """

    n: int
    W: int
    d: int
    C: float | None = None
    eta: float = 0.0
    codebook: str = "normalized"
    public_seed: int = 0

    result = "HO Theorem 26"

    def __post_init__(self) -> None:
        W = check_int("W", self.W, 2)
        check_int("n", self.n, W)
        check_int("d", self.d, 1)
        self._check_common()

    @property
    def shape(self) -> tuple[int, int]:
        return (self.W, self.d)

    @property
    def attention_window(self) -> int:
        """The window an algorithm needs so that all ``W`` rows are in it at Bob's step: ``W + 1``."""
        return self.W + 1

    @property
    def key_count(self) -> int:
        """Only ``f(e_{n-W+1}), ..., f(e_n)`` carry data (JL columns from the public seed)."""
        return self.W

    def default_C(self) -> float:  # noqa: N802
        return 2 * threshold_C(self.n, self.eps, self.eta)

    def threshold_for(self, C: float) -> float:  # noqa: N803
        return window_decision_threshold(C, self.eps, self.n, self.W, self.eta)

    def alice_stream(self, x):
        Q = np.zeros((self.n, self.d))
        K = np.zeros((self.n, self.d))
        V = np.zeros((self.n, self.d))
        K[self.n - self.W :] = self.keys
        V[self.n - self.W :] = np.asarray(x, dtype=np.float64)
        return Q, K, V


def decode_rows(reduction: SlidingWindowReduction, cache, message: bytes, x: np.ndarray, bob) -> float:
    """Fraction of the ``W·d`` bits Bob decodes from one message (one query per row)."""
    rows = tuple(range(reduction.W))
    decoded = bob(BobRequest(object_spec(cache), message, object_spec(reduction), rows))
    return float(np.mean(decoded == x))


def adversary_for(reduction: SlidingWindowReduction, dtype: str = "float64") -> AdversarialApproximation:
    """The worst ``(1±η)`` approximation of the exact running-sum cache against this reduction's decoder."""
    inner = RunningSumWindowCache(window=reduction.attention_window, dtype=dtype)
    return AdversarialApproximation(inner, reduction.eta, reduction.threshold)


# --- certificates -------------------------------------------------------------------------------


@claim(
    name="Theorem 26 two-case bounds (eqs. 76-82)",
    source="HO Theorem 26, eqs. 76-82",
    statement="At Bob's step (window W+1) the n non-spike tokens weigh <= e^{Cε} each, so O_j <= δ if x_ij = 0 "
    "and O_j >= Δ if x_ij = 1, with Theorem 6's δ, Δ at the same n",
    relied_on=True,
)
def _check_two_case_window():
    n, W, C, eps = sp.symbols("n W C epsilon", positive=True)
    count = sp.simplify((W - 1) + 1 + (n - W))  # other rows, Bob's own token, zero tokens outside
    if count != n:
        raise AssertionError(f"non-spike count {count}")
    if not (C * eps).is_nonnegative:  # exp is increasing, so e^0 <= e^{Cε} iff 0 <= Cε
        raise AssertionError("0 <= Cε not established")
    a, b = sp.symbols("a b", positive=True)
    d_a, d_b = sp.simplify(sp.diff(a / (a + b), a)), sp.simplify(sp.diff(a / (a + b), b))
    if not (d_a.is_positive and d_b.is_negative):
        raise AssertionError(f"derivatives {d_a}, {d_b}")
    return proved(
        f"sympy: non-spike tokens (W-1) + 1 + (n-W) = {count}; each weighs e^{{s_l}} <= e^{{Cε}} "
        "(the W-1 rows by JL, Bob's own and the zero tokens e^0 = 1 <= e^{Cε} for Cε >= 0); "
        f"d/da a/(a+b) = {d_a} > 0, d/db = {d_b} < 0, so the extreme weights give δ and Δ exactly as in eqs. 13/15"
    )


@claim(
    name="Theorem 26 bounds on real codebooks",
    source="HO Theorem 26, eqs. 76-82",
    statement="On real JL codebooks, every exact Attn_W output of Bob's queries lies in [0, δ] when x_ij = 0 "
    "and in [Δ, 1] when x_ij = 1",
    relied_on=True,
)
def _check_bounds_on_codebooks():
    checked = 0
    worst = 0.0
    for n, W, d in ((64, 8, 64), (256, 16, 128), (1024, 24, 128)):
        for factor in (1.0, 1.5, 2.0):
            reduction, x = trial_input(SlidingWindowReduction(n, W, d, C=1.0), seed=7, trial=n + W)
            C = factor * threshold_C(n, reduction.eps)
            reduction = SlidingWindowReduction(n, W, d, C, 0.0, reduction.codebook, reduction.public_seed)
            Q, K, V = reduction.alice_stream(x)
            queries = reduction.bob_queries(np.arange(W))[0]
            low, high = delta_bound(C, reduction.eps, n), Delta_bound(C, reduction.eps, n)
            for i in range(W):
                out = windowed_attention(queries[i], np.vstack([K, np.zeros(d)]), np.vstack([V, np.zeros(d)]), W + 1)
                zeros, ones = out[x[i] == 0], out[x[i] == 1]
                if zeros.size and zeros.max() > low * (1 + 1e-12):
                    raise AssertionError(f"n={n}, W={W}, d={d}, C={C:.3g}: x=0 output {zeros.max()} > δ = {low}")
                if ones.size and ones.min() < high * (1 - 1e-12):
                    raise AssertionError(f"n={n}, W={W}, d={d}, C={C:.3g}: x=1 output {ones.min()} < Δ = {high}")
                if zeros.size:
                    worst = max(worst, zeros.max() / low)
                checked += out.size
    return verified_on_grid(
        f"(n, W, d) in {{(64,8,64), (256,16,128), (1024,24,128)}}, C = 1, 1.5, 2 x threshold, one random x each: "
        f"{checked} output coordinates inside the bounds (largest x=0 output / δ = {worst:.2g})"
    )


@claim(
    name="eq. 84 as printed",
    source="HO Theorem 26, eq. 84 [sic]",
    statement="C > [2 ln n - ln((1-η)/(1+η))]/[2(1-2ε)] gives (1+η)δ < (1-η)Δ",
    relied_on=False,
)
def _check_eq84_printed():
    n, eta, eps = sp.Integer(2), sp.Rational(1, 2), sp.Rational(1, 10)
    C = (2 * sp.log(n) - sp.log((1 - eta) / (1 + eta))) / (2 * (1 - 2 * eps))
    ratio = sp.simplify(sp.powsimp(sp.expand_log(
        (1 - eta) * sp.exp(C * (1 - eps)) / ((1 + eta) * n * sp.exp(C * eps)), force=True), force=True))
    if not bool(ratio < 1):
        raise AssertionError(f"expected ratio < 1, got {ratio}")
    # In general (η = 1/(1+s), s > 0 spans (0, 1)): the ratio at the printed C is sqrt((1-η)/(1+η)).
    n_s, eps_s, s = sp.symbols("n epsilon s", positive=True)
    eta_s = 1 / (1 + s)
    C_s = (2 * sp.log(n_s) - sp.log((1 - eta_s) / (1 + eta_s))) / (2 * (1 - 2 * eps_s))
    general = sp.simplify(sp.powsimp(sp.expand_log(
        (1 - eta_s) * sp.exp(C_s * (1 - 2 * eps_s)) / ((1 + eta_s) * n_s), force=True), force=True))
    if sp.simplify(general**2 - (1 - eta_s) / (1 + eta_s)) != 0:
        raise AssertionError(f"general ratio {general}")
    return refuted(
        f"n = 2, η = 1/2, ε = 1/10: at the printed C = {sp.nsimplify(C)} ≈ {float(C):.4f}, "
        f"(1-η)Δ/((1+η)δ) = {ratio} ≈ {float(ratio):.4f} < 1, so the gap is empty (and stays empty up to the "
        f"corrected threshold {float(threshold_C(2, 0.1, 0.5)):.4f}); in general (sympy, η = 1/(1+s)) the ratio "
        "at the printed C is sqrt((1-η)/(1+η)) < 1 for every η in (0,1) and every n, ε: eq. 84 halves the η term"
    )


@claim(
    name="eq. 84 corrected",
    source="HO Theorem 26, eq. 84 (corrected)",
    statement="(1+η)δ < (1-η)Δ iff C > [ln n + ln((1+η)/(1-η))]/(1-2ε)",
    relied_on=True,
)
def _check_eq84_corrected():
    eta = sp.Symbol("eta", positive=True)
    ratio, t = _ratio_after_threshold(eta)
    if sp.simplify(ratio - sp.exp(t)) != 0:
        raise AssertionError(f"ratio simplified to {ratio}")
    return proved(
        "with C = [ln n + ln((1+η)/(1-η)) + t]/(1-2ε): (1-η)Δ/((1+η)δ) = exp(t) (equal denominators), "
        "> 1 iff t > 0; the window changes neither δ nor Δ (previous claims)"
    )


# --- experiment: window -----------------------------------------------------------------------------

WINDOW_PRESETS = {
    "quick": {"n": 1024, "W": 32, "d": 128, "trials": 2, "codebook": "normalized", "etas": [0.0, 0.3],
              "c_points": 12},
    "paper": {"n": 4096, "W": 64, "d": 128, "trials": 5, "codebook": "normalized", "etas": [0.0, 0.1, 0.3, 0.5],
              "c_points": 24},
}


def validate_window(config: dict) -> dict:
    """Check a ``window`` configuration; a clear error names the bad key."""
    W = check_int("W", config["W"], 2)
    check_int("n", config["n"], W)
    check_int("d", config["d"], 1)
    check_int("trials", config["trials"], 1)
    check_choice("codebook", config["codebook"], CODEBOOKS)
    for eta in config["etas"]:
        check_real("etas[]", eta, 0.0, 1.0, high_open=True)
    check_int("c_points", config["c_points"], 2)
    return config


def zoo_players(n: int, d: int) -> list:
    """The zoo (``caches.zoo``) without this module's window algorithms, which are played separately."""
    try:
        from caches.zoo import zoo_caches  # noqa: PLC0415 - the zoo is optional
    except ImportError:
        from reductions.budget import default_caches  # noqa: PLC0415

        return default_caches(n)
    return [cache for cache in zoo_caches(n, d) if not isinstance(cache, WINDOW_CACHES)]


def window_players(W: int) -> list[tuple[str, object]]:
    """The window algorithms at the right attention window ``W+1``, the naive one and smaller windows."""
    window = W + 1
    players = [
        ("window algorithm", RunningSumWindowCache(window=window, dtype="float64")),
        ("window algorithm", RunningSumWindowCache(window=window, dtype="float32")),
        ("window algorithm", RunningSumWindowCache(window=window, dtype="float16")),
        ("window algorithm", Algorithm1Cache(window=window, dtype="float16")),
        ("window algorithm", BoostedWindowCache(window=window, copies=8, groups=3, dtype="float16")),
        ("window algorithm", WindowCache(window=W, dtype="float16")),  # attends to its W tokens + Bob's
        ("window W: Bob's shift ignored", RunningSumWindowCache(window=W, dtype="float16")),
    ]
    for w in sorted({max(1, W // 8), max(1, W // 4), max(1, W // 2)}):
        players.append(("smaller window", RunningSumWindowCache(window=w + 1, dtype="float16")))
    return players


def window_steps(config: dict) -> int:
    return len(window_players(config["W"])) + len(zoo_players(config["n"], config["d"])) + len(config["etas"])


def run_window(config: dict, seed: int, bob, progress=None) -> dict:
    """Accuracy vs memory for the window algorithms and the zoo; accuracy vs C for the worst (1±η) output."""
    config = validate_window(config)
    n, W, d = config["n"], config["W"], config["d"]
    reduction = SlidingWindowReduction(n, W, d, codebook=config["codebook"])
    players = window_players(W) + [("zoo", cache) for cache in zoo_players(n, d)]
    points, trials = [], []
    for role, cache in players:
        point, outcomes = play(reduction, cache, trials=config["trials"], seed=seed, bob=bob)
        point["role"] = role
        if role.startswith("window W"):
            point["family"] = "RunningSumWindowCache, window W"
        points.append(point)
        trials.extend(
            {"part": "budget", "cache": point["cache"], "role": role, "trial": o.trial, "public_seed": o.public_seed,
             "memory_bits": o.memory_bits, "bits_encoded": o.bits_encoded, "correct": o.correct,
             "accuracy": o.correct / o.bits_encoded}
            for o in outcomes
        )
        if progress:
            progress(1)
    curves = threshold_curves(config, seed, bob, trials, progress)
    ratios = np.geomspace(1e-3, 1.0, 200)
    summary = {
        "experiment": "window", "n": n, "W": W, "d": d, "codebook": config["codebook"],
        "attention_window": W + 1, "bits_encoded": W * d, "points": points, "curves": curves,
        "frontier": {"memory_ratio": ratios.tolist(), "max_accuracy": np.asarray(frontier_curve(ratios)).tolist()},
    }
    return {"summary": summary, "trials": trials}


def threshold_curves(config: dict, seed: int, bob, trials: list, progress=None) -> list[dict]:
    """Accuracy vs C of the worst ``(1±η)`` output of the exact running sum, one curve per η."""
    n, W, d = config["n"], config["W"], config["d"]
    base = SlidingWindowReduction(n, W, d, C=1.0, codebook=config["codebook"])
    games = [trial_input(base, seed, trial) for trial in range(config["trials"])]
    exact = RunningSumWindowCache(window=W + 1)
    messages = [alice_message(reduction, exact, x) for reduction, x in games]
    eps = max(reduction.eps for reduction, _ in games)
    eps_ok = eps < 0.5
    top = 1.5 * max(threshold_C(n, eps, eta) for eta in config["etas"]) if eps_ok else 8 * math.log(n)
    grid = np.geomspace(0.1 * math.log(n), top, config["c_points"])
    curves = []
    for eta in config["etas"]:
        accuracies = []
        for C in grid:
            per_trial = []
            for (reduction, x), message in zip(games, messages):
                scaled = SlidingWindowReduction(n, W, d, float(C), eta, reduction.codebook, reduction.public_seed)
                accuracy = decode_rows(scaled, adversary_for(scaled), message, x, bob)
                per_trial.append(accuracy)
                trials.append({"part": "threshold", "eta": eta, "C": float(C), "public_seed": reduction.public_seed,
                               "eps_measured": reduction.eps, "accuracy": accuracy})
            accuracies.append(float(np.mean(per_trial)))
        curves.append({
            "eta": eta, "C": grid.tolist(), "accuracy": accuracies, "eps_measured": eps,
            "corrected_threshold": threshold_C(n, eps, eta) if eps_ok else None,
            "printed_eq84": printed_eq84_C(n, eps, eta) if eps_ok else None,
            "hiding_limit": window_hiding_limit_C(W, eta),
        })
        if progress:
            progress(1)
    return curves


# --- experiment: window_memory ----------------------------------------------------------------------

MEMORY_PRESETS = {
    "quick": {"n_values": [256, 1024, 4096], "W_fixed": 32, "W_values": [8, 16, 32, 64], "n_fixed": 1024,
              "d": 128, "trials": 1, "codebook": "normalized", "target": SUCCESS_ACCURACY},
    "paper": {"n_values": [256, 512, 1024, 2048, 4096, 8192, 16384], "W_fixed": 32,
              "W_values": [4, 8, 16, 32, 64, 96], "n_fixed": 2048, "d": 128, "trials": 3, "codebook": "normalized",
              "target": SUCCESS_ACCURACY},
}

#: Families searched by ``window_memory``: name, cache for a size parameter, range of that parameter.
MEMORY_FAMILIES = (
    ("RunningSumWindowCache", lambda s: RunningSumWindowCache(window=s, dtype="float16"), lambda n, W: (2, W + 1)),
    ("WindowCache", lambda s: WindowCache(window=s, dtype="float16"), lambda n, W: (1, W)),
    ("RandomEvictionCache", lambda s: RandomEvictionCache(budget=s, dtype="float16"), lambda n, W: (1, n)),
)


def validate_memory(config: dict) -> dict:
    """Check a ``window_memory`` configuration; a clear error names the bad key."""
    W_fixed = check_int("W_fixed", config["W_fixed"], 2)
    for n in config["n_values"]:
        check_int("n_values[]", n, W_fixed)
    n_fixed = check_int("n_fixed", config["n_fixed"], 2)
    for W in config["W_values"]:
        check_int("W_values[]", W, 2, n_fixed)
    check_int("d", config["d"], 1)
    check_int("trials", config["trials"], 1)
    check_choice("codebook", config["codebook"], CODEBOOKS)
    check_real("target", config["target"], 0.5, 1.0, low_open=True)
    return config


def smallest_size(make_cache, low: int, high: int, reduction, trials: int, seed: int, bob, target: float):
    """Integer bisection for the smallest size in ``[low, high]`` whose cache reaches ``target`` accuracy.

    Assumes accuracy grows with the size (true for windows; for the random reservoir only on
    average, so its answer is approximate). Returns ``(size, point)`` or ``(None, point at high)``.
    """
    best, _ = play(reduction, make_cache(high), trials=trials, seed=seed, bob=bob)
    if best["accuracy"] < target:
        return None, best
    while low < high:
        middle = (low + high) // 2
        point, _ = play(reduction, make_cache(middle), trials=trials, seed=seed, bob=bob)
        if point["accuracy"] >= target:
            high, best = middle, point
        else:
            low = middle + 1
    return high, best


def memory_configs(config: dict) -> list[tuple[str, int, int]]:
    sweep_n = [("n", n, config["W_fixed"]) for n in config["n_values"]]
    sweep_W = [("W", config["n_fixed"], W) for W in config["W_values"]]
    return sweep_n + sweep_W


def run_window_memory(config: dict, seed: int, bob, progress=None) -> dict:
    """Memory for 99% accuracy against n (fixed W) and against W·d (fixed n), per cache family."""
    config = validate_memory(config)
    d, target = config["d"], config["target"]
    points, trials = [], []
    for sweep, n, W in memory_configs(config):
        reduction = SlidingWindowReduction(n, W, d, codebook=config["codebook"])
        for family, make, bounds in MEMORY_FAMILIES:
            size, point = smallest_size(make, *bounds(n, W), reduction, config["trials"], seed, bob, target)
            point.update({"sweep": sweep, "n": n, "W": W, "d": d, "size": size, "reached": size is not None,
                          "family": family})
            points.append(point)
            trials.append({k: point[k] for k in ("sweep", "n", "W", "family", "size", "memory_bits", "accuracy")})
        point, _ = play(reduction, ExactCache("float16"), trials=config["trials"], seed=seed, bob=bob)
        point.update({"sweep": sweep, "n": n, "W": W, "d": d, "size": n, "reached": point["accuracy"] >= target})
        points.append(point)
        trials.append({k: point[k] for k in ("sweep", "n", "W", "family", "size", "memory_bits", "accuracy")})
        if progress:
            progress(1)
    summary = {
        "experiment": "window_memory", "d": d, "target": target, "W_fixed": config["W_fixed"],
        "n_fixed": config["n_fixed"], "n_values": config["n_values"], "W_values": config["W_values"],
        "fano_min_ratio": float(min_memory_ratio(target)), "points": points,
    }
    return {"summary": summary, "trials": trials}


EXPERIMENTS = [
    Experiment(
        "window", "HO Theorems 17/26", "thm17",
        "INDEX on W·d bits through sliding-window attention: accuracy vs memory/(W·d), and vs C",
        WINDOW_PRESETS, run_window, window_steps, "plots.window:window_figure",
    ),
    Experiment(
        "window_memory", "HO Theorems 17/26", "thm17",
        "memory for 99% accuracy grows with W·d, not with n",
        MEMORY_PRESETS, run_window_memory, lambda config: len(memory_configs(config)),
        "plots.window:window_memory_figure",
    ),
]
