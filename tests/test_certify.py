"""Tests for reductions.certify and for the verdicts of the jl / thm5 certificates."""

from __future__ import annotations

import json

import pytest

import reductions
from reductions import certify
from reductions.certify import (
    REGISTRY,
    Registry,
    Status,
    Verdict,
    check_all,
    exit_code,
    failed,
    proved,
    refuted,
    render_table,
    results_to_json,
    results_to_records,
    verified_on_grid,
)


def _local_registry(relied_outcome: Verdict | Exception) -> Registry:
    reg = Registry()

    @reg.claim(name="holds", source="test", statement="1 + 1 = 2", relied_on=True)
    def _holds():
        return proved("exact")

    @reg.claim(name="sic", source="test", statement="a printed typo", relied_on=False)
    def _sic():
        return refuted("x = 3 breaks it")

    @reg.claim(name="relied", source="test", statement="the one that matters", relied_on=True)
    def _relied():
        if isinstance(relied_outcome, Exception):
            raise relied_outcome
        return relied_outcome

    return reg


def test_registry_keeps_declaration_order_and_returns_function():
    reg = _local_registry(verified_on_grid("grid"))
    assert [c.name for c in reg.claims()] == ["holds", "sic", "relied"]
    entry = reg.get("sic")
    assert entry.relied_on is False and entry.source == "test"
    assert entry.check() == Verdict(Status.REFUTED, "x = 3 breaks it")
    assert entry.check.claim is entry


def test_local_registry_does_not_touch_global():
    before = len(REGISTRY)
    _local_registry(proved("ok"))
    assert len(REGISTRY) == before


def test_duplicate_name_from_other_function_is_rejected():
    reg = Registry()
    reg.claim(name="x", source="s", statement="t", relied_on=True)(lambda: proved("a"))
    with pytest.raises(ValueError, match="already registered"):

        @reg.claim(name="x", source="s", statement="t", relied_on=True)
        def _other():
            return proved("b")


@pytest.mark.parametrize(
    "outcome, code",
    [
        (proved("fine"), 0),
        (verified_on_grid("fine"), 0),
        (certify.verified_interval("fine"), 0),
        (refuted("counterexample"), 1),
        (failed("did not hold"), 1),
        (RuntimeError("boom"), 1),
    ],
)
def test_exit_code_depends_only_on_relied_on_claims(outcome, code):
    results = check_all(_local_registry(outcome).claims())
    assert exit_code(results) == code  # the refuted "sic" claim never counts


def test_exceptions_and_bad_returns_become_failed():
    reg = Registry()

    @reg.claim(name="raises", source="s", statement="t", relied_on=False)
    def _raises():
        raise ZeroDivisionError("division by zero here")

    @reg.claim(name="wrong type", source="s", statement="t", relied_on=False)
    def _wrong():
        return True

    results = check_all(reg.claims())
    assert [r.verdict.status for r in results] == [Status.FAILED, Status.FAILED]
    assert "ZeroDivisionError" in results[0].verdict.detail
    assert "not a Verdict" in results[1].verdict.detail
    assert all(r.seconds >= 0.0 for r in results)
    assert exit_code(results) == 0  # neither is relied on


def test_status_values_are_readable():
    assert [s.value for s in Status] == [
        "proved (sympy)",
        "verified on grid",
        "verified (interval arithmetic)",
        "refuted (counterexample)",
        "failed",
    ]
    assert Status.PROVED.holds and not Status.REFUTED.holds and not Status.FAILED.holds
    with pytest.raises(TypeError):
        Verdict("proved (sympy)", "a string is not a Status")


def test_render_table_and_json():
    results = check_all(_local_registry(failed("x" * 500)).claims())
    table = render_table(results, detail_width=40)
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["claim", "source"]
    assert any("refuted (counterexample)" in line and " no " in line for line in lines)
    assert all(len(line) < 200 for line in lines)  # detail is truncated
    assert "..." in table
    assert "1 relied-on claim(s) not established" in lines[-1]
    payload = json.loads(results_to_json(results))
    assert payload["exit_code"] == 1
    assert [c["status"] for c in payload["claims"]] == ["proved (sympy)", "refuted (counterexample)", "failed"]
    assert payload["claims"][2]["detail"] == "x" * 500  # JSON keeps the full detail
    assert results_to_records(results)[1]["relied_on"] is False


def test_all_claims_imports_result_modules_in_order(monkeypatch):
    monkeypatch.setattr(reductions, "RESULT_MODULES", ("thm5", "jl"), raising=False)
    claims = certify.all_claims()
    modules = [c.module for c in claims]
    assert "reductions.thm5" in modules and "reductions.jl" in modules
    last_thm5 = max(k for k, m in enumerate(modules) if m == "reductions.thm5")
    first_jl = modules.index("reductions.jl")
    assert last_thm5 < first_jl


def test_all_claims_propagates_import_errors(monkeypatch):
    monkeypatch.setattr(reductions, "RESULT_MODULES", ("jl", "no_such_result_module"), raising=False)
    with pytest.raises(ImportError):
        certify.all_claims()


EXPECTED = {
    # reductions.jl
    "Theorem 20 tail bound": Status.VERIFIED_GRID,
    "Lemma 21 polarization": Status.PROVED,
    "Lemma 21 error bound": Status.PROVED,
    "Lemma 3 union bound (as printed)": Status.REFUTED,
    "Lemma 3 union bound (careful count, as printed)": Status.REFUTED,
    "Lemma 3 union bound (constant 4 kept)": Status.PROVED,
    "Lemma 3 at eps = 0.1": Status.PROVED,
    "Lemma 3 requirement monotone in eps": Status.PROVED,
    "lemma3_guaranteed_epsilon inverts the requirement": Status.VERIFIED_GRID,
    # reductions.thm5
    "H2 increasing and concave on [0, 1/2]": Status.PROVED,
    "Jensen step": Status.PROVED,
    "Fano for a binary variable": Status.VERIFIED_GRID,
    "max_accuracy matches the frontier": Status.VERIFIED_GRID,
    "Theorem 5 constant at success 2/3": Status.PROVED,
    "Frontier holds for every deterministic protocol (exhaustive)": Status.VERIFIED_GRID,
}


def test_jl_and_thm5_claims_have_the_expected_verdicts(monkeypatch):
    monkeypatch.setattr(reductions, "RESULT_MODULES", ("jl", "thm5"), raising=False)
    claims = [c for c in certify.all_claims() if c.module in ("reductions.jl", "reductions.thm5")]
    assert {c.name for c in claims} == set(EXPECTED)
    results = check_all(claims)
    got = {r.claim.name: r.verdict.status for r in results}
    assert got == EXPECTED, {r.claim.name: r.verdict.detail for r in results if got[r.claim.name] != EXPECTED[r.claim.name]}
    # every [sic] claim is refuted and not relied on; every relied-on claim holds
    for r in results:
        if r.verdict.status is Status.REFUTED:
            assert not r.claim.relied_on
        if r.claim.relied_on:
            assert r.verdict.status.holds
    assert exit_code(results) == 0
    printed = next(r for r in results if r.claim.name == "Lemma 3 union bound (as printed)")
    assert "4/n" in printed.verdict.detail and "1024" in printed.verdict.detail
