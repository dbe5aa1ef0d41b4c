"""Each experiment's ``barriers report`` headline on a tiny synthetic summary holding the fields it
reads: every percentage and decimal it prints carries an interval ``[a, b]`` or says "exact" or
"single draw" (:func:`protocols.headline.unqualified_numbers`), and it says what the data show."""

from __future__ import annotations

import pytest

from barriers.experiments import EXPERIMENTS
from caches.spec import load_object
from protocols.headline import unqualified_numbers


def game_point(family, ratio, accuracy, low, high, **extra):
    return {"cache": f"{family}()", "family": family, "memory_bits": int(ratio * 4096), "bits_encoded": 4096,
            "memory_ratio": ratio, "accuracy": accuracy, "accuracy_low": low, "accuracy_high": high, "trials": 1,
            "fano_max_accuracy": 1.0, **extra}


def line(name: str, summary: dict) -> str:
    text = load_object(EXPERIMENTS[name].headline)(summary)
    assert not unqualified_numbers(text), (unqualified_numbers(text), text)
    return text


def test_checker_flags_bare_numbers_and_accepts_qualified_ones():
    assert unqualified_numbers("slope 0.50 and 96.2%") == ["0.50", "96.2%"]
    assert unqualified_numbers("slope 0.50 [0.4, 0.6], 96.2% [95.0, 97.0], 1.13 (exact), 0.6–0.9 (single draw)") == []
    assert unqualified_numbers("n = 1024, 8 of 8 tests at the 99% Wilson level") == []


def test_phase():
    points = [{"n": 64, "d": 16, "accuracy": 0.99, "bits_encoded": 1024, "trials": 1, "accuracy_theorem_C": None,
               "min_C": 3.8},
              {"n": 1024, "d": 128, "accuracy": 1.0, "bits_encoded": 131072, "trials": 1, "accuracy_theorem_C": 1.0,
               "min_C": 4.4}]
    text = line("phase", {"success_accuracy": 0.99, "points": points})
    assert "at 1 of 2 cells" in text and "0.63–0.91 (single draw" in text
    points[0]["min_C_draws"], points[1]["min_C_draws"] = [3.8, 3.5, 4.1], [4.4, 4.2, 4.5]
    text = line("phase", {"success_accuracy": 0.99, "points": points})
    assert "from 0.63 [0.61, 0.65] (3 draws) · ln n at (n = 1024, d = 128)" in text
    assert "to 0.91 [0.84, 0.99] (3 draws) · ln n at (n = 64, d = 16)" in text


def test_jl():
    rows = [{"codebook": "normalized", "n": 1024, "d": 1024, "repeats": 2, "eps_mean": 0.157, "eps_min": 0.144,
             "eps_max": 0.169, "lemma3_guaranteed_eps_printed": 0.355, "lemma3_guaranteed_eps_corrected": 0.371}]
    text = line("jl", {"rows": rows, "lemma3": {"guaranteed_eps": [{"printed": 0.355}, {"printed": None}]}})
    assert "0.157 [0.144, 0.169]" in text and "0.355 (exact)" in text and "1 of 2" in text
    assert line("jl", {"rows": []}) == "see figure"


def test_tensor():
    points = [game_point("ExactFourCache", 256.0, 1.0, 0.9996, 1.0), game_point("QuantizedFourCache", 5.5, 1.0, 0.9996, 1.0),
              game_point("ExactTwoCache", 4160.0, 1.0, 0.9996, 1.0), game_point("SubGenFourCache", 1.0, 0.506, 0.496, 0.516),
              game_point("SubGenFourCache", 160.0, 0.85, 0.843, 0.857)]
    timing = [{"family": "ExactFourCache", "n": 32, "memory_bits": 100}, {"family": "ExactTwoCache", "n": 32, "memory_bits": 1700}]
    curves = [{"eta": 0.0, "theorem_threshold": 13.64, "standard_threshold": 13.62}]
    text = line("tensor_game", {"n": 128, "d": 128, "points": points})
    assert "memory ratio ≥ 5.50 (exact)" in text and "50.6% [49.6, 51.6] to 85.0% [84.3, 85.7]" in text
    assert "13.64 (exact)" in line("tensor_threshold", {"n": 128, "d": 128, "curves": curves})
    assert "17.0 (exact) times" in line("tensor_memory", {"rows": timing})
    capacity = [{"d": d, "reduction": r, "capacity": c} for d, c in ((4, 8), (16, 64)) for r in ("tensor", "standard")]
    assert "2 of 2 dimensions d = 4..16" in line("tensor_capacity", {"query_norm": 8.0, "rows": capacity})
    rows = [{"label": "δ=0.5, t=4, s=16", "error": e, "bound": 1.0} for e in (0.5, 0.9, 1.5, 0.1)]
    settings = [{"label": "δ=0.5, t=4, s=16", "denominator_within_limit": True}]
    text = line("tensor_subgen", {"rows": rows, "settings": settings})
    assert "on 75.0% [" in text and "of 4 queries" in text and "in 1 of 1 settings" in text
    for name in ("tensor_game", "tensor_threshold", "tensor_capacity", "tensor_memory", "tensor_subgen"):
        assert line(name, {}) == "see figure"


def test_alg1():
    bias = {"alg1_max_abs_z": 3.8, "z_threshold": 5.1, "alg1_unbiased": True, "running_sum_max_abs_error_overall": 5e-15,
            "window_cache_max_abs_bias_overall": 1.4, "window_cache_max_abs_z": 10.8}
    copies = [{"copies": c, "groups": 1, "reps": 12, "median_relative_error": 0.58 / c ** 0.5 * (1.05 if c == 4 else 1.0)}
              for c in (1, 4, 16, 64, 256)]
    streams = [{"stream": "random", "bias": bias, "variance": {"violations": 0, "cells": 10}, "copies": copies},
               {"stream": "signed", "bias": bias, "variance": {"violations": 9, "cells": 10}, "copies": None}]
    text = line("alg1", {"runs": 4000, "alpha": 0.001, "streams": streams})
    assert "2 of 2 tests (2 streams × 1 draw)" in text and "fails in 0 of 10" in text and "9 of 10 with signed" in text
    assert "copies^-0.5" in text and "3.80 (single draw)" in text
    # Repeated draws: per draw the maximum over the streams, then median [min, max] over the draws.
    draws = [{**bias, "draw": k, "alg1_max_abs_z": z, "window_cache_max_abs_bias_overall": w}
             for k, (z, w) in enumerate(((3.8, 1.4), (3.2, 1.9), (4.1, 1.2)))]
    repeated = [{**s, "bias_draws": draws} for s in streams]
    repeated[0]["copies_draws"] = [{"draw": k, "copies": c, "groups": 1, "median_relative_error": e / c ** 0.5}
                                   for k, e in enumerate((0.5, 0.6, 0.55)) for c in (1, 4, 16, 64, 256)]
    text = line("alg1", {"runs": 4000, "alpha": 0.001, "streams": repeated})
    assert "6 of 6 tests (2 streams × 3 draws)" in text and "|z| per draw 3.80 [3.20, 4.10] (3 draws)" in text
    assert "bias per draw is 1.40 [1.20, 1.90] (3 draws)" in text
    assert "from 0.55 [0.50, 0.60] (3 draws) at 1 to 0.034 [0.031, 0.037] (3 draws) at 256 copies" in text
    assert "single draw" not in text


def test_window_and_window_memory():
    points = [game_point("RunningSumWindowCache", 35.0, 1.0, 0.999, 1.0, role="window algorithm"),
              game_point("RunningSumWindowCache", 34.0, 0.983, 0.978, 0.986, role="window W: Bob's shift ignored"),
              game_point("RunningSumWindowCache", 7.0, 0.553, 0.539, 0.567, role="smaller window",
                         cache="RunningSumWindowCache(window=5)")]
    text = line("window", {"n": 1024, "W": 32, "d": 128, "points": points})
    assert "98.3% [97.8, 98.6]" in text and "smaller windows: window 5 55.3% [53.9, 56.7]" in text
    memory = [game_point("RunningSumWindowCache", 35.0, 1.0, 0.998, 1.0, sweep=sweep, n=n, W=W, memory_bits=143432)
              for sweep, n, W in (("n", 256, 32), ("n", 4096, 32), ("W", 1024, 32))]
    memory.append(game_point("RunningSumWindowCache", 33.0, 0.991, 0.988, 0.993, sweep="W", n=1024, W=64, memory_bits=270408))
    text = line("window_memory", {"target": 0.99, "W_fixed": 32, "n_fixed": 1024, "points": memory})
    assert "143,432 bits at n = 256, 143,432 bits at n = 4096 (exact)" in text and "1 of 4 points" in text


def test_cor16():
    cells = [{"n": 64, "promise_guaranteed": False, "near_zero_fraction_min": 0.5, "spike_mass_min": 0.9},
             {"n": 256, "promise_guaranteed": True, "near_zero_fraction_min": 256 / 257, "spike_mass_min": 1 - 2e-7}]
    points = [game_point("WindowCache", 0.5, 0.51, 0.496, 0.525, fano_max_accuracy=0.893),
              game_point("ExactCache", 32.0, 1.0, 0.999, 1.0)]
    text = line("cor16", {"tau": 0.001, "cells": cells, "points": points})
    assert "n ≥ 256" in text and "99.61% (single draw" in text and "1 − 2.0e-07 (single draw)" in text
    draws = [{"draw": k, "cells": 1, "near_zero_fraction_min": f, "spike_mass_min": 1 - w}
             for k, (f, w) in enumerate([(256 / 257, 2e-7), (0.999, 1e-7), (256 / 257, 3e-7)])]
    text = line("cor16", {"tau": 0.001, "cells": cells, "points": points, "sparsity_draws": draws})
    assert "at least 99.61% [99.61, 99.90] (3 draws" in text and "1 − 2e-07 [1e-07, 3e-07] (3 draws)" in text
    assert "51.0% [49.6, 52.5]" in text and "89.3% (exact)" in text and "ExactCache" not in text


def test_gumbel_and_scalar():
    tests = [{"passed": True, "trials": 20000}, {"passed": False, "trials": 20000}]
    tail = [{"family": "flat", "n": 4096, "k": 256, "mean_tail": 15.41, "tail_se": 0.36, "bound": 15.0}]
    cost = [{"family": "flat", "n": n, "reads_per_sample": 2 * n ** 0.5 * (1.1 if n == 1024 else 1.0)}
            for n in (256, 1024, 4096, 16384)]
    text = line("gumbel", {"alpha": 0.001, "points": tests, "tail": tail, "cost": cost})
    assert "1 of 2 chi-square" in text and "1.027 [" in text and "n^0.49 [" in text
    memory = [{"n": n, "memory_bits": 3000 * n ** 0.5 * (1.1 if n == 1024 else 1.0), "exact_memory_bits": 128 * n,
               "relative_error_mean": 0.03} for n in (256, 1024, 4096, 65536)]
    points = [game_point("ExactCache", 128.0, 0.516, 0.436, 0.595)]
    text = line("scalar", {"memory": memory, "points": points})
    assert "n^1.00 (exact)" in text and "3.0% (single draw each)" in text and "contains chance" in text
    for row, errors in zip(memory, ((0.03, 0.02, 0.05), (0.031, 0.029, 0.03), (0.03, 0.03, 0.03), (0.04, 0.03, 0.03))):
        row.update(memory_bits_draws=[row["memory_bits"], 0.9 * row["memory_bits"], 1.2 * row["memory_bits"]],
                   relative_error_mean_draws=list(errors))
    text = line("scalar", {"memory": memory, "points": points})
    assert "768 kbit [691, 922] (3 draws) vs 8.4 Mbit (exact) at n = 65,536" in text
    assert "mean relative error 3.0% [2.0, 5.0] (12 draws) over the n grid (3 streams at each of 4 n)" in text
    assert "single draw" not in text


def test_nonadaptive():
    points = [{"kind": "non-adaptive", "reader": "strided", "estimator": "baseline", "n": 4096, "s_over_n": s,
               "success_mixture": (1 + s) / 2, "bound_mixture": (1 + s) / 2, "trials": 200} for s in (0.5, 0.9, 1.0)]
    adaptive = [{"method": "knn+tail", "n": n, "success_H": 1.0, "success_sigma": 1.0, "reads_mean": 2 * n ** 0.5,
                 "reads_max": 2 * n ** 0.5, "trials": 60} for n in (256, 1024)]
    adaptive += [{"method": "knn-sampling", "n": n, "success_H": 1.0, "success_sigma": 0.0, "reads_mean": n ** 0.8 * (1.1 if n == 1024 else 1),
                  "reads_max": n, "trials": 60} for n in (256, 1024, 4096)]
    needed = [{"n": 256, "reads": 230}, {"n": 1024, "reads": 922}, {"n": 4096, "reads": 3686}]
    text = line("nonadaptive", {"eta": 0.2, "target_success": 0.9, "points": points, "needed": needed})
    assert "0 of 3 non-adaptive points" in text and "95.0% (exact)" in text and "3686 reads" in text
    text = line("adaptive", {"eta": 0.2, "adaptive": adaptive})
    assert "n^0.50 (exact)" in text and "worst σ 0.0% [0.0, 10.0]" in text


def test_cor9():
    fit = {"c": 0.4912, "c_low": 0.4801, "c_high": 0.5043, "r2": 0.9934, "intercept": 0.3}
    series = [{"codebook": "packed", "eta": 0.0, "d": [2, 4, 6, 8], "capacity": [5, 10, 30, 57],
               "capacity_low": [4, 9, 26, 50], "capacity_high": [5, 11, 33, 64], "censored": [False] * 4, "fit": fit},
              {"codebook": "packed", "eta": 0.1, "d": [2, 4], "capacity": [5, 9], "censored": [False] * 2, "fit": None}]
    fixed = [{"codebook": "packed", "r_value": 2.0, "d": [2, 4, 6], "capacity": [5, 12, 19], "worst_case_cap": 55.598}]
    series.append({**series[0], "r_over_d": 1.0, "capacity": [7, 30, 300, 900]})  # another r/d: not the reference's
    series[0]["r_over_d"] = series[1]["r_over_d"] = 0.5

    def swept(rho, c, low, high, n, n_low, n_high, cut=False):
        return {"codebook": "packed", "r_over_d": rho, "d": [2, 4, 6], "c": c, "c_low": low, "c_high": high, "r2": 0.97, "d_max": 6,
                "capacity_at_d_max": n, "capacity_low_at_d_max": n_low, "capacity_high_at_d_max": n_high,
                "censored_at_d_max": cut}
    sweep = {"series": [swept(1.0, 0.93, 0.85, 1.01, 512, 512, 512, True), swept(0.25, 0.21, 0.12, 0.33, 6, 4, 7),
                        swept(0.5, 0.55, 0.50, 0.61, 26, 26, 26),
                        {**swept(0.5, 0.3, 0.2, 0.4, 9, 9, 9), "codebook": "random"}]}
    text = line("cor9", {"r_per_d": 0.5, "trials": 3, "series": series, "fixed_r": fixed, "lemma3": {"c": 0.0102},
                         "r_sweep": sweep})
    assert "‖q‖ = d·1/2" in text and "largest median n′ = 57 (trials 50–64) at d = 8" in text and "0.010 (exact)" in text
    assert "0.49 [0.48, 0.50] (packed, R² 0.99" in text and "over 3 trials" in text and "900" not in text
    assert "5–19 keys" in text and "55.6 (exact)" in text
    sweep_text = text[text.index("packed code over r/d (η = 0, d = 2..6, 99% bootstrap over 3 trials)"):]
    assert sweep_text.index("r/d = 1/4: c = 0.21 [0.12, 0.33]") < sweep_text.index("r/d = 1/2: c = 0.55 [0.50, 0.61]") \
        < sweep_text.index("r/d = 1: c = 0.93 [0.85, 1.01]")
    assert "ceiling 2r/d = 0.50 (exact), n′(6) = 6 (trials 4–7)" in text and "n′(6) ≥ 512 (trials 512–512)" in text
    assert "0.30" not in sweep_text  # the random code's sweep is in the summary, the headline shows the packed one


def test_thm15():
    growth = [{"d": 2, "n": [64, 4096, 32768], "memory_bits": [8552, 10984, 10984], "exact_bits": [8264, 524360, 4194376]}]
    rows = [{"d": d, "clusters": int(4 * 2.6 ** (d - 1)) + (d == 3), "saturated": True} for d in (1, 2, 3, 4)]
    bound = [{"stream": s, "d": 2, "constant": c, "fraction_within": f, "samples": 200}
             for s, c, f in (("ball", 16, 1.0), ("clustered", 16, 1.0), ("ball", 1, 0.515), ("clustered", 1, 0.79),
                             ("ball", 0.25, 0.4))]
    text = line("thm15", {"memory_vs_n": growth, "memory_vs_d": {"rows": rows, "lemma13_slope": 1.79}, "bound": bound})
    assert "10,984 bits (single draw) at n = 32,768, 0.0% (single draw) more than at n = 4,096" in text
    assert "4,194,376 (exact)" in text
    growth[0]["memory_bits_draws"] = [[8552, 10984, 10984], [8328, 11592, 11592], [8040, 10984, 11592]]
    text = line("thm15", {"memory_vs_n": growth, "memory_vs_d": {"rows": rows, "lemma13_slope": 1.79}, "bound": bound})
    assert "11,592 bits [10,984, 11,592] (3 draws) at n = 32,768, 0.0% [0.0, 5.5] (3 draws) more than at n = 4,096" in text
    assert "single draw" not in text
    assert "(in each of 2 stream/d cells)" in text and "51.5% [" in text and "79.0% [" in text and "constant 0.25" not in text


def test_covering():
    points = [{"d": 4, "delta": 0.25, "net_size_max": 752, "lemma13": 20736.0, "volume": 256.0},
              {"d": 1, "delta": 1.0, "net_size_max": 2, "lemma13": 3.0, "volume": 1.0}]
    lemma14 = [{"d": 1, "printed_max_diameter": 1.14, "corrected_max_diameter": 0.70},
               {"d": 4, "printed_max_diameter": 1.68, "corrected_max_diameter": 0.874}]
    text = line("covering", {"points": points, "lemma14": lemma14})
    assert "2 of 2 greedy nets" in text and "δ = 1/4: 752 of at most 20,736" in text
    assert "1.14–1.68 (single draw each)" in text and "0.874 (single draw)" in text
    lemma14[0].update(printed_max_diameter_draws=[1.14, 1.2, 1.1], corrected_max_diameter_draws=[0.7, 0.6, 0.95])
    lemma14[1].update(printed_max_diameter_draws=[1.68, 1.5, 1.6], corrected_max_diameter_draws=[0.874, 0.8, 0.9])
    text = line("covering", {"points": points, "lemma14": lemma14})
    assert "1.14 [1.10, 1.20] (3 draws) (d = 1) to 1.60 [1.50, 1.68] (3 draws) (d = 4)" in text
    assert "above it in 6 of 6 samples" in text and "at most 0.874 [0.800, 0.950] (3 draws)" in text
    assert "within e/3 in 5 of 6 samples" in text


def test_knn():
    estimator = [{"inputs": "random", "method": "sample", "samples": m, "error_mean": m ** -0.5 * (1.1 if m == 4 else 1)}
                 for m in (1, 4, 16, 64)]
    gradients = [{"gradient": "dV", "samples": m, "error_mean": m ** -0.5 * (1.1 if m == 16 else 1)} for m in (4, 16, 64)]
    forward = [{"n": n, "knn_reads": int(n ** 1.5 * (1.1 if n == 512 else 1)), "exact_reads": n * (n + 1) // 2}
               for n in (256, 512, 1024)]
    points = [game_point("KNNAttentionCache", 64.25, 1.0, 0.9998, 1.0), game_point("ExactCache", 64.0, 1.0, 0.9998, 1.0)]
    assert "(random values)" in line("knn_error", {"estimator": estimator})
    assert "(dV estimator)" in line("knn_gradients", {"gradients": gradients})
    assert "0.52 (exact) million" in line("knn_forward", {"forward": forward})
    assert "reads 0.03 (single draw) vs" in line("knn_forward", {"forward": forward})
    forward[-1]["knn_reads_draws"] = [32768, 30000, 36000]
    assert "reads 0.03 [0.03, 0.04] (3 draws) vs 0.52 (exact) million" in line("knn_forward", {"forward": forward})
    assert "64.25 (exact)" in line("knn_game", {"points": points})


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_empty_summary_gives_a_line_without_numbers(name):
    assert not unqualified_numbers(load_object(EXPERIMENTS[name].headline)({}))
