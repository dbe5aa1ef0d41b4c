"""The one-way game: Alice streams, her message is the cache's bytes, Bob decodes (HO Theorem 5).

Bob receives only the cache's class, its public parameters and the message (a :class:`BobRequest`
of plain data), plus the public reduction and which rows to decode. :class:`IsolatedBob` runs him
in a separate spawned process, so nothing Alice's process holds (module globals, shared objects)
can reach him: a cache that smuggles state outside ``to_bytes`` falls to chance there.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing

import numpy as np

from caches.params import ParameterError
from caches.spec import build, load_class, object_spec, spec_params
from protocols.fano import max_accuracy
from protocols.index import random_instance
from protocols.reduction import Reduction
from protocols.stats import wilson_interval

#: Bob probes this many rows at a time, bounding memory for large n.
PROBE_ROWS = 1024


class CacheContractError(ParameterError):
    """A cache broke the contract: ``from_bytes`` failed, or an output has a wrong shape or is not finite."""


@dataclasses.dataclass(frozen=True)
class BobRequest:
    """Everything Bob gets: the cache's class and public parameters, the message, the public reduction."""

    cache: dict
    message: bytes
    reduction: dict
    rows: tuple[int, ...]


def alice_message(reduction: Reduction, cache, x: np.ndarray) -> bytes:
    """Feed Alice's stream for ``x`` to a fresh copy of ``cache``; the message is its ``to_bytes()``."""
    player = build(object_spec(cache))
    player.extend(*reduction.alice_stream(x))
    message = player.to_bytes()
    if not isinstance(message, bytes):
        raise CacheContractError(f"{type(cache).__name__}.to_bytes() must return bytes, got {type(message).__name__}")
    return message


def bob_decode(request: BobRequest) -> np.ndarray:
    """Bob's side: rebuild the cache from the message alone, probe in batches, decode."""
    cache_class = load_class(request.cache["class"])
    params = spec_params(request.cache)
    try:
        cache = cache_class.from_bytes(request.message, **params)
    except ParameterError:
        raise
    except Exception as error:  # any failure inside a user's from_bytes is a contract breach
        raise CacheContractError(
            f"{cache_class.__name__}.from_bytes failed on a {len(request.message)}-byte message: {error}"
        ) from None
    reduction = build(request.reduction)
    rows = np.asarray(request.rows, dtype=np.int64)
    cols = reduction.shape[1]
    decoded = np.empty((rows.size, cols), dtype=np.uint8)
    for start in range(0, rows.size, PROBE_ROWS):
        chunk = rows[start : start + PROBE_ROWS]
        outputs = np.asarray(cache.probe(*reduction.bob_queries(chunk)), dtype=np.float64)
        if outputs.shape != (chunk.size, cols):
            raise CacheContractError(
                f"{cache_class.__name__}.probe returned shape {outputs.shape}, expected {(chunk.size, cols)}"
            )
        if not np.all(np.isfinite(outputs)):
            raise CacheContractError(f"{cache_class.__name__}.probe returned non-finite values")
        decoded[start : start + chunk.size] = reduction.decode(outputs, chunk)
    return decoded


class InProcessBob:
    """Bob in Alice's process: for tests of the harness itself (it cannot stop a cheat)."""

    isolated = False

    def __call__(self, request: BobRequest) -> np.ndarray:
        return bob_decode(request)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class IsolatedBob:
    """Bob in a separate spawned process that receives only a :class:`BobRequest`."""

    isolated = True

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> "IsolatedBob":
        context = multiprocessing.get_context("spawn")
        self._pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __call__(self, request: BobRequest) -> np.ndarray:
        if self._pool is None:
            raise RuntimeError("use IsolatedBob as a context manager: `with IsolatedBob() as bob:`")
        return self._pool.submit(bob_decode, request).result()


@dataclasses.dataclass(frozen=True)
class TrialOutcome:
    """One game: the message size and how many of the bits Bob decoded correctly."""

    trial: int
    public_seed: int
    memory_bits: int
    bits_encoded: int
    correct: int


def trial_input(reduction: Reduction, seed: int, trial: int) -> tuple[Reduction, np.ndarray]:
    """The public randomness and Alice's bits of one trial, from ``default_rng([seed, trial])``.

    The same (seed, trial) gives every cache the same instance, so caches are compared paired.
    """
    rng = np.random.default_rng([seed, trial])
    x = random_instance(rng, *reduction.shape)
    return reduction.with_public_seed(int(rng.integers(2**31))), x


def play_trial(reduction: Reduction, cache, seed: int, trial: int, bob) -> TrialOutcome:
    """Alice encodes a fresh instance, Bob decodes every row (HO Remark 7)."""
    reduction, x = trial_input(reduction, seed, trial)
    message = alice_message(reduction, cache, x)
    rows = tuple(range(reduction.shape[0]))
    decoded = bob(BobRequest(object_spec(cache), message, object_spec(reduction), rows))
    return TrialOutcome(trial, reduction.public_seed, 8 * len(message), x.size, int(np.sum(decoded == x)))


def summarize(cache, outcomes: list[TrialOutcome]) -> dict:
    """A results point: accuracy with its 99% Wilson interval, and the Fano bound at that memory."""
    correct = sum(o.correct for o in outcomes)
    total = sum(o.bits_encoded for o in outcomes)
    memory_bits = max(o.memory_bits for o in outcomes)
    bits_encoded = outcomes[0].bits_encoded
    low, high = wilson_interval(correct, total)
    return {
        "cache": repr(cache),
        "family": type(cache).__name__,
        "memory_bits": memory_bits,
        "bits_encoded": bits_encoded,
        "memory_ratio": memory_bits / bits_encoded,
        "accuracy": correct / total,
        "accuracy_low": low,
        "accuracy_high": high,
        "trials": len(outcomes),
        "fano_max_accuracy": float(max_accuracy(memory_bits, bits_encoded)),
    }


def play(reduction: Reduction, cache, *, trials: int, seed: int, bob) -> tuple[dict, list[TrialOutcome]]:
    """Play ``trials`` games of ``cache`` on ``reduction``; the summary point and the outcomes."""
    outcomes = [play_trial(reduction, cache, seed, trial, bob) for trial in range(trials)]
    return summarize(cache, outcomes), outcomes
