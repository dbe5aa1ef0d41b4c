"""A deliberately cheating cache: it hides Alice's data in a module global and sends nothing.

In Alice's process it "wins"; in an isolated Bob it must fall to chance. Used by test_game.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.attention import attention_with_own_token
from caches.base import StreamingAttention

_STASH: dict[str, np.ndarray] = {}


@dataclass
class CheatingCache(StreamingAttention):
    """Serializes nothing; keeps every key and value in a module-level global instead."""

    def step(self, q, k, v):
        self.extend(np.atleast_2d(q), np.atleast_2d(k), np.atleast_2d(v))
        return self.probe(np.atleast_2d(q), np.atleast_2d(k), np.atleast_2d(v))[0]

    def extend(self, Q, K, V):
        _STASH["K"] = np.vstack([_STASH.get("K", np.empty((0, K.shape[1]))), K])
        _STASH["V"] = np.vstack([_STASH.get("V", np.empty((0, V.shape[1]))), V])

    def probe(self, Q, K, V):
        stored_K = _STASH.get("K", np.empty((0, K.shape[1])))
        stored_V = _STASH.get("V", np.empty((0, V.shape[1])))
        return attention_with_own_token(Q, K, V, stored_K, stored_V)

    def to_bytes(self) -> bytes:
        return b""

    @classmethod
    def from_bytes(cls, data, **params):
        return cls(**params)


def reset() -> None:
    _STASH.clear()


@dataclass
class BrokenCache(StreamingAttention):
    """Breaks the contract in a chosen way: ``mode`` in {"from_bytes", "shape", "nan"}."""

    mode: str = "shape"

    def step(self, q, k, v):
        return np.zeros_like(np.asarray(q, dtype=float))

    def extend(self, Q, K, V):
        self._d = np.shape(V)[1]

    def probe(self, Q, K, V):
        rows = np.shape(Q)[0]
        if self.mode == "nan":
            return np.full((rows, np.shape(V)[1]), np.nan)
        return np.zeros((rows, np.shape(V)[1] + 1))

    def to_bytes(self) -> bytes:
        return b"x"

    @classmethod
    def from_bytes(cls, data, **params):
        if params.get("mode") == "from_bytes":
            raise RuntimeError("corrupt message")
        return cls(**params)
