"""The proof checker: certificates re-check their goals, every failure mode fails, the manifest gates.

The mutation tests inject what a careless or hostile edit would: a check that raises, one that
raises ``SystemExit(0)``, a removed claim module, a refutation whose counterexample no longer
refutes, a weakened domain, a claim that declares its own success. Each must make
``barriers proofs`` exit non-zero.
"""

from __future__ import annotations

import json
import time

import pytest
import sympy as sp

import reductions
from reductions import certify
from reductions.certify import (
    Registry,
    Status,
    check_all,
    exit_code,
    manifest_differences,
    read_manifest,
    render_table,
    results_to_json,
    results_to_latex,
    verdict_of,
)
from reductions.tactics import (
    Cited,
    Counterexample,
    GridCheck,
    Identity,
    Implies,
    IntervalCheck,
    eps_in_open_half,
    eta_in_open_unit,
    gt,
    lt,
)

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
x, y = sp.symbols("x y", positive=True)
t = sp.Symbol("t", real=True)


# --- tactics: each closes what is true and refuses what is not ---------------------------


def test_identity_closes_a_true_identity_and_refuses_a_false_one():
    assert verdict_of(Identity((x + y) ** 2, x**2 + 2 * x * y + y**2)).status is Status.PROVED
    assert verdict_of(Identity((x + y) ** 2, x**2 + y**2)).status is Status.FAILED


def test_identity_respects_assumptions_instead_of_forcing():
    real = sp.Symbol("r", real=True)
    assert verdict_of(Identity(sp.sqrt(x**2), x)).status is Status.PROVED
    assert verdict_of(Identity(sp.sqrt(real**2), real)).status is Status.FAILED  # false for r < 0
    assert verdict_of(Identity(sp.log(real**2), 2 * sp.log(real))).status is Status.FAILED


def test_implies_uses_hypotheses_and_finds_counterexamples():
    assert verdict_of(Implies(x * y > 1, [x > 1, y > 1])).status is Status.PROVED
    failed = verdict_of(Implies(x > 2, [x > 1]))
    assert failed.status is Status.FAILED and "counterexample" in failed.detail


def test_weakened_domain_fails():
    """ε in (0, 1/2) encoded by substitution: the claim 1 - 2ε > 0 holds; on (0, 1) it does not."""
    s, eps = eps_in_open_half()
    assert verdict_of(Implies(gt(1 - 2 * eps, 0))).status is Status.PROVED
    wide = sp.Symbol("w", positive=True)
    eps_wide = 1 / (1 + wide)  # covers (0, 1): the weakened domain
    assert verdict_of(Implies(gt(1 - 2 * eps_wide, 0))).status is Status.FAILED
    u, eta = eta_in_open_unit()
    assert verdict_of(Implies(sp.And(gt(eta, 0), lt(eta, 1)))).status is Status.PROVED


def test_cited_steps_lower_the_status_and_are_listed():
    verdict = verdict_of([Identity(x + x, 2 * x), Cited("Chernoff's median bound", "textbook")])
    assert verdict.status is Status.CITES
    assert any("Chernoff" in c for c in verdict.cites)


def test_interval_check_is_rigorous_on_a_box():
    assert verdict_of(IntervalCheck(sp.exp(t) > t, {t: (-3, 3)})).status is Status.INTERVAL
    assert verdict_of(IntervalCheck(sp.exp(t) > 2 * t + 1, {t: (0, 3)})).status is Status.FAILED


def test_grid_check_and_empty_grid():
    assert verdict_of(GridCheck(sp.exp(t) >= 1 + t, [{t: 0}, {t: 1}])).status is Status.GRID
    assert verdict_of(GridCheck(sp.exp(t) >= 1 + t, [])).status is Status.FAILED


def test_counterexample_is_reevaluated():
    assert verdict_of(Counterexample(2 * t >= t**2, {t: 3})).status is Status.REFUTED
    assert verdict_of(Counterexample(2 * t >= t**2, {t: 1})).status is Status.FAILED


def test_refuted_and_established_cannot_mix():
    assert verdict_of([Counterexample(2 * t >= t**2, {t: 3}), Identity(x, x)]).status is Status.FAILED


def test_a_check_cannot_declare_its_own_success():
    assert verdict_of("proved").status is Status.FAILED
    assert verdict_of([]).status is Status.FAILED
    assert verdict_of(Implies(sp.true)).status is Status.FAILED  # a goal decided at construction


def test_statement_is_generated_from_the_goal():
    verdict = verdict_of(Implies(x * y > 1, [x > 1, y > 1]))
    assert verdict.goals == ("(x > 1 and y > 1) => x*y > 1 for x > 0, y > 0",)


# --- the runner: isolated, time-limited, every failure mode is `failed` -------------------


def _registry(**checks) -> Registry:
    registry = Registry()
    for name, (check, relied_on, timeout) in checks.items():
        registry.claim(name=name, source="test", statement=name, relied_on=relied_on, timeout=timeout)(check)
    return registry


def _raises():
    raise ValueError("broken")


def _exits_zero():
    raise SystemExit(0)


def _sleeps():
    time.sleep(30)


def _proves():
    return Identity(x + x, 2 * x)


def _refutes():
    return Counterexample(2 * t >= t**2, {t: 3})


def _no_longer_refutes():
    return Counterexample(2 * t >= t**2, {t: 1})


@pytest.mark.parametrize(
    "check, timeout, message",
    [(_raises, 30, "ValueError"), (_exits_zero, 30, "SystemExit"), (_sleeps, 1, "time limit"),
     (_no_longer_refutes, 30, "evaluates to True")],
)
def test_mutations_fail_and_make_the_exit_code_nonzero(check, timeout, message):
    registry = _registry(good=(_proves, True, 30), mutated=(check, False, timeout))
    results = check_all(registry.claims())
    assert [r.verdict.status for r in results] == [Status.PROVED, Status.FAILED]
    assert message in results[1].verdict.detail
    expected = [{"name": r.claim.name, "source": "test", "module": r.claim.module, "relied_on": r.claim.relied_on,
                 "status": "proved" if r.claim.name == "good" else "refuted"} for r in results]
    assert exit_code(results, expected) == 1


def test_manifest_catches_added_removed_and_changed_claims():
    registry = _registry(good=(_proves, True, 30), sic=(_refutes, False, 30))
    results = check_all(registry.claims())
    expected = [{"name": r.claim.name, "source": "test", "module": r.claim.module, "relied_on": r.claim.relied_on,
                 "status": r.verdict.status.value} for r in results]
    assert exit_code(results, expected) == 0
    assert exit_code(results[:1], expected) == 1  # a claim removed
    assert exit_code(results, expected[:1]) == 1  # a claim added
    changed = [dict(expected[0]), {**expected[1], "status": "proved"}]
    assert any("status" in p for p in manifest_differences(results, changed))
    assert exit_code(results, [{**expected[0], "relied_on": False}, expected[1]]) == 1


def test_relied_on_claim_that_is_refuted_fails_even_if_the_manifest_agrees():
    registry = _registry(bad=(_refutes, True, 30))
    results = check_all(registry.claims())
    expected = [{"name": "bad", "source": "test", "module": results[0].claim.module, "relied_on": True,
                 "status": "refuted"}]
    assert exit_code(results, expected) == 1


def test_removed_result_module_fails_the_real_manifest(monkeypatch):
    """Dropping a module from RESULT_MODULES drops its claims: the committed manifest notices."""
    claims = certify.all_claims()
    dropped = "reductions.thm8"
    kept = [c for c in claims if c.module != dropped]
    assert len(kept) < len(claims)
    fake = [certify.ClaimResult(c, certify.Verdict(Status.PROVED, (), (), (), ""), 0.0) for c in kept]
    problems = manifest_differences(fake)
    assert any("missing from this run" in p and dropped in p for p in problems)


# --- the real claims -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def all_results():
    return check_all()


def test_barriers_proofs_matches_the_committed_manifest(all_results):
    assert read_manifest(), "reductions/claims.json is missing"
    assert certify.problems(all_results) == []


def test_every_sic_claim_is_refuted_and_not_relied_on(all_results):
    for result in all_results:
        if result.verdict.status is Status.REFUTED:
            assert not result.claim.relied_on, result.claim.name


def test_no_force_true_in_certificates():
    import pathlib
    import re

    root = pathlib.Path(reductions.__file__).parent
    offenders = [p.name for p in root.glob("*.py") if re.search(r"force\s*=\s*True\s*[,)]", p.read_text())]
    assert offenders == []


def test_outputs_fit_a_page(all_results):
    table = render_table(all_results)
    assert max(len(line) for line in table.splitlines()) <= 100
    payload = json.loads(results_to_json(all_results))
    assert payload["exit_code"] == 0 and len(payload["claims"]) == len(all_results)
    assert all(c["goals"] for c in payload["claims"])
    latex = results_to_latex(all_results)
    assert latex.count("\\\\") == len(all_results) + 1 and "\\begin{longtable}" in latex


def test_barriers_proofs_exits_nonzero_when_a_result_module_is_dropped(tmp_path):
    """The whole command, in a fresh process whose RESULT_MODULES lacks `knn` (imported by no other module)."""
    import subprocess
    import sys

    script = (
        "import sys, reductions\n"
        "reductions.RESULT_MODULES = tuple(m for m in reductions.RESULT_MODULES if m != 'knn')\n"
        "from barriers.cli import main\n"
        "sys.exit(main(['proofs']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1
    assert "missing from this run" in done.stderr and "reductions.knn" in done.stderr
