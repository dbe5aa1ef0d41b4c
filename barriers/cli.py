"""``barriers``: list experiments, run them, report their results, check the proof certificates.

A user mistake (bad name, out-of-range parameter, a cache that breaks the contract) prints one
line ``barriers: error: ...`` and exits with status 2; no traceback, no results directory. A
scored point above the Fano frontier (information reached Bob outside the message,
:mod:`protocols.guard`) prints one such line too and exits with status 3, also writing nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from caches.params import ParameterError, check_int
from caches.paramtypes import parse_value
from protocols.guard import InformationLeak

EXIT_USAGE = 2
#: A scored point beat the Fano frontier (:class:`protocols.guard.InformationLeak`).
EXIT_LEAK = 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: same one-line form, same exit code
        raise ParameterError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="barriers", description="Executable lower bounds for KV-cache compression.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="list the experiments and their make targets")
    run = commands.add_parser("run", help="run an experiment and write its results and figure", add_help=False)
    run.add_argument("-h", "--help", action=_RunHelpAction,
                     help="show this help; after an EXPERIMENT, also its parameters and the --cache classes' arguments")
    run.add_argument("experiment", help="experiment name (see `barriers list`), or `all` for every one")
    run.add_argument("--preset", default="quick", help="quick (default, minutes), paper (figure quality) or scale (budget only: n = 131,072)")
    run.add_argument("--seed", default="0", help="seed of every random draw (integer >= 0, default 0)")
    run.add_argument("--out", default="results", help="results directory (default: results)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override one preset parameter; VALUE is JSON (e.g. --set n=2048 --set etas=[0.1,0.3])")
    run.add_argument("--cache", action=_CacheAction, dest="caches", metavar="MODULE:CLASS",
                     help="also play this importable StreamingAttention class beside the zoo (budget; repeatable)")
    run.add_argument("--cache-arg", action=_CacheArgAction, dest="caches", metavar="NAME=VALUE",
                     help="a parameter of the preceding --cache; VALUE is JSON, else a string")
    run.add_argument("--only", action="store_true",
                     help="play only the --cache plug-ins (and --kvpress presses), not the zoo (budget)")
    run.add_argument("--kvpress", action="store_true",
                     help="also play every runnable kvpress press at several compression ratios (budget; extra kvpress)")
    run.add_argument("--workers", default=None, metavar="N",
                     help="run the units on a local Dask cluster of N worker processes (default: none, in this process)")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="run the units on the workers of the Dask scheduler at ADDRESS (e.g. tcp://host:8786)")
    run.add_argument("--fresh", action="store_true",
                     help="discard the trial store of an earlier run of this experiment under --out and start over")
    report = commands.add_parser("report", help="write results.md: one row per experiment in a results directory")
    report.add_argument("--results", default="results", help="results directory to read (default: results)")
    report.add_argument("--out", help="directory for results.md (default: the results directory)")
    report.add_argument("--readme", action="store_true",
                        help="also replace README.md's block between <!-- results-table --> markers")
    proofs = commands.add_parser("proofs", help="check every proof certificate")
    proofs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    proofs.add_argument("--latex", metavar="FILE", help="also write a LaTeX table (claim, source, status, engine)")
    proofs.add_argument("--update-manifest", action="store_true",
                        help="record the current claims and statuses in reductions/claims.json (review the diff)")
    return parser


class _RunHelpAction(argparse.Action):
    """``barriers run EXPERIMENT --help``: the usage, then (printed by :func:`main` once every argument
    is parsed, so that ``--cache`` given after ``--help`` counts too) the experiment's parameters and
    the arguments of the ``--cache`` classes. Before an experiment name it is argparse's plain help."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, "experiment", None) is None:
            parser.print_help()
            parser.exit()
        namespace.help_text = parser.format_help()


def run_help(args) -> str:
    """The usage, the experiment's parameters (name, type, quick-preset default, allowed values,
    meaning) and the cache arguments."""
    from barriers.experiments import EXPERIMENTS, get_experiment

    lines = [args.help_text.rstrip()]
    experiments = list(EXPERIMENTS.values()) if args.experiment == "all" else [get_experiment(args.experiment)]
    for experiment in experiments:
        preset = experiment.presets.get("quick") or next(iter(experiment.presets.values()))
        lines += ["", f"{experiment.name} ({experiment.result}): {experiment.description}",
                  f"parameters (--set KEY=VALUE, JSON; default: the quick preset; presets: {', '.join(experiment.presets)}):"]
        lines += _columns([(row["name"], row["type"], row["default"], row["allowed"] or "-", row["doc"])
                           for row in preset.parameters()])
        lines.append("  (every value is checked against its type and allowed values before any work)")
    for spec in getattr(args, "caches", None) or []:
        lines += ["", *cache_help(spec["class"])]
    return "\n".join(lines)


def cache_help(path: str) -> list[str]:
    """``--cache-arg`` lines of a cache class: its dataclass fields with their types and defaults."""
    import dataclasses
    import typing

    from caches.paramtypes import describe_annotation, shown
    from caches.spec import load_class

    cls = load_class(path)
    if not dataclasses.is_dataclass(cls):
        return [f"{path}: not a @dataclass, so it has no declared parameters"]
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an annotation only importable under TYPE_CHECKING
        hints = {}
    rows = []
    for item in dataclasses.fields(cls):
        if not item.init:
            continue
        if item.default is not dataclasses.MISSING:
            default = shown(item.default)
        elif item.default_factory is not dataclasses.MISSING:
            default = shown(item.default_factory())
        else:
            default = "(required)"
        annotation = hints.get(item.name)
        rows.append((item.name, describe_annotation(annotation) if annotation is not None else "any value", default))
    return [f"cache arguments of {path} (--cache-arg NAME=VALUE, JSON else a string):", *_columns(rows)]


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    """Aligned columns; the last one is left ragged."""
    if not rows:
        return []
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]) - 1)]
    return ["  " + "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]).rstrip() for row in rows]


class _CacheAction(argparse.Action):
    """``--cache MODULE:CLASS`` starts a plug-in cache spec."""

    def __call__(self, parser, namespace, value, option_string=None):
        specs = list(getattr(namespace, self.dest, None) or [])
        specs.append({"class": value, "params": {}})
        setattr(namespace, self.dest, specs)


class _CacheArgAction(argparse.Action):
    """``--cache-arg NAME=VALUE`` adds a parameter to the most recent ``--cache``."""

    def __call__(self, parser, namespace, value, option_string=None):
        specs = list(getattr(namespace, self.dest, None) or [])
        if not specs:
            raise ParameterError(f"--cache-arg {value!r} must follow a --cache MODULE:CLASS")
        name, sep, raw = value.partition("=")
        if not sep or not name:
            raise ParameterError(f"--cache-arg takes NAME=VALUE, got {value!r}")
        specs[-1]["params"][name] = parse_value(raw)  # checked against the field's annotation later
        setattr(namespace, self.dest, specs)


def parse_overrides(items: list[str]) -> dict:
    """``--set KEY=VALUE`` items as a dict of JSON values.

    Text that is not JSON is kept as a :class:`caches.paramtypes.BareWord`: the experiment accepts
    it only for a string parameter (a codebook name) and reports malformed JSON anywhere else.
    """
    overrides = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"--set takes KEY=VALUE, got {item!r}")
        overrides[key] = parse_value(raw)
    return overrides


def plugin_overrides(caches: list[dict] | None) -> dict:
    """``--cache`` specs as the ``caches`` override; modules in the working directory become importable.

    The working directory is put on ``sys.path`` (as ``python -m`` does); Bob's spawned process
    inherits ``sys.path``, so he imports the same module.
    """
    if not caches:
        return {}
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return {"caches": caches}


def command_list() -> int:
    from barriers.experiments import EXPERIMENTS

    rows = [("experiment", "result", "make target", "description")]
    rows += [(e.name, e.result, f"make {e.make_target}", e.description) for e in EXPERIMENTS.values()]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0


def check_out(out: Path, names: list[str]) -> None:
    """Fail before any work when the results could not be written under ``--out``.

    ``out`` must be a directory or not exist yet; its nearest existing ancestor must be a
    directory in which a file can be created (a probe file is created and removed; nothing is
    left behind, ``out`` itself is not created). ``out/NAME`` must not be a file.
    """
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out must be a directory, got the file {str(out)!r}")
    existing = out.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ParameterError(f"--out must be a directory, got {str(out)!r} below the file {str(existing)!r}")
    for name in names:
        if (out / name).exists() and not (out / name).is_dir():
            raise ParameterError(f"--out {str(out)!r} holds a file {name!r} where the results directory goes")
    try:
        handle, probe = tempfile.mkstemp(prefix=".barriers-probe-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ParameterError(
            f"--out must be a writable directory, but no file can be created in {str(existing)!r}: {error.strerror}"
        ) from None


def command_run(args) -> int:
    import barriers.experiments

    seed = check_int("--seed", _as_int(args.seed, "--seed"), 0, 2**63 - 1)
    overrides = parse_overrides(args.set)
    plugins = plugin_overrides(args.caches)
    if plugins and args.experiment == "all":
        raise ParameterError("--cache cannot be combined with `run all`: name the experiment (budget)")
    if plugins and "caches" in overrides:
        raise ParameterError("give plug-in caches either with --cache or with --set caches=..., not both")
    overrides.update(plugins)
    for flag in ("only", "kvpress"):  # budget's switches, recorded in its config like --set flag=true
        if getattr(args, flag, False):
            if args.experiment == "all" or flag in overrides:
                raise ParameterError(f"--{flag} needs one experiment (budget) and no --set {flag}=...")
            overrides[flag] = True
    if args.experiment == "all":
        if overrides:
            raise ParameterError("--set cannot be combined with `run all`: parameters differ between experiments")
        experiments = list(barriers.experiments.EXPERIMENTS.values())
    else:
        experiments = [barriers.experiments.get_experiment(args.experiment)]
    workers = None if args.workers is None else check_int("--workers", _as_int(args.workers, "--workers"), 1, 512)
    if workers is not None and args.scheduler:
        raise ParameterError("give either --workers N (a local cluster) or --scheduler ADDRESS, not both")
    configs = [experiment.config(args.preset, overrides) for experiment in experiments]
    check_out(Path(args.out), [experiment.name for experiment in experiments])
    from protocols.runner import check_sweep

    sweeps = [check_sweep(experiment.name, experiment.sweep(config, seed)) for experiment, config in zip(experiments, configs)]
    out = Path(args.out)
    pending = [units_to_measure(experiment, config, units, seed, out, args.fresh)
               for experiment, config, units in zip(experiments, configs, sweeps)]
    work = any(todo is not None for todo in pending)
    with preloaded(experiments, configs), executor(workers if work else None, args.scheduler if work else None) as cluster:
        if cluster is not None:
            for experiment, config, todo in zip(experiments, configs, pending):
                if todo:
                    cluster.submit(experiment, config, todo, seed)
        for experiment, config, units, todo in zip(experiments, configs, sweeps, pending):
            if todo is None:
                print(f"{out / experiment.name}/ is up to date: every unit is in its trial store and the files "
                      "written from them are unchanged (--fresh runs it again)")
                continue
            run_one(experiment, config, units, args.preset, seed, out, cluster, args.fresh)
    return 0


def units_to_measure(experiment, config: dict, units: list[dict], seed: int, out: Path, fresh: bool) -> list[dict] | None:
    """The ``units`` of ``experiment`` that its trial store does not hold yet; ``None`` when it holds
    them all and the files written from them are there, unchanged (nothing to do)."""
    from protocols.runner import unit_key
    from protocols.store import TrialStore, store_path

    if fresh:
        return units
    with TrialStore(store_path(out, experiment.name, config, seed), experiment.name, config, seed) as store:
        kept = store.keys()
        missing = [unit for unit in units if unit_key(unit) not in kept]
        return None if not missing and store.outputs_current(out / experiment.name) else missing


@contextlib.contextmanager
def executor(workers: int | None, scheduler: str | None):
    """The Dask cluster the units run on (:class:`protocols.cluster.Cluster`), or None: this process."""
    if workers is None and not scheduler:
        yield None
        return
    from protocols.cluster import Cluster

    with Cluster(workers, scheduler) as cluster:
        yield cluster




@contextlib.contextmanager
def preloaded(experiments: list, configs: list[dict]):
    """Let the players' fork server import once what the plug-in caches declare in ``PRELOAD``
    (torch and transformers for ``caches.hf``, kvpress for ``caches.kvpress``) and the result
    modules of the experiments (a player rebuilding an adversary that carries its reduction
    imports them, sympy included), instead of every player importing them again
    (:data:`protocols.sandbox.PRELOAD_VARIABLE`).

    Only caches of the suite's own ``caches`` package are honoured: what the fork server imports is
    inherited by every player, so a plug-in's module there could, for instance, map shared memory
    that Alice writes and Bob reads. A plug-in's modules are imported by each player instead."""
    from caches.spec import load_class
    from protocols.sandbox import PRELOAD_VARIABLE

    modules: list[str] = []
    for experiment in experiments:
        if experiment.uses_game and experiment.summarize.__module__ not in modules:
            modules.append(experiment.summarize.__module__)  # the suite's own code
    for config in configs:
        paths = [spec["class"] for spec in config.get("caches") or [] if isinstance(spec, dict)]
        paths += ["caches.kvpress:PressCache"] if config.get("kvpress") else []
        for path in paths:
            if not path.startswith("caches."):
                continue  # only the suite's own caches: code imported into the fork server reaches every player
            modules += [m for m in getattr(load_class(path), "PRELOAD", ()) if m not in modules]
    before = os.environ.get(PRELOAD_VARIABLE)
    if modules:
        os.environ[PRELOAD_VARIABLE] = ",".join(modules)
    try:
        yield
    finally:
        if modules and before is None:
            os.environ.pop(PRELOAD_VARIABLE, None)
        elif modules:
            os.environ[PRELOAD_VARIABLE] = before


def run_one(experiment, config: dict, units: list[dict], preset: str, seed: int, out: Path, cluster=None,
            fresh: bool = False) -> None:
    """Run one experiment's ``units`` (its sweep; both players sandboxed when it plays the game) and
    write its results.

    Every finished unit is kept in the trial store under ``out`` (:mod:`protocols.store`), so the
    same command run again after an interruption resumes; ``fresh`` discards it first, and so does
    a run that fails with an error. Units run on ``cluster``'s
    workers when given. Results are written only after the run: a contract breach or an
    :class:`InformationLeak` raised during it leaves no results directory.
    """
    from tqdm import tqdm

    from barriers.results import provenance, write_results
    from caches.spec import load_object
    from protocols.game import InProcessPlayers
    from protocols.runner import run_sweep
    from protocols.sandbox import SandboxedPlayers
    from protocols.store import TrialStore, store_path

    players = SandboxedPlayers() if experiment.uses_game else InProcessPlayers()
    store = TrialStore(store_path(out, experiment.name, config, seed), experiment.name, config, seed, fresh=fresh)
    try:
        with store, players, tqdm(total=len(units), desc=experiment.name, unit="unit", disable=None,
                                  file=sys.stderr) as bar:
            result = run_sweep(experiment, config, seed, players, bar.update, store=store, cluster=cluster,
                               units=units)
    except Exception:  # a breach or a leak: nothing is left; an interrupted run keeps its finished units
        store.discard()
        raise
    figure = load_object(experiment.figure)(result["summary"])
    if not experiment.uses_game:
        sandbox = "no game played"
    else:
        sandbox = cluster.sandbox(True) if cluster is not None else players.sandbox
    info = provenance(experiment.name, preset, seed, config, sandbox=sandbox)
    directory = write_results(out, experiment.name, result["summary"], result["trials"], info, figure)
    with TrialStore(store_path(out, experiment.name, config, seed), experiment.name, config, seed) as store:
        store.record_outputs(directory)
    print(f"wrote {directory}/: summary.json trials.csv config.json {experiment.name}.pdf {experiment.name}.png")


def command_proofs(args) -> int:
    """Check every certificate; non-zero on a failure, an unsupported relied-on claim or manifest drift."""
    from reductions.certify import check_all, problems, render_table, results_to_json, results_to_latex, write_manifest

    if args.latex:
        _check_writable_file(Path(args.latex), "--latex")
    results = check_all()
    if args.update_manifest:
        try:
            write_manifest(results)
        except ValueError as error:
            raise ParameterError(str(error)) from None
        print(f"barriers: recorded {len(results)} claims in reductions/claims.json", file=sys.stderr)
    if args.latex:
        Path(args.latex).write_text(results_to_latex(results))
    found = problems(results)
    if args.json:
        print(results_to_json(results))
    else:
        print(render_table(results))
        for problem in found:
            print(f"barriers: proofs: {problem}", file=sys.stderr)
    return int(bool(found))


def _check_writable_file(path: Path, name: str) -> None:
    if path.is_dir() or not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise ParameterError(f"{name} must name a writable file in an existing directory, got {str(path)!r}")


def _as_int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ParameterError(f"{name} must be an integer >= 0, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return command_list()
        if args.command == "run" and hasattr(args, "help_text"):
            print(run_help(args))
            return 0
        if args.command == "run":
            return command_run(args)
        if args.command == "report":
            from barriers.report import command_report

            return command_report(args)
        return command_proofs(args)
    except ParameterError as error:
        print(f"barriers: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except InformationLeak as error:
        print(f"barriers: error: {error}", file=sys.stderr)
        return EXIT_LEAK
    except KeyboardInterrupt:
        print("barriers: interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """Entry point of the ``barriers`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    console()
