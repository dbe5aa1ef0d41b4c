"""Experiment ``subgen_operating`` (reductions/thm15.py): SubGen with t below its largest cluster.

Each claim of the summary and headline is checked on the quick preset's own measurements: the
denominator's failure rate falls as t grows (interval-separated), the estimate is exact once t reaches
the largest cluster, the 99% operating point is what the rows give and compresses where the rows say
so, and the memory at t = ceil(c ln n) grows slower than n."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caches.params import ParameterError
from protocols.stats import Z_99, wilson_interval


@pytest.fixture(scope="module")
def run():
    from barriers.experiments import EXPERIMENTS
    from protocols.game import InProcessPlayers
    from protocols.runner import run_sweep

    return run_sweep(EXPERIMENTS["subgen_operating"], {}, 0, InProcessPlayers())


def _qualifies(misses: list[int], per_seed: int) -> bool:
    """The criterion recomputed here: 99% Wilson lower bound of the success rate >= 0.99 on the
    design-effect sample size (docs/theory.md §9)."""
    f = np.asarray(misses, dtype=float) / per_seed
    p = f.mean()
    deff = max(1.0, f.var(ddof=1) / (p * (1 - p) / per_seed)) if 0 < p < 1 else 1.0
    effective = f.size * per_seed / deff
    return 1 - wilson_interval(p * effective, effective)[1] >= 0.99


def test_failure_rate_falls_as_t_grows(run):
    curves = [c for c in run["summary"]["curves"] if c["eps"] <= 0.1]
    assert curves
    for c in curves:
        assert c["t"][0] == 1 and c["t"][-1] == c["largest_cluster"] and len(c["t"]) >= 5
        assert c["failure_low"][0] > c["failure_high"][-1], c  # intervals separated
        assert c["failure_rate"][0] > 0.1  # t = 1 really fails the band at these ε


def test_denominator_is_exact_once_t_reaches_the_largest_cluster(run):
    rows = [r for r in run["trials"] if r["part"] == "curve" and r["t"] == r["largest_cluster"]]
    assert rows
    for r in rows:
        assert r["max_error"] < 1e-9
        assert all(sum(m) == 0 for m in r["misses"])
        assert r["memory_bits"] > r["keys_bits"]  # every key is in the message, plus centres, counts and samples
    for r in (r for r in run["trials"] if r["part"] == "curve" and r["t"] < r["largest_cluster"]):
        assert r["memory_bits"] < next(x["memory_bits"] for x in rows if (x["d"], x["stream"]) == (r["d"], r["stream"]))


def test_operating_point_is_what_the_rows_give(run):
    summary = run["summary"]
    per_seed = summary["queries"]
    assert per_seed * summary["seeds"] >= 99 * Z_99**2  # the criterion can be met at all
    for c in summary["curves"]:
        rows = sorted((r for r in run["trials"] if r["part"] == "curve" and (r["d"], r["stream"]) == (c["d"], c["stream"])),
                      key=lambda r: r["t"])
        j = summary["eps"].index(c["eps"])
        ok = [_qualifies(r["misses"][j], per_seed) for r in rows]
        first = next(i for i in range(len(ok)) if all(ok[i:]))
        op = c["operating"]
        assert op["t"] == rows[first]["t"] and op["memory_bits"] == rows[first]["memory_bits"]
        if first:
            assert not ok[first - 1] and op["previous_t"] == rows[first - 1]["t"]
        assert math.isclose(op["ratio_to_keys"], op["memory_bits"] / c["keys_bits"])
        assert op["compressing"] == (op["memory_bits"] < c["keys_bits"])
    # What the quick preset shows: below storing all keys at every ε, at ε = 1/10 by more than 5x.
    assert all(c["operating"]["compressing"] for c in summary["curves"])
    assert all(c["operating"]["ratio_to_keys"] < 0.2 for c in summary["curves"] if c["eps"] == 0.1)


def test_full_eq17_is_limited_by_the_numerator(run):
    """With the exact denominator (t = largest cluster) and s = 32, eq. 17 at ε = 1/10 still fails for most queries."""
    for c in (c for c in run["summary"]["curves"] if c["eps"] == 0.1):
        assert c["eq17_failure_low"][-1] > 0.5


def test_memory_grows_slower_than_n_at_t_log_n(run):
    growth = run["summary"]["growth"]
    assert growth["slope_low"] is not None and growth["slope_high"] < 1
    points = growth["points"]
    assert all(p["t"] == math.ceil(growth["log_constant"] * math.log(p["n"])) for p in points)
    largest = max(p["n"] for p in points)
    assert all(p["memory_bits"] < p["keys_bits"] for p in points if p["n"] == largest)


def test_design_effect_widens_the_interval_for_correlated_queries():
    from reductions.thm15 import seed_clustered_wilson

    spread_out = seed_clustered_wilson([2] * 20, 40)  # the same count per seed: no extra variance
    clumped = seed_clustered_wilson([40] + [0] * 19, 40)  # same pooled rate, all in one seed
    assert math.isclose(spread_out["rate"], 0.05) and math.isclose(clumped["rate"], 0.05)
    assert spread_out["deff"] == 1.0 and clumped["deff"] > 10
    assert clumped["high"] - clumped["low"] > 2 * (spread_out["high"] - spread_out["low"])
    assert seed_clustered_wilson([0] * 20, 40)["effective"] == 800


def test_headline_and_figure(run):
    from matplotlib.figure import Figure

    from plots.lowdim import subgen_operating_figure
    from protocols.headline import unqualified_numbers
    from reductions.thm15 import subgen_operating_headline

    text = subgen_operating_headline(run["summary"])
    assert not unqualified_numbers(text), text
    assert "× all keys" in text and "99% bootstrap" in text and "ε = 1/10" in text
    fig = subgen_operating_figure(run["summary"])
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(subgen_operating_figure({}).axes) == 2


def test_unit_rows_do_not_depend_on_the_other_units(run):
    from reductions.thm15 import SUBGEN_OPERATING_PRESETS, subgen_operating_measure
    from protocols.runner import canonical_rows

    config = SUBGEN_OPERATING_PRESETS["quick"].to_dict()
    unit = {"part": "growth", "log2_n": 9, "stream": 1}
    alone = canonical_rows(subgen_operating_measure(config, unit, 0, None))
    assert alone == [r for r in run["trials"] if r["part"] == "growth" and r["n"] == 512 and r["stream"] == 1]


@pytest.mark.parametrize("overrides", [{"seeds": 19}, {"queries": 27}, {"growth_log2_n": [10]}, {"eps": [1.0]}])
def test_bad_parameters_are_one_line_errors(overrides):
    from barriers.experiments import EXPERIMENTS

    with pytest.raises(ParameterError) as error:
        EXPERIMENTS["subgen_operating"].config("quick", overrides)
    assert "\n" not in str(error.value)
