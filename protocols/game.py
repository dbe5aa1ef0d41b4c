"""The one-way game: Alice streams, her message is the cache's bytes, Bob decodes (HO Theorem 5).

The public parts of the game are the suite's own code and run in the caller's process: Alice's
stream from her bits (``reduction.alice_stream``), Bob's queries and his decision rule
(``reduction.bob_queries``, ``reduction.decode``). Everything the *cache* does runs in a player:
:func:`alice_plays` (build the cache from its frozen public parameters, stream, ``to_bytes``) and
:func:`bob_probes` (``from_bytes`` on the message alone, ``probe``). A *players* object runs them
and offers ``alice(reduction, cache, x) -> bytes`` and ``bob(request) -> decoded rows``:
:class:`protocols.sandbox.SandboxedPlayers` runs every call in a fresh sandboxed process (the
command line and the tests use it); :class:`InProcessPlayers` runs them in the caller's process,
for tests of the harness itself only.

Three rules make the message the only channel the Fano frontier has to account for: the message
is converted once to plain ``bytes`` (memory is ``8 * len`` of exactly what Bob receives); the
public parameters are plain data frozen before Alice plays (:func:`frozen_spec`), Bob builds from
that copy, and a parameter Alice's cache changes during the stream is a breach; and :func:`score`,
the one way to score Bob's rows, stops the run when a point beats the frontier
(:mod:`protocols.guard`).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from caches.params import ParameterError, check_int
from caches.spec import build, load_class, object_spec, spec_params
from protocols.fano import max_accuracy
from protocols.guard import check_point
from protocols.index import random_instance
from protocols.reduction import Reduction
from protocols.stats import wilson_interval

#: Bob probes this many rows at a time, bounding memory for large n.
PROBE_ROWS = 1024

#: Alice's cache takes its stream in ``extend`` calls of at most this many tokens (:func:`alice_plays`).
ALICE_CHUNK = 4096

#: The third entropy word of a trial's row sample, ``default_rng([seed, trial, ROWS_TAG])``: a
#: generator of its own, so sampling Bob's rows leaves the trial's instance and public seed
#: (``default_rng([seed, trial])``, :func:`trial_input`) untouched.
ROWS_TAG = 0x524F5753  # "ROWS"


#: The cache methods a breach is blamed on ("MyCache.step raised ValueError: ...").
CACHE_METHODS = ("step", "extend", "probe", "to_bytes", "from_bytes")


class CacheContractError(ParameterError):
    """A cache broke the contract: one of its methods raised, ``to_bytes`` returned no bytes, a
    public parameter is not plain data or changed during the stream, an output has a wrong shape
    or is not finite, or a player's process died or ran out of time."""


@dataclasses.dataclass(frozen=True)
class BobRequest:
    """Everything Bob gets: the cache's class and public parameters, the message, the public reduction."""

    cache: dict
    message: bytes
    reduction: dict
    rows: tuple[int, ...]


# --- public parameters: plain data, frozen before Alice plays ---------------------------------


def frozen_spec(cache) -> dict:
    """A private plain-data copy of the spec of ``cache`` (an object or a spec dict).

    Parameters must be JSON values (None, bool, int, float, str, lists, dicts with str keys) or
    nested specs of dataclass parameters (:func:`caches.spec.object_spec`); numpy scalars become
    Python numbers and tuples lists. Anything else is a :class:`CacheContractError` naming the
    field. The copy shares nothing with ``cache``, so what a player later does to its own cache
    cannot reach it.
    """
    spec = cache if isinstance(cache, dict) else object_spec(cache)
    return json.loads(json.dumps(_plain_spec(spec)))


def spec_label(spec: dict) -> str:
    """The class name a spec describes (for messages)."""
    return str(spec["class"]).rpartition(":")[2]


def _plain_spec(spec: dict) -> dict:
    owner = spec_label(spec)
    return {"class": str(spec["class"]),
            "params": {str(name): _plain(value, f"{owner}.{name}") for name, value in spec["params"].items()}}


def _plain(value, where: str):
    if isinstance(value, dict) and set(value) == {"spec"} and isinstance(value["spec"], dict):
        return {"spec": _plain_spec(value["spec"])}
    if value is None or isinstance(value, str):
        return None if value is None else str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{k}]") for k, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {str(key): _plain(item, f"{where}.{key}") for key, item in value.items()}
    raise CacheContractError(
        f"public parameter {where} must be plain data (None, bool, int, float, str, lists, dicts with "
        f"str keys, or a nested cache), got {type(value).__name__}"
    )


def _changed_parameter(before: dict, after: dict) -> str:
    """The first parameter of ``before`` whose value differs in ``after``."""
    for name in sorted(set(before["params"]) | set(after["params"])):
        if before["params"].get(name) != after["params"].get(name):
            return f"{spec_label(before)}.{name}"
    return spec_label(before)


# --- the players' work, in whatever process runs it -------------------------------------------


def _breach(error: BaseException, holder, method: str) -> CacheContractError:
    """``"Class.method raised Type: message"``, blaming the innermost cache method on the traceback
    (``extend`` calling ``step`` that raises blames ``step``; a wrapper's inner cache is named)."""
    blamed = f"{holder.__name__ if isinstance(holder, type) else type(holder).__name__}.{method}"
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_name in CACHE_METHODS:
            owner = frame.f_locals.get("self", frame.f_locals.get("cls"))
            owner_class = owner if isinstance(owner, type) else type(owner)
            if owner is not None and hasattr(owner_class, "to_bytes") and hasattr(owner_class, "from_bytes"):
                blamed = f"{owner_class.__name__}.{frame.f_code.co_name}"
        trace = trace.tb_next
    text = " ".join(str(error).split())
    detail = f": {text[:500]}" if text else ""
    return CacheContractError(f"{blamed} raised {type(error).__name__}{detail}")


def _contract_call(holder, method: str, function, /, *args, **kwargs):
    """``function(*args, **kwargs)``; any exception becomes a :class:`CacheContractError` naming the method."""
    try:
        return function(*args, **kwargs)
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as error:  # noqa: BLE001 - a cache's failure, whatever it is, is a breach
        raise _breach(error, holder, method) from None


def alice_plays(cache_spec: dict, stream: tuple) -> bytes:
    """Alice's cache at work: build it from the frozen parameters, feed the stream, serialize.

    The message is converted once to exactly ``bytes`` through the buffer protocol (a subclass
    cannot fake its length). A public parameter that differs after the stream from right after
    construction is a :class:`CacheContractError` (Bob would not see it anyway: he builds from
    the frozen copy).
    """
    cache_class = load_class(cache_spec["class"])
    player = _contract_call(cache_class, "__init__", build, cache_spec)
    before = frozen_spec(player)
    for chunk in stream_chunks(stream):
        _contract_call(player, "extend", player.extend, *chunk)
    message = _contract_call(player, "to_bytes", player.to_bytes)
    if not isinstance(message, (bytes, bytearray)):
        raise CacheContractError(f"{cache_class.__name__}.to_bytes() must return bytes, got {type(message).__name__}")
    message = bytes(memoryview(message))
    try:
        after = frozen_spec(player)
    except CacheContractError as error:
        raise CacheContractError(f"a public parameter changed during the stream: {error}") from None
    if after != before:
        raise CacheContractError(f"public parameter {_changed_parameter(before, after)} changed during the stream")
    return message


def stream_chunks(stream: tuple, size: int | None = None):
    """``stream`` as consecutive slices of at most ``size`` (default :data:`ALICE_CHUNK`) tokens each.

    Every component is sliced along its first axis, so the cache never has to take the whole
    stream in one call; a cache whose state depends only on the tokens in order (``extend`` equal
    to stepping) ends with the same message. A stream whose components differ in length, or that
    fits one chunk, is fed whole, as one call.
    """
    size = ALICE_CHUNK if size is None else size
    lengths = {np.shape(part)[0] if np.ndim(part) else -1 for part in stream}
    if len(lengths) != 1 or min(lengths) <= size:
        yield stream
        return
    total = lengths.pop()
    for start in range(0, total, size):
        yield tuple(part[start : start + size] for part in stream)


def bob_probes(cache_spec: dict, message: bytes, queries: list[tuple]) -> list[np.ndarray]:
    """Bob's cache at work: rebuild it from the message and the frozen parameters, probe each batch."""
    cache_class = load_class(cache_spec["class"])
    params = spec_params(cache_spec)
    cache = _contract_call(cache_class, "from_bytes", cache_class.from_bytes, message, **params)
    return [
        _contract_call(cache, "probe", lambda batch=batch: np.asarray(cache.probe(*batch), dtype=np.float64))
        for batch in queries
    ]


def bob_plan(request: BobRequest) -> tuple[Reduction, list[np.ndarray], list[tuple]]:
    """The public side of Bob's work before the cache: the reduction, row batches, their queries."""
    reduction = build(request.reduction)
    rows = np.asarray(request.rows, dtype=np.int64)
    chunks = [rows[start : start + PROBE_ROWS] for start in range(0, rows.size, PROBE_ROWS)]
    queries = [tuple(np.asarray(part) for part in reduction.bob_queries(chunk)) for chunk in chunks]
    return reduction, chunks, queries


def bob_decides(request: BobRequest, reduction: Reduction, chunks: list[np.ndarray], outputs: list) -> np.ndarray:
    """The public side of Bob's work after the cache: check each batch's outputs, decode them."""
    name = spec_label(request.cache)
    cols = reduction.shape[1]
    decoded = np.empty((len(request.rows), cols), dtype=np.uint8)
    if len(outputs) != len(chunks):
        raise CacheContractError(f"{name}: Bob's player returned {len(outputs)} batches, expected {len(chunks)}")
    start = 0
    for chunk, batch in zip(chunks, outputs):
        if batch.shape != (chunk.size, cols):
            raise CacheContractError(f"{name}.probe returned shape {batch.shape}, expected {(chunk.size, cols)}")
        if not np.all(np.isfinite(batch)):
            raise CacheContractError(f"{name}.probe returned non-finite values")
        decoded[start : start + chunk.size] = reduction.decode(batch, chunk)
        start += chunk.size
    return decoded


class InProcessPlayers:
    """Both players in the caller's process, for tests of the harness itself.

    It cannot stop a cheat: module globals, files, environment variables and child processes all
    reach Bob here. Games that count use :class:`protocols.sandbox.SandboxedPlayers`.
    """

    isolated = False
    sandbox = "none (in-process players)"

    def alice(self, reduction: Reduction, cache, x: np.ndarray) -> bytes:
        return alice_plays(frozen_spec(cache), tuple(np.asarray(part) for part in reduction.alice_stream(x)))

    def bob(self, request: BobRequest) -> np.ndarray:
        reduction, chunks, queries = bob_plan(request)
        outputs = bob_probes(frozen_spec(request.cache), request.message, queries)
        return bob_decides(request, reduction, chunks, outputs)

    def __enter__(self) -> "InProcessPlayers":
        return self

    def __exit__(self, *exc) -> None:
        return None


@dataclasses.dataclass(frozen=True)
class Score:
    """Bob's decoding of some rows from one message: bits right, bits asked, the message's size."""

    correct: int
    total: int
    memory_bits: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total


def score(players, reduction: Reduction, cache, message: bytes, x: np.ndarray, rows=None) -> Score:
    """Bob decodes ``rows`` (default: all) of ``x`` from ``message``; the Fano guard checks the result.

    ``cache`` (an object or a spec) is what Bob rebuilds from the message: Alice's cache, or a
    cache reading the same message differently (HO Theorem 8's worst ``(1±η)`` approximation of
    it). Its public parameters are frozen here. Every experiment scores Bob's bits through this
    function, so every scored call is checked against HO Theorem 5's frontier
    (:func:`protocols.guard.check_point`, which raises :class:`protocols.guard.InformationLeak`).
    """
    spec = frozen_spec(cache)
    rows = tuple(range(reduction.shape[0])) if rows is None else tuple(int(r) for r in rows)
    decoded = players.bob(BobRequest(spec, message, object_spec(reduction), rows))
    truth = np.asarray(x)[list(rows)]
    correct = int(np.count_nonzero(decoded == truth))
    memory_bits = 8 * len(message)
    units, units_right, unit = truth.size, correct, "bits"
    if len(rows) < reduction.shape[0]:  # sampled rows: the rows are the independent units (interval_units)
        units, units_right, unit = len(rows), round(len(rows) * correct / truth.size), "sampled rows"
    check_point(repr(cache) if not isinstance(cache, dict) else spec_label(spec), memory_bits, truth.size,
                units_right, units, unit)
    return Score(correct, int(truth.size), memory_bits)


@dataclasses.dataclass(frozen=True)
class TrialOutcome:
    """One game: the message size, the bits Alice encoded, how many Bob was asked and got right."""

    trial: int
    public_seed: int
    memory_bits: int
    bits_encoded: int
    correct: int
    bits_decoded: int
    rows_decoded: int


def trial_input(reduction: Reduction, seed: int, trial: int) -> tuple[Reduction, np.ndarray]:
    """The public randomness and Alice's bits of one trial, from ``default_rng([seed, trial])``.

    The same (seed, trial) gives every cache the same instance, so caches are compared paired.
    """
    rng = np.random.default_rng([seed, trial])
    x = random_instance(rng, *reduction.shape)
    return reduction.with_public_seed(int(rng.integers(2**31))), x


def check_rows(rows, n: int) -> int | None:
    """``rows`` as given to :func:`play`: None (all ``n`` rows) or an integer in ``[1, n]``."""
    return None if rows is None else check_int("rows", rows, 1, n)


def trial_rows(n: int, rows: int | None, seed: int, trial: int) -> np.ndarray | None:
    """The rows Bob decodes in one trial: None (all), or ``rows`` distinct rows, uniform and sorted.

    Drawn from the trial's public randomness ``default_rng([seed, trial, ROWS_TAG])``, a generator
    separate from :func:`trial_input`'s, so the instance and the public seed are the same as
    with all rows, and the sample is the same for every cache (paired comparisons).
    """
    rows = check_rows(rows, n)
    if rows is None:
        return None
    rng = np.random.default_rng([seed, trial, ROWS_TAG])
    return np.sort(rng.choice(n, size=rows, replace=False))


def play_trial(reduction: Reduction, cache, seed: int, trial: int, bob, rows: int | None = None) -> TrialOutcome:
    """Alice encodes a fresh instance, Bob decodes every row (HO Remark 7) or a uniform sample.

    ``bob`` is the players object (:class:`protocols.sandbox.SandboxedPlayers`); both players
    build the cache from the same frozen copy of its public parameters. ``rows=None`` asks Bob
    for all ``n`` rows; an integer ``k`` for ``k`` distinct uniform rows (:func:`trial_rows`),
    INDEX's single uniform index being ``k = 1``.
    """
    sample = trial_rows(reduction.shape[0], rows, seed, trial)
    reduction, x = trial_input(reduction, seed, trial)
    message = bob.alice(reduction, cache, x)
    result = score(bob, reduction, cache, message, x, sample)
    rows_decoded = reduction.shape[0] if sample is None else len(sample)
    return TrialOutcome(trial, reduction.public_seed, result.memory_bits, x.size, result.correct, result.total,
                        rows_decoded)


def outcome_rows(cache, outcomes: list[TrialOutcome]) -> list[dict]:
    """The trial rows of ``cache``'s games (``trials.csv``; :func:`points_from_rows` reads them back)."""
    return [{"cache": repr(cache), "family": type(cache).__name__, "trial": o.trial, "public_seed": o.public_seed,
             "memory_bits": o.memory_bits, "bits_encoded": o.bits_encoded, "bits_decoded": o.bits_decoded,
             "rows_decoded": o.rows_decoded, "correct": o.correct, "accuracy": o.correct / o.bits_decoded}
            for o in outcomes]


def points_from_rows(rows: list[dict]) -> list[dict]:
    """One results point per cache (in order of first appearance) from :func:`outcome_rows`' rows."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["cache"], []).append(row)
    points = []
    for label, group in groups.items():
        outcomes = [TrialOutcome(r["trial"], r["public_seed"], r["memory_bits"], r["bits_encoded"], r["correct"],
                                 r["bits_decoded"], r["rows_decoded"]) for r in group]
        points.append(_point(label, group[0]["family"], outcomes))
    return points


def summarize(cache, outcomes: list[TrialOutcome]) -> dict:
    """A results point: accuracy with its 99% Wilson interval, and the Fano bound at that memory.

    Accuracy is over the bits Bob was asked (``bits_decoded``: all ``n·d``, or the sampled rows');
    its interval over bits, or over the sampled rows (:func:`interval_units`); memory ratio and frontier are per the ``n·d`` bits Alice encoded. The frontier
    bounds a sample's expected accuracy too: the bits of a uniformly sampled subset of rows, drawn
    independently of the message, are uniform, and averaging HO Theorem 5's per-bit bound over the
    sample gives the same ``max_accuracy(M, n·d)`` (docs/theory.md §1). The pooled point passes
    the Fano guard too (:func:`protocols.guard.check_point`).
    """
    return _point(repr(cache), type(cache).__name__, outcomes)


def _point(label: str, family: str, outcomes: list[TrialOutcome]) -> dict:
    correct = sum(o.correct for o in outcomes)
    total = sum(o.bits_decoded for o in outcomes)
    memory_bits = max(o.memory_bits for o in outcomes)
    bits_encoded = outcomes[0].bits_encoded
    units, units_right = interval_units(correct, total, outcomes)
    check_point(label, memory_bits, bits_encoded, units_right, units,
                "bits" if units == total else "sampled rows")
    low, high = wilson_interval(units_right, units)
    return {
        "cache": label,
        "family": family,
        "memory_bits": memory_bits,
        "bits_encoded": bits_encoded,
        "memory_ratio": memory_bits / bits_encoded,
        "accuracy": correct / total,
        "accuracy_low": low,
        "accuracy_high": high,
        "trials": len(outcomes),
        "fano_max_accuracy": float(max_accuracy(memory_bits, bits_encoded)),
    }


def interval_units(correct: int, total: int, outcomes: list[TrialOutcome]) -> tuple[int, int]:
    """The counts a Wilson interval is taken over: bits, or sampled rows when rows were sampled.

    Bits of one row are not independent (an eviction cache gets a kept row right and a dropped one
    at chance), so with sampled rows the independent units are the rows: a row's accuracy lies in
    ``[0, 1]`` with mean ``p``, hence variance at most ``p(1-p)``, and the Wilson interval of ``p``
    over the number of sampled rows is conservative. With all rows decoded the bits are the units,
    as before (HO Remark 7: every bit of the instance is asked).
    """
    if all(o.bits_decoded == o.bits_encoded for o in outcomes):
        return total, correct
    rows = sum(o.rows_decoded for o in outcomes)
    return rows, round(rows * correct / total)


def play(reduction: Reduction, cache, *, trials: int, seed: int, bob,
         rows: int | None = None) -> tuple[dict, list[TrialOutcome]]:
    """Play ``trials`` games of ``cache`` on ``reduction`` with the players ``bob``; the summary point
    and the outcomes. ``rows``: Bob decodes all rows (None) or that many sampled ones per trial."""
    check_rows(rows, reduction.shape[0])
    outcomes = [play_trial(reduction, cache, seed, trial, bob, rows) for trial in range(trials)]
    return summarize(cache, outcomes), outcomes
