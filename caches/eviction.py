"""Eviction caches: keep a bounded subset of the tokens, drop the rest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.params import check_int
from caches.rows import StoredRowsCache


@dataclass
class WindowCache(StoredRowsCache):
    """Keeps the last ``window`` tokens (the common sliding-window practice); older ones are gone."""

    window: int = 128
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.window = check_int("window", self.window, 1)
        self._init_rows()

    def _capacity(self) -> int:
        return self.window

    def _admit(self, K, V) -> None:
        self._keys.append(K[-self.window :])
        self._values.append(V[-self.window :])
        self._keys.keep_last(self.window)
        self._values.keep_last(self.window)
        self._seen += K.shape[0]


@dataclass
class RandomEvictionCache(StoredRowsCache):
    """A uniform reservoir of ``budget`` tokens (Vitter's Algorithm R).

    Token ``t`` (1-based) enters with probability ``budget / t`` and replaces a uniform slot, so
    at every time the kept set is a uniform sample of the tokens seen. The draws for a batch that
    starts at token ``t0`` come from ``numpy.random.default_rng([seed, t0])``: the state needs no
    generator, and a rebuilt cache continues with fresh, reproducible draws.
    """

    budget: int = 128
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.budget = check_int("budget", self.budget, 1)
        self.seed = check_int("seed", self.seed, 0)
        self._init_rows()

    def _capacity(self) -> int:
        return self.budget

    def _admit(self, K, V) -> None:
        free = max(0, min(self.budget - self._seen, K.shape[0]))
        self._keys.append(K[:free])
        self._values.append(V[:free])
        positions = self._seen + 1 + np.arange(free, K.shape[0])  # 1-based token index
        self._seen += K.shape[0]
        if positions.size == 0:
            return
        rng = np.random.default_rng([self.seed, int(positions[0])])
        slots = np.floor(rng.random(positions.size) * positions).astype(np.int64)
        accepted = np.flatnonzero(slots < self.budget)
        # When several tokens of one batch land in the same slot, the last one wins.
        latest_first = accepted[::-1]
        target, first = np.unique(slots[latest_first], return_index=True)
        source = free + latest_first[first]
        self._keys.rows[target] = K[source]
        self._values.rows[target] = V[source]
