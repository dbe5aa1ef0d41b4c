"""HO Theorem 26's window instance with nonzero values outside the window, and a window cache near ``W·d`` bits.

Two reviewers' findings on ``window`` (:mod:`reductions.thm17`): every window cache there sits
well above the ``Ω(dW)`` bound, and because Alice's stream carries zero values outside the window
it cannot tell eq. 20's exact algorithms from the plain biased window (which drops old tokens and
renormalizes over what it keeps). This module adds

* :class:`OutsideWindowReduction`: the same instance with ``outside="random"``: the ``n - W`` tokens
  before the bit rows keep their zero keys (they score 0 in Bob's query, as before) but carry
  public random values, uniform on ``[0, 2μ]`` (``μ = outside_mean``), so eq. 20's output depends on
  them. Bob's threshold adds their expected contribution ``μ(n-W)/Z`` (docs/theory.md §5, "Values
  outside the window");
* the experiment ``window_outside``: the plain window, the running sum, HO Algorithm 1, its
  boosted form (HO Theorem 25) and :class:`caches.window_designed.WindowHashedBitsCache` on both
  variants at two query scales: the theorem's C, where the spike outweighs all ``n - W`` outside
  tokens by far, and ``e^C = a/(1-a)·(n-W)`` with spike share ``a`` (default 1/2), where the outside
  tokens carry as much weight as the spike (the quick preset plays the second only, for time).

At the theorem's C the outside values are invisible (they move each output by about ``μ n e^{-C}``),
so every cache decodes both variants. At spike share ``a`` with ``μ < 0`` and ``|μ| > a/(2(1-a))``
Bob's threshold is negative while the plain window's outputs are convex combinations of stored
bits (``>= 0``): it decodes every bit as 1, half of them wrongly. Single-sample Algorithm 1 cannot
do better than the plain window wherever the latter fails (docs/theory.md §5: its in-window sample
is one of the values the plain window averages); the boosted mean of many samples, the running sum
and the designed cache decode.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from caches.eviction import WindowCache
from caches.params import ParameterError, check_choice, check_real
from caches.sliding import Algorithm1Cache, BoostedWindowCache, RunningSumWindowCache
from caches.spec import build
from caches.window_designed import WindowHashedBitsCache
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.game import frozen_spec, outcome_rows, play_trial, points_from_rows, trial_input
from reductions.jl import CODEBOOKS
from reductions.thm17 import SlidingWindowReduction

#: Second entropy word of the outside values' generator ``default_rng([public_seed, OUTSIDE_TAG])``.
OUTSIDE_TAG = 0x4F555453  # "OUTS"
#: ... and of the sampling caches' per-trial seeds ``default_rng([seed, CACHE_SEED_TAG, trial])``.
CACHE_SEED_TAG = 0x57534545  # "WSEE"

VARIANTS = ("zero", "random")
SCALES = ("theorem", "share")


@dataclass(frozen=True)
class OutsideWindowReduction(SlidingWindowReduction):
    """HO Theorem 26's instance; ``outside="random"`` gives the ``n - W`` zero-key tokens public
    random values uniform on ``[0, 2·outside_mean]`` (``"zero"``: the printed stream, unchanged).

    The values come from ``default_rng([public_seed, OUTSIDE_TAG])``: public, fresh per trial, the
    same for every cache. Bob uses only their mean (docs/theory.md §5): his threshold is the zero
    variant's plus ``μ(n-W)/(e^C + n)`` (:func:`outside_shift`).
    """

    outside: str = "zero"
    outside_mean: float = -1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("outside", self.outside, VARIANTS)
        check_real("outside_mean", self.outside_mean)
        if self.outside == "random" and self.outside_mean == 0:
            raise ParameterError("outside_mean must be nonzero for outside='random' (values uniform on [0, 2μ])")

    def outside_values(self) -> np.ndarray:
        """The ``(n - W) x d`` values of the tokens before the bit rows (zeros for ``"zero"``)."""
        shape = (self.n - self.W, self.d)
        if self.outside == "zero":
            return np.zeros(shape)
        rng = np.random.default_rng([self.public_seed, OUTSIDE_TAG])
        return 2.0 * self.outside_mean * (1.0 - rng.random(shape))  # (0, 1]: never exactly zero

    def threshold_for(self, C: float) -> float:  # noqa: N803
        shift = outside_shift(C, self.n, self.W, self.outside_mean) if self.outside == "random" else 0.0
        return super().threshold_for(C) + shift

    def alice_stream(self, x):
        Q, K, V = super().alice_stream(x)
        V[: self.n - self.W] = self.outside_values()
        return Q, K, V


def outside_shift(C: float, n: int, W: int, mean: float) -> float:
    """The outside tokens' expected share of each output, ``μ(n-W)/Z`` at the typical ``Z = e^C + n``."""
    tail = math.exp(-min(C, 700.0))
    return mean * (n - W) * tail / (1.0 + n * tail)


def share_C(n: int, W: int, share: float) -> float:  # noqa: N802
    """The query scale at which the spike's weight is ``share/(1-share)`` times the ``n - W`` outside tokens'."""
    return math.log(share / (1.0 - share) * (n - W))


# --- experiment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutsideConfig(ExperimentConfig):
    """Experiment ``window_outside``: the window caches on zero and random outside values (quick preset = the defaults)."""

    n: int = param(1024, low=3, doc="stream length (must be > W)")
    W: int = param(32, low=2, doc="window length (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(8, low=1, doc="instances per point (Algorithm 1's accuracy varies from game to game)")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    variants: list = param(list(VARIANTS), choices=VARIANTS, doc="out-of-window values: zero (printed) or random")
    scales: list = param(["share"], choices=SCALES,
                         doc="query scales: the theorem's C and/or the spike-share C (quick: share only, for time)")
    outside_mean: float = param(-1.0, doc="mean μ of the random outside values (uniform on [0, 2μ]; nonzero)")
    spike_share: float = param(0.5, low=0.0, high=1.0, low_open=True, high_open=True,
                               doc="second query scale: e^C = share/(1-share)·(n-W)")
    copies: int = param(128, low=1, doc="Algorithm 1 runs per group of the boosted cache (T)")
    groups: int = param(3, low=1, doc="groups of the boosted cache's median (Q)")
    hash_bits: int = param(40, low=1, high=4096, doc="SimHash bits per key of the designed window cache")

    def check(self) -> None:
        if self.n <= self.W:
            raise ParameterError(f"n must be > W (some tokens outside the window), got n={self.n}, W={self.W}")
        if self.outside_mean == 0:
            raise ParameterError("outside_mean must be nonzero (the random values are uniform on [0, 2μ])")


OUTSIDE_PRESETS = {
    "quick": OutsideConfig(),
    "paper": OutsideConfig(n=4096, W=64, trials=16, copies=256, scales=list(SCALES)),
}

#: Short names of the players (figure legends, headline).
LABELS = {
    "WindowCache": "plain window",
    "RunningSumWindowCache": "running sum",
    "Algorithm1Cache": "HO Alg. 1",
    "BoostedWindowCache": "HO Thm 25",
    "WindowHashedBitsCache": "designed window",
}


def outside_players(config: dict, seed: int = 0, trial: int = 0) -> list:
    """The five window caches at attention window ``W + 1`` (the plain window keeps ``W`` tokens and
    attends to them and Bob's). The sampling caches get a seed of their own per trial."""
    W = config["W"]
    own = int(np.random.default_rng([seed, CACHE_SEED_TAG, trial]).integers(2**31))
    return [
        WindowCache(window=W, dtype="float16"),
        RunningSumWindowCache(window=W + 1, dtype="float16"),
        Algorithm1Cache(window=W + 1, seed=own, dtype="float16"),
        BoostedWindowCache(window=W + 1, copies=config["copies"], groups=config["groups"], seed=own, dtype="float16"),
        WindowHashedBitsCache(window=W + 1, hash_bits=config["hash_bits"]),
    ]


def outside_reduction(config: dict, variant: str, scale: str) -> OutsideWindowReduction:
    """The unit's reduction: the theorem's C (``None``: from the trial's measured ε) or the spike-share C."""
    n, W = config["n"], config["W"]
    C = None if scale == "theorem" else share_C(n, W, config["spike_share"])
    return OutsideWindowReduction(n, W, config["d"], C, 0.0, config["codebook"], outside=variant,
                                  outside_mean=config["outside_mean"])


def outside_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per variant, query scale, player and trial."""
    return [{"variant": variant, "scale": scale, "player": k, "trial": trial}
            for variant in config["variants"] for scale in config["scales"]
            for k in range(len(outside_players(config))) for trial in range(config["trials"])]


def outside_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One game of HO Theorem 26's INDEX on the unit's variant and scale, with the unit's player."""
    cache = outside_players(config, seed, unit["trial"])[unit["player"]]
    reduction = outside_reduction(config, unit["variant"], unit["scale"])
    played, _ = trial_input(reduction, seed, unit["trial"])
    outcome = play_trial(reduction, frozen_spec(cache), seed, unit["trial"], players)
    rows = outcome_rows(build(frozen_spec(cache)), [outcome])
    for row in rows:  # one point per cache over the trials: the per-trial seed is not part of the label
        row.update(cache=re.sub(r"seed=\d+", "seed=per trial", row["cache"]), variant=unit["variant"],
                   scale=unit["scale"], C=played.scale, threshold=played.threshold)
    return rows


#: Families whose bits in one message share one step's draws (every probe row is "the next token"):
#: their independent unit is the game, so their accuracy is shown over the trials' games.
SHARED_DRAWS = ("Algorithm1Cache", "BoostedWindowCache")


def outside_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per variant, scale and cache: accuracy (99% Wilson over W·d bits × trials), memory over W·d,
    each game's accuracy, and whether the bits of one message share a draw (:data:`SHARED_DRAWS`)."""
    n, W, d = config["n"], config["W"], config["d"]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["variant"], row["scale"], row["cache"]), []).append(row)
    points = []
    for (variant, scale, _), group in groups.items():
        point = points_from_rows(group)[0]
        point.update(variant=variant, scale=scale, label=LABELS.get(point["family"], point["family"]),
                     C=[r["C"] for r in group], threshold=[r["threshold"] for r in group],
                     trial_accuracies=[r["accuracy"] for r in group],
                     bits_share_a_draw=point["family"] in SHARED_DRAWS)
        points.append(point)
    return {
        "experiment": "window_outside", "n": n, "W": W, "d": d, "codebook": config["codebook"],
        "attention_window": W + 1, "bits_encoded": W * d, "outside_mean": config["outside_mean"],
        "spike_share": config["spike_share"], "share_C": share_C(n, W, config["spike_share"]),
        "variants": list(config["variants"]), "scales": list(config["scales"]), "points": points,
    }


def outside_headline(summary: dict) -> str:
    """``barriers report``'s line: per variant and cache at the spike-share scale, accuracy with its
    99% Wilson interval (over W·d bits × trials) and memory/(W·d) (exact byte counts); Algorithm 1
    and Theorem 25, whose bits in a message share one draw, as median [min, max] over the trials'
    games instead. At the theorem's C (when played) the worst accuracy over all caches and variants."""
    from protocols.headline import exact, over_draws, percent

    def accuracy(p):
        if p.get("bits_share_a_draw") and p.get("trial_accuracies"):
            return over_draws([100 * a for a in p["trial_accuracies"]], 1, "%", noun="game")
        return percent(p["accuracy"], p["accuracy_low"], p["accuracy_high"])

    points = summary.get("points") or []
    parts = []
    for variant in summary.get("variants") or []:
        here = [p for p in points if p.get("variant") == variant and p.get("scale") == "share"]
        if here:
            parts.append(f"{variant} outside values: " + ", ".join(
                f"{p['label']} {accuracy(p)} at {exact(p['memory_ratio'])}× W·d" for p in here))
    theorem = [p for p in points if p.get("scale") == "theorem"]
    text = "; ".join(parts)
    if text:
        share, mean = summary.get("spike_share"), summary.get("outside_mean")
        text = (f"at spike share {exact(share) if share is not None else '?'} (outside mean "
                f"{exact(mean) if mean is not None else '?'}), "
                f"n = {summary.get('n')}, W = {summary.get('W')}, d = {summary.get('d')}: " + text)
    if theorem:
        worst = min(theorem, key=lambda p: p["accuracy"])
        text += (f"; at the theorem's C all {len(theorem)} (cache, variant) points decode at least "
                 f"{percent(worst['accuracy'], worst['accuracy_low'], worst['accuracy_high'])} ({worst['label']})")
    if text:
        text += (" (99% Wilson over W·d bits × trials; Algorithm 1's and Theorem 25's bits in one message share "
                 "one step's draws, so theirs are over the games)")
    return text or "see figure"


EXPERIMENTS = [
    Experiment(
        "window_outside", "HO Theorems 17/26", "thm17",
        "window caches on zero vs random values outside the window, and a designed window cache near W·d bits",
        OUTSIDE_PRESETS, outside_sweep, outside_measure, outside_summary, "plots.window_outside:window_outside_figure",
        headline="reductions.window_outside:outside_headline",
    ),
]
