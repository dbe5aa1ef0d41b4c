"""Tests for reductions.jl: JL codebooks, measured distortion, Lemma 3 and the experiment."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from barriers.experiments import EXPERIMENTS
from caches.params import ParameterError
from protocols.runner import run_sweep
from reductions import jl


def _naive(keys: np.ndarray) -> tuple[float, float]:
    gram = keys @ keys.T
    off = gram - np.diag(np.diag(gram))
    return float(np.max(np.abs(off))), float(np.max(np.abs(np.diag(gram) - 1.0)))


def test_gaussian_codebook_rows_are_scaled_columns_of_A():
    n, d = 7, 5
    keys = jl.gaussian_codebook(n, d, np.random.default_rng(123))
    A = np.random.default_rng(123).standard_normal((d, n))
    assert keys.shape == (n, d)
    for l in range(n):
        e_l = np.zeros(n)
        e_l[l] = 1.0
        np.testing.assert_allclose(keys[l], A @ e_l / math.sqrt(d), rtol=0, atol=1e-15)


def test_make_codebook_is_reproducible_and_kinds_differ():
    a = jl.make_codebook("gaussian", 32, 8, seed=[1, 2])
    b = jl.make_codebook("gaussian", 32, 8, seed=[1, 2])
    c = jl.make_codebook("normalized", 32, 8, seed=[1, 2])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(c, a / np.linalg.norm(a, axis=1, keepdims=True))


@pytest.mark.parametrize(
    "kind, n, d, name",
    [("gaussian", 1, 8, "n"), ("gaussian", 8, 0, "d"), ("orthogonal", 8, 8, "codebook"), ("normalized", 2.5, 8, "n")],
)
def test_make_codebook_validation(kind, n, d, name):
    with pytest.raises(ParameterError, match=name):
        jl.make_codebook(kind, n, d, seed=0)


@pytest.mark.parametrize("chunk_rows", [1, 3, 7, 50, None])
def test_chunked_epsilon_equals_naive_gram(chunk_rows):
    keys = jl.make_codebook("gaussian", 23, 6, seed=9)
    dist = jl.measure_epsilon(keys, chunk_rows=chunk_rows)
    off, diag = _naive(keys)
    assert dist.offdiag == pytest.approx(off, abs=1e-13)
    assert dist.diag == pytest.approx(diag, abs=1e-13)
    assert dist.eps == max(dist.offdiag, dist.diag)


def test_measure_epsilon_known_cases():
    dist = jl.measure_epsilon(np.eye(5))
    assert (dist.offdiag, dist.diag, dist.eps) == (0.0, 0.0, 0.0)
    keys = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 2.0]])
    dist = jl.measure_epsilon(keys, chunk_rows=1)
    assert dist.offdiag == pytest.approx(1.6)  # <k_2, k_3>
    assert dist.diag == pytest.approx(3.0)  # |4 - 1|
    with pytest.raises(ParameterError, match="keys"):
        jl.measure_epsilon(np.ones((1, 4)))
    with pytest.raises(ParameterError, match="keys"):
        jl.measure_epsilon(np.ones(4))


def test_normalized_codebook_has_no_diagonal_distortion():
    dist = jl.measure_epsilon(jl.make_codebook("normalized", 200, 64, seed=4))
    assert dist.diag < 1e-12
    assert 0.0 < dist.offdiag < 1.0
    gauss = jl.measure_epsilon(jl.make_codebook("gaussian", 200, 64, seed=4))
    assert gauss.diag > 0.05  # chi^2_64 / 64 spreads by ~0.18 per row


def test_measured_eps_shrinks_with_dimension():
    eps = [jl.measure_epsilon(jl.make_codebook("normalized", 256, d, seed=1)).eps for d in (16, 256, 4096)]
    assert eps[0] > eps[1] > eps[2]
    # JL scaling: max off-diagonal ~ sqrt(2 ln(n^2/2) / d)
    assert eps[2] < 2.5 * math.sqrt(2 * math.log(256**2 / 2) / 4096)


def test_lemma3_required_dimension_formulas():
    n, eps = 1024, 0.1
    printed = jl.lemma3_required_dimension(n, eps)
    assert printed == pytest.approx(12 * math.log(n) / (eps**2 - eps**3))
    assert printed == pytest.approx(4000 / 3 * math.log(n))
    corrected = jl.lemma3_required_dimension(n, eps, constant="corrected")
    assert corrected == pytest.approx(4 * math.log(4 * n**3) / (eps**2 - eps**3))
    assert corrected > printed
    # the corrected dimension makes the union bound exactly 1/n, the printed one 4/n
    assert jl.lemma3_failure_bound(n, corrected, eps) == pytest.approx(1 / n)
    assert jl.lemma3_failure_bound(n, printed, eps) == pytest.approx(4 / n)
    for bad in ({"eps": 0.0}, {"eps": 1.0}, {"n": 1}, {"constant": "sloppy"}):
        kwargs = {"n": n, "eps": eps, **bad}
        with pytest.raises(ParameterError, match=next(iter(bad))):
            jl.lemma3_required_dimension(**kwargs)


def test_lemma3_guaranteed_epsilon_inverts_requirement():
    for constant in jl.CONSTANTS:
        eps = jl.lemma3_guaranteed_epsilon(1024, 20000, constant)
        assert 0.0 < eps < 0.5
        assert jl.lemma3_required_dimension(1024, eps, constant) <= 20000
        assert jl.lemma3_required_dimension(1024, eps * 0.999, constant) > 20000
    assert (
        jl.lemma3_guaranteed_epsilon(1024, 20000, "corrected")
        > jl.lemma3_guaranteed_epsilon(1024, 20000, "printed")
    )
    # too small a dimension: nothing in (0, 1/2] is guaranteed -> nan
    assert math.isnan(jl.lemma3_guaranteed_epsilon(1024, 256))
    # raising eps_max to 2/3 (the peak of eps^2 - eps^3) can make it finite
    d = math.ceil(12 * math.log(64) / (4 / 27)) + 1
    assert math.isnan(jl.lemma3_guaranteed_epsilon(64, d))
    assert 0.5 < jl.lemma3_guaranteed_epsilon(64, d, eps_max=2 / 3) <= 2 / 3
    with pytest.raises(ParameterError, match="eps_max"):
        jl.lemma3_guaranteed_epsilon(64, d, eps_max=0.9)


def test_run_jl_structure_and_json():
    config = {"n_values": [16, 64], "d_values": [8, 2048], "codebooks": ["gaussian", "normalized"], "repeats": 2}
    steps = []
    out = run_sweep(EXPERIMENTS["jl"], config, 3, None, progress=steps.append)
    assert sum(steps) == len(EXPERIMENTS["jl"].sweep(config, 3)) == 2 * 2 * 2 * 2
    trials, summary = out["trials"], out["summary"]
    assert len(trials) == 16
    assert set(trials[0]) == {
        "codebook", "n", "d", "repeat", "eps_offdiag", "eps_diag", "eps",
        "lemma3_guaranteed_eps_printed", "lemma3_guaranteed_eps_corrected",
    }
    json.dumps(out, allow_nan=False)  # NaN must have become None
    assert summary["experiment"] == "jl" and summary["codebooks"] == ["gaussian", "normalized"]
    assert len(summary["rows"]) == 2 * 2 * 2
    small = [t for t in trials if t["d"] == 8]
    assert all(t["lemma3_guaranteed_eps_printed"] is None for t in small)
    big = [g for g in summary["lemma3"]["guaranteed_eps"] if g["n"] == 16 and g["d"] == 2048]
    assert big and 0 < big[0]["printed"] < big[0]["corrected"] < 0.5
    for row in summary["rows"]:
        assert row["eps_min"] <= row["eps_mean"] <= row["eps_max"]
        if row["codebook"] == "normalized":
            assert row["eps_diag_max"] < 1e-12
    # the real keys beat Lemma 3's promise where Lemma 3 promises anything
    for t in trials:
        if t["lemma3_guaranteed_eps_printed"] is not None:
            assert t["eps"] < t["lemma3_guaranteed_eps_printed"]


def test_run_jl_is_deterministic_and_seeded():
    config = {"n_values": [32], "d_values": [16], "codebooks": ["gaussian"], "repeats": 2}
    a = run_sweep(EXPERIMENTS["jl"], config, 11, None)
    b = run_sweep(EXPERIMENTS["jl"], config, 11, None)
    c = run_sweep(EXPERIMENTS["jl"], config, 12, None)
    assert a == b
    assert a["trials"][0]["eps"] != c["trials"][0]["eps"]
    assert a["trials"][0]["eps"] != a["trials"][1]["eps"]  # repeats use different draws
    expected = jl.measure_epsilon(jl.gaussian_codebook(32, 16, np.random.default_rng([11, 1, 32, 16, 0])))
    assert a["trials"][1]["eps"] == expected.eps


@pytest.mark.parametrize(
    "patch, name",
    [({"repeats": 0}, "repeats"), ({"codebooks": ["fourier"]}, "codebooks"), ({"n_values": [1]}, "n_values"),
     ({"d_values": []}, "d_values"), ({"extra": 1}, "extra")],
)
def test_run_jl_validation(patch, name):
    config = {"n_values": [16], "d_values": [8], "codebooks": ["gaussian"], "repeats": 1, **patch}
    with pytest.raises(ParameterError, match=name):
        jl.JL_PRESETS["quick"].with_overrides(config)


def test_presets_are_valid_and_quick_is_quick():
    assert set(jl.JL_PRESETS) == {"quick", "paper"}
    quick, paper = jl.JL_PRESETS["quick"].to_dict(), jl.JL_PRESETS["paper"].to_dict()
    assert max(quick["n_values"]) <= max(paper["n_values"])
    assert quick["repeats"] <= paper["repeats"]
    out = run_sweep(EXPERIMENTS["jl"], quick, 0, None)
    assert len(out["trials"]) == len(quick["codebooks"]) * len(quick["n_values"]) * len(quick["d_values"]) * quick["repeats"]
    # the quick preset reaches dimensions where Lemma 3 guarantees something
    assert any(row["lemma3_guaranteed_eps_printed"] is not None for row in out["summary"]["rows"])


def test_theorem20_bound_holds_against_exact_chi_square_tails():
    """Numerical cross-check of the certified Chernoff bound: exact chi^2_d tails at 30 digits."""
    import mpmath

    with mpmath.workdps(30):
        for d in (1, 2, 8, 64, 512):
            for eps in (0.05, 0.3, 0.6, 0.95):
                half = mpmath.mpf(d) / 2
                upper = mpmath.gammainc(half, half * (1 + mpmath.mpf(eps)), mpmath.inf, regularized=True)
                lower = mpmath.gammainc(half, 0, half * (1 - mpmath.mpf(eps)), regularized=True)
                assert upper + lower <= jl.theorem20_failure_bound(d, eps) * (1 + 1e-12)

