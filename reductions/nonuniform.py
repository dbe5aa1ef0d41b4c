"""Experiment ``nonuniform``: HO Theorem 6's INDEX game with a popular-row index (docs/theory.md §1).

In the ``budget`` game Bob's row is uniform and independent of the stream, so an eviction rule that
keeps ``w`` of the ``n`` rows decodes about ``w/n`` of them whatever it keeps: the rules have nothing
to rank. Here the index is skewed and correlated with the stream, as in real workloads:

1. **Construction** (:class:`PopularQueryReduction`). Alice's keys and values are HO Theorem 6's
   (public JL keys ``k_l``, her bit rows ``x_l`` as values), but her queries are not zero: every
   row gets a Zipf popularity ``1/rank^zipf`` (ranks a public random permutation) and token ``t``'s
   query is ``query_scale · Σ_j k_{r_j}`` over ``fanout`` earlier rows ``r_j`` drawn with
   probability proportional to their popularity (public randomness). Queries change no stored key
   or value (the exact cache's message is byte for byte the one of the zero-query stream; a test
   checks it), only what a query-aware rule such as H2O accumulates.
2. **Bob's index.** Row ``i`` is asked with probability ``p_i`` proportional to its popularity, the
   weight Alice's queries pick it with (public: a function of the public seed). Bob decodes all ``n``
   rows with Theorem 6's decoder, and the score is the exactly weighted accuracy ``Σ_i p_i a_i``
   (``a_i``: the fraction of row ``i``'s bits he gets right).
3. **Interval.** A 99% weighted Wilson interval: the Wilson interval at the Kish effective number
   of rows ``1/Σ w²`` (weights ``p_i / trials`` over all trials' rows). It treats the rows as
   independent units of accuracy in ``[0, 1]``, an approximation (the rows an eviction cache keeps
   are not independent of each other).
4. **Frontier** (:func:`protocols.fano.nonuniform_max_accuracy`): Fano per row, memory allocated
   across rows by water-filling. Every scored trial and every pooled point passes both guards: HO
   Theorem 5's over the ``n·d`` bits (:func:`protocols.guard.check_point`) and the non-uniform
   one at the weighted interval's lower bound (:func:`protocols.guard.check_weighted_point`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from caches.params import ParameterError, check_int, check_real
from caches.spec import build, object_spec
from caches.zoo import families, family_of, zoo_caches
from protocols.config import ExperimentConfig, param
from protocols.experiment import Experiment
from protocols.fano import frontier_for, max_accuracy, nonuniform_max_accuracy
from protocols.game import BobRequest, frozen_spec, trial_input
from protocols.guard import check_point, check_weighted_point, weighted_wilson
from reductions.budget import check_codebook
from reductions.certify import claim
from reductions.jl import CODEBOOKS
from reductions.tactics import Cited, GridCheck, Identity, Implies, ge, gt, le, lt
from reductions.thm6 import ExactOutputReduction

#: The second entropy word of the pointer draws, ``default_rng([public_seed, POINTER_TAG])``.
POINTER_TAG = 0x504F494E  # "POIN"

#: The families played by default: every eviction rule, the designed cache, KIVI and exact.
DEFAULT_FAMILIES = ["ExactCache", "QuantizedCache", "WindowCache", "SinkWindowCache", "HeavyHitterCache",
                    "KNormCache", "RandomEvictionCache", "HashedBitsCache"]

#: The memory ratio the headline and ``ranking_within_ratio_1`` read as "about 1": the smallest zoo budget
#: of the eviction rules keeps n/32 float16 rows, i.e. ratio 1 plus a few header bytes (H2O: plus its
#: float32 scores, ratio 1.01).
REPORT_RATIO = 1.05

#: The eviction families the headline ranks.
EVICTION_FAMILIES = ("WindowCache", "SinkWindowCache", "HeavyHitterCache", "KNormCache", "RandomEvictionCache")


@dataclass(frozen=True)
class PopularQueryReduction(ExactOutputReduction):
    """HO Theorem 6's INDEX reduction whose queries point at popular earlier rows (module docstring).

    ``fanout`` rows per query, Zipf exponent ``zipf`` of the popularity, query norm scale
    ``query_scale``; all public, like ``public_seed``. Bob's queries and decoder are Theorem 6's.
    """

    fanout: int = 2
    zipf: float = 1.0
    query_scale: float = 8.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("fanout", self.fanout, 1)
        check_real("zipf", self.zipf, 0.0, None)
        check_real("query_scale", self.query_scale, 0.0, None)

    def popularity(self) -> np.ndarray:
        """Each row's Zipf weight ``1/rank^zipf`` (ranks: a public random permutation)."""
        rng = np.random.default_rng([self.public_seed, POINTER_TAG])
        ranks = rng.permutation(self.n) + 1
        return ranks.astype(np.float64) ** -float(self.zipf)

    def pointers(self) -> np.ndarray:
        """``(n - 1, fanout)`` rows the queries of tokens ``1..n-1`` point at (token 0 has none):
        each an earlier row, drawn with probability proportional to its popularity."""
        rng = np.random.default_rng([self.public_seed, POINTER_TAG])
        ranks = rng.permutation(self.n) + 1  # the same draw as popularity()
        weight = ranks.astype(np.float64) ** -float(self.zipf)
        cumulative = np.cumsum(weight)
        draws = rng.random((self.n - 1, self.fanout)) * cumulative[:-1, None]  # token t: rows 0..t-1
        picked = np.searchsorted(cumulative, draws, side="right")
        return np.minimum(picked, np.arange(self.n - 1)[:, None])

    def row_distribution(self) -> np.ndarray:
        """Bob's public row distribution: the rows' popularity, normalized (the weights Alice's
        queries pick their rows with)."""
        weight = self.popularity()
        return weight / weight.sum()

    def alice_stream(self, x):
        keys = self.keys
        queries = np.zeros_like(keys)
        queries[1:] = self.query_scale * keys[self.pointers()].sum(axis=1)
        return queries, keys, np.asarray(x, dtype=np.float64)


def effective_rows(p) -> float:
    """Kish's effective number of units of weights ``p`` (summing to 1): ``1 / Σ p_i²``."""
    p = np.asarray(p, dtype=np.float64)
    return float(1.0 / np.sum(p * p))


# --- experiment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NonuniformConfig(ExperimentConfig):
    """Experiment ``nonuniform``: p-weighted accuracy vs memory for eviction rules and more (quick = defaults)."""

    n: int = param(128, low=8, doc="keys (rows of Alice's bits)")
    d: int = param(128, low=1, doc="dimension (bits per row)")
    trials: int = param(2, low=1, doc="instances per cache")
    codebook: str = param("normalized", choices=CODEBOOKS, doc="public JL codebook")
    fanout: int = param(2, low=1, high=64, doc="earlier rows each of Alice's queries points at")
    zipf: float = param(1.0, low=0.0, high=4.0, doc="Zipf exponent of the rows' popularity (0: uniform)")
    query_scale: float = param(8.0, low=0.0, high=1000.0, doc="norm scale of Alice's queries")
    families: list = param(list(DEFAULT_FAMILIES), doc="zoo families played, a non-empty list of family names")
    max_ratio: float | None = param(None, low=0.0, low_open=True,
                                    doc="play only members whose declared budget is at most this memory ratio (null: all)")

    def check(self) -> None:
        if not isinstance(self.families, list) or not self.families:
            raise ParameterError(f"families must be a non-empty list of family names, got {self.families!r}")
        families(self.families)

    def check_before_run(self) -> None:
        check_codebook(_reduction(self.to_dict()))


NONUNIFORM_PRESETS = {
    "quick": NonuniformConfig(max_ratio=REPORT_RATIO),
    "paper": NonuniformConfig(n=1024, d=128, trials=6),
}


def _reduction(config: dict) -> PopularQueryReduction:
    return PopularQueryReduction(config["n"], config["d"], codebook=config["codebook"], fanout=config["fanout"],
                                 zipf=config["zipf"], query_scale=config["query_scale"])


def players(config: dict) -> list:
    """The zoo members of ``families`` whose declared budget (``budget_bits``) is within ``max_ratio``."""
    n, d, limit = config["n"], config["d"], config.get("max_ratio")
    return [cache for cache in zoo_caches(n, d, config["families"])
            if limit is None or cache.budget_bits(n, d) <= limit * n * d]


def nonuniform_sweep(config: dict, seed: int) -> list[dict]:
    """One unit per cache and trial: the cache's frozen public parameters and the trial number."""
    return [{"cache": frozen_spec(cache), "trial": trial} for cache in players(config)
            for trial in range(config["trials"])]


def nonuniform_measure(config: dict, unit: dict, seed: int, players) -> list[dict]:
    """One game: Alice streams the trial's instance (``default_rng([seed, trial])``, as in ``budget``)
    with popular-row queries, Bob decodes all ``n`` rows; the row accuracies weighted by ``p``."""
    n, d = config["n"], config["d"]
    reduction, x = trial_input(_reduction(config), seed, unit["trial"])
    check_codebook(reduction)
    cache = build(unit["cache"])
    label = repr(cache)
    message = players.alice(reduction, cache, x)
    decoded = players.bob(BobRequest(frozen_spec(cache), message, object_spec(reduction), tuple(range(n))))
    right = decoded == np.asarray(x)
    memory_bits = 8 * len(message)
    check_point(label, memory_bits, x.size, int(right.sum()), x.size)  # HO Theorem 5 over all n·d bits
    p = reduction.row_distribution()
    weighted = min(1.0, float(p @ right.mean(axis=1)))  # Σ p_i may round to 1 + 1e-16
    frontier = check_weighted_point(label, memory_bits, p, d, weighted, effective_rows(p))
    return [{"cache": label, "family": type(cache).__name__, "trial": unit["trial"],
             "public_seed": reduction.public_seed, "memory_bits": memory_bits, "bits_encoded": n * d,
             "correct": int(right.sum()), "uniform_accuracy": float(right.mean()), "accuracy": weighted,
             "effective_rows": effective_rows(p), "nonuniform_frontier": frontier,
             "uniform_frontier": float(max_accuracy(memory_bits, n * d))}]


def _trial_distributions(config: dict, rows: list[dict]) -> dict[int, np.ndarray]:
    """``{trial: p}`` recomputed from the rows' public seeds (public randomness only)."""
    base = _reduction(config)
    return {int(r["trial"]): base.with_public_seed(int(r["public_seed"])).row_distribution() for r in rows}


def nonuniform_summary(config: dict, rows: list[dict], seed: int) -> dict:
    """Per cache the pooled p-weighted accuracy (99% weighted Wilson), both frontiers; the curves."""
    n, d = config["n"], config["d"]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["cache"], []).append(row)
    caches = {repr(c): c for c in players(config)}
    points = [_point(label, group, caches.get(label)) for label, group in groups.items()]
    distributions = list(_trial_distributions(config, rows).values())
    uniform = frontier_for(points)
    grid = np.asarray(uniform["ratio"]) * n * d
    curve = np.mean([nonuniform_max_accuracy(grid, p, d) for p in distributions], axis=0) if distributions \
        else np.asarray(uniform["accuracy"])
    top = max(1, n // 32)
    return {
        "experiment": "nonuniform",
        "n": n, "d": d, "codebook": config["codebook"], "fanout": config["fanout"], "zipf": config["zipf"],
        "query_scale": config["query_scale"], "bits_encoded": n * d,
        "interval": "99% weighted Wilson at the Kish effective number of rows (rows treated as independent)",
        "effective_rows_per_trial": [effective_rows(p) for p in distributions],
        "mass_of_top_rows": {"rows": top, "mass": [float(np.sort(p)[::-1][:top].sum()) for p in distributions]},
        "points": points,
        "frontier": {"ratio": uniform["ratio"], "accuracy": curve.tolist()},
        "uniform_frontier": uniform,
        "report_ratio": REPORT_RATIO,
        "ranking_within_ratio_1": ranking(points, REPORT_RATIO),
    }


def _point(label: str, group: list[dict], cache) -> dict:
    trials = len(group)
    accuracy = float(np.mean([r["accuracy"] for r in group]))
    effective = trials**2 / sum(1.0 / r["effective_rows"] for r in group)
    low, high = weighted_wilson(accuracy, effective)
    memory_bits = max(r["memory_bits"] for r in group)
    bits_encoded = group[0]["bits_encoded"]
    frontier = float(np.mean([r["nonuniform_frontier"] for r in group]))
    if low > frontier:  # the pooled point passes the non-uniform guard too
        from protocols.guard import InformationLeak

        raise InformationLeak(f"{label}: pooled p-weighted accuracy {accuracy:.4f} (99% lower bound {low:.4f}) "
                              f"beats the non-uniform Fano frontier {frontier:.4f}")
    check_point(label, memory_bits, bits_encoded, sum(r["correct"] for r in group), bits_encoded * trials)
    family = family_of(cache) if cache is not None else None
    uniform_total = bits_encoded * trials
    from protocols.stats import wilson_interval

    u_low, u_high = wilson_interval(sum(r["correct"] for r in group), uniform_total)
    return {"cache": label, "family": group[0]["family"], "label": family.display if family else group[0]["family"],
            "kind": family.kind if family else None, "memory_bits": memory_bits, "bits_encoded": bits_encoded,
            "memory_ratio": memory_bits / bits_encoded, "accuracy": accuracy, "accuracy_low": low,
            "accuracy_high": high, "effective_rows": effective, "trials": trials,
            "uniform_accuracy": sum(r["correct"] for r in group) / uniform_total,
            "uniform_accuracy_low": u_low, "uniform_accuracy_high": u_high,
            "fano_max_accuracy": frontier, "nonuniform_frontier": frontier,
            "uniform_frontier": float(max_accuracy(memory_bits, bits_encoded))}


def ranking(points: list[dict], ratio: float) -> list[dict]:
    """Per family, its most accurate point with memory ratio <= ``ratio``, most accurate first."""
    best: dict[str, dict] = {}
    for p in points:
        if p["memory_ratio"] <= ratio and (p["family"] not in best or p["accuracy"] > best[p["family"]]["accuracy"]):
            best[p["family"]] = p
    return [{"family": f, "label": p["label"], "cache": p["cache"], "memory_ratio": p["memory_ratio"],
             "accuracy": p["accuracy"], "accuracy_low": p["accuracy_low"], "accuracy_high": p["accuracy_high"],
             "nonuniform_frontier": p["nonuniform_frontier"], "uniform_frontier": p["uniform_frontier"]}
            for f, p in sorted(best.items(), key=lambda item: -item[1]["accuracy"])]


def nonuniform_headline(summary: dict) -> str:
    """``barriers report``'s line: at memory ratio <= 1 each eviction rule's p-weighted accuracy (99%
    weighted Wilson) beside the non-uniform frontier there; where the designed cache and KIVI sit."""
    from protocols.headline import percent

    ratio = summary.get("report_ratio", REPORT_RATIO)
    ranked = summary.get("ranking_within_ratio_1") or ranking(summary.get("points") or [], ratio)
    if not ranked:
        return "see figure"
    evictions = [r for r in ranked if r["family"] in EVICTION_FAMILIES]
    others = [r for r in ranked if r["family"] not in EVICTION_FAMILIES]

    def entry(r):
        return (f"{r['label']} {percent(r['accuracy'], r['accuracy_low'], r['accuracy_high'])} at ratio "
                f"{r['memory_ratio']:.3f} (exact; non-uniform frontier {100 * r['nonuniform_frontier']:.1f}% (exact), "
                f"uniform {100 * r['uniform_frontier']:.1f}% (exact))")

    parts = [f"p-weighted accuracy at memory ratio ≤ {ratio:g} (exact; the n/32 budgets, float16 rows plus headers) "
             f"(99% Wilson, weighted), eviction rules best first: "
             + (", ".join(entry(r) for r in evictions) or "none fits")]
    if others:
        parts.append("others: " + ", ".join(entry(r) for r in others))
    return "; ".join(parts)


# --- certificates -----------------------------------------------------------------------------

_A, _X = sp.symbols("a x", positive=True)
_LAM, _D, _PI = sp.symbols("lambda d p_i", positive=True)


def _h2(a):
    return -(a * sp.log(a) + (1 - a) * sp.log(1 - a)) / sp.log(2)


def _h2_unevaluated(a):
    """``H_2(a)`` built without simplification, so ``1 - (1 - a)`` stays for the engine to close."""
    with sp.evaluate(False):
        return _h2(a)


@claim(
    name="non-uniform frontier: independent rows and Fano per row",
    source="docs/theory.md §1 (derived for the suite, not in HO)",
    statement="For independent uniform rows X_1..X_n of d bits, public randomness R independent of X and a "
    "message M of m bits: Σ_i I(X_i; M | R) <= I(X; M | R) <= m, and I(X_i; M | R) >= d (1 - H_2(a_i)) with a_i "
    "Bob's accuracy averaged over row i's bits; so any protocol's accuracies satisfy Σ_i d (1 - H_2(a_i)) <= m "
    "and its p-weighted accuracy is at most max Σ p_i a_i over that set (a_i in [1/2, 1] without loss: "
    "1 - a costs the same as a). Information-theory steps cited; the arithmetic checked.",
    relied_on=True,
)
def _check_rows_bound():
    ct = "Cover & Thomas, Elements of Information Theory (2nd ed.)"
    I, Iu, S, m, HX, Hc = sp.symbols("I I_u S m H_X H_c", real=True)
    a = sp.Symbol("a", real=True)
    return [
        Cited("I(X; M | R) = Σ_i I(X_i; M | R, X_1..X_{i-1}) (chain rule) and, X_i independent of "
              "(X_1..X_{i-1}, R), I(X_i; M | R, X_<i) = H(X_i) - H(X_i | M, R, X_<i) >= H(X_i) - H(X_i | M, R) "
              "= I(X_i; M | R) (conditioning reduces entropy)", f"{ct}, Thm 2.5.2 and Thm 2.6.5"),
        Cited("I(X; M | R) <= H(M | R) <= m bits", f"{ct}, Thm 2.6.4 and 2.6.5; claim 'Theorem 5 chain with "
              "public randomness' (reductions.thm5)"),
        Cited("I(X_i; M | R) >= Σ_j (1 - H_2(δ_ij)) >= d (1 - H_2(mean_j δ_ij)) for row i's d uniform bits",
              "the chain of 'Theorem 5 chain with public randomness' restricted to one row; claims "
              "'Fano for a binary variable' and 'Jensen step' (reductions.thm5)"),
        Implies(le(S, m), hypotheses=[le(S, I), le(I, m)], engine="z3",
                note="Σ_i I(X_i; M|R) <= I(X; M|R) <= m"),
        Identity(_h2_unevaluated(1 - _A), _h2(_A), note="H_2(1 - a) = H_2(a): accuracy a and 1 - a cost the same memory"),
        Implies(ge(Hc * (1 - a) + (1 - Hc) * a, Hc * a + (1 - Hc) * (1 - a)),
                hypotheses=[ge(Hc, sp.Rational(1, 2)), le(a, sp.Rational(1, 2)), ge(a, 0)], engine="z3",
                note="so a_i < 1/2 is never better: flipping row i's guesses (p_i >= 0) raises Σ p a at no cost"),
    ]


@claim(
    name="non-uniform frontier: water-filling is the optimum",
    source="docs/theory.md §1 (derived for the suite, not in HO)",
    statement="The objective Σ p_i a_i - λ Σ d (1 - H_2(a_i)) of the Lagrangian is strictly concave in each a_i "
    "in (0, 1) for λ, d > 0 (second derivative λ d H_2''(a) < 0); its stationary point is "
    "a_i = 1/(1 + 2^{-p_i/(λ d)}) (in [1/2, 1) for p_i >= 0); the memory it costs, d (1 - H_2(a_i)), "
    "increases in ν = 1/λ, so one λ makes the budget bind (bisection) and, concave objective and convex "
    "constraint (Slater: a = 1/2 is strictly feasible for m > 0), this KKT point is the maximum (cited).",
    relied_on=True,
)
def _check_water_filling():
    t = sp.Symbol("t", positive=True)  # 2^{p_i/(λ d)} = 1 + t > 1 for p_i > 0
    lagrangian = _PI * _A - _LAM * _D * (1 - _h2(_A))
    stationary = 1 / (1 + 2 ** (-_PI / (_LAM * _D)))
    first = sp.diff(lagrangian, _A)
    cost_in_a = sp.diff(1 - _h2(_A), _A)  # the memory a row costs rises with its accuracy above 1/2
    return [
        Implies(lt(sp.diff(lagrangian, _A, 2).subs(_A, 1 / (1 + _X)), 0), where={_A: 1 / (1 + _X)},
                note="∂²L/∂a² = λ d H_2''(a) < 0 on (0, 1): L strictly concave in each a_i"),
        Identity(first.subs(_A, stationary), 0, note="∂L/∂a_i = p_i + λ d log2((1 - a)/a) vanishes at "
                 "a_i = 1/(1 + 2^{-p_i/(λ d)})"),
        Implies(gt(1 / (1 + 1 / (1 + t)), sp.Rational(1, 2)), note="a_i > 1/2 when p_i > 0 (2^{p_i/(λ d)} = 1 + t)"),
        Implies(gt(cost_in_a.subs(_A, 1 / (1 + 1 / (1 + t))), 0), where={_A: 1 / (1 + 1 / (1 + t))},
                note="d/da (1 - H_2(a)) > 0 on (1/2, 1): the cost rises with a_i, and a_i rises with ν = 1/λ"),
        Cited("for a concave objective and convex constraints with a strictly feasible point, a KKT point "
              "is a global maximum", "Boyd & Vandenberghe, Convex Optimization (2004), §5.5.3"),
    ]


@claim(
    name="nonuniform_max_accuracy matches the water-filling frontier",
    source="docs/theory.md §1 (protocols.fano.nonuniform_max_accuracy)",
    statement="On 12 memory values and three distributions over 16 rows of d = 8 bits (uniform, Zipf 1, "
    "two-level): the returned accuracy equals HO Theorem 5's max_accuracy(m, 128) for uniform p (to 1e-9), "
    "is >= it for the skewed ones, and is >= Σ p_i a_i for 200 random allocations a with "
    "Σ 8 (1 - H_2(a_i)) <= m (scaled to the budget): grid checks only.",
    relied_on=True,
)
def _check_implementation():
    rows, d = 16, 8
    memories = np.linspace(0.0, 1.1, 12) * rows * d
    uniform = np.full(rows, 1.0 / rows)
    zipf = 1.0 / np.arange(1, rows + 1)
    two_level = np.where(np.arange(rows) < 4, 10.0, 1.0)
    e, f, g = sp.symbols("e f g", real=True)
    equal, above, beats = [], [], []
    for m in memories:
        reference = float(max_accuracy(m, rows * d))
        equal.append({e: sp.Rational(float(nonuniform_max_accuracy(m, uniform, d))), f: sp.Rational(reference)})
        for p in (zipf, two_level):
            above.append({e: sp.Rational(float(nonuniform_max_accuracy(m, p, d))), f: sp.Rational(reference)})
    rng = np.random.default_rng(20240601)
    for k in range(200):
        p = (zipf, two_level)[k % 2] / (zipf, two_level)[k % 2].sum()
        m = float(rng.uniform(0.0, rows * d))
        a = _allocation_within(rng.uniform(0.5, 1.0, rows), m, d)
        beats.append({e: sp.Rational(float(nonuniform_max_accuracy(m, p, d))), g: sp.Rational(float(p @ a))})
    return [
        GridCheck(le(sp.Abs(e - f), sp.Rational(1, 10**9)), equal, note="uniform p gives HO Theorem 5's frontier"),
        GridCheck(ge(e, f - sp.Rational(1, 10**12)), above, note="skew never lowers the frontier"),
        GridCheck(ge(e, g - sp.Rational(1, 10**12)), beats, note="no feasible allocation beats water-filling"),
    ]


def _allocation_within(a: np.ndarray, memory_bits: float, d: int) -> np.ndarray:
    """``a`` pulled toward 1/2 (``1/2 + s (a - 1/2)``, bisection on ``s``) until it costs at most ``memory_bits``."""
    from protocols.fano import binary_entropy

    def cost(s):
        return float(d * np.sum(1.0 - binary_entropy(0.5 + s * (a - 0.5))))

    if cost(1.0) <= memory_bits:
        return a
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cost(mid) <= memory_bits else (lo, mid)
    return 0.5 + lo * (a - 0.5)


EXPERIMENTS = [
    Experiment(
        "nonuniform", "HO Theorem 6 (non-uniform index)", "nonuniform",
        "INDEX game with a popular-row index correlated with the stream: p-weighted accuracy vs memory, "
        "water-filling Fano frontier",
        NONUNIFORM_PRESETS, nonuniform_sweep, nonuniform_measure, nonuniform_summary,
        "plots.nonuniform:nonuniform_figure", headline="reductions.nonuniform:nonuniform_headline",
    ),
]
