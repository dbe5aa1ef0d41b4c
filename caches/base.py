"""The one interface every streaming attention algorithm implements.

A streaming algorithm sees tokens one at a time and outputs (an approximation of) the attention
of the token's query after each (HO §2). A token is a tuple of arrays: the triple ``(q, k, v)``
of standard attention, ``Attn(q_i, K_i, V_i)``, or the 5-tuple ``(q, k1, k2, v1, v2)`` of tensor
attention (:mod:`caches.tensor`); the interface takes however many arrays a token has. Its
memory is everything that survives between steps, and here that is exactly
:meth:`StreamingAttention.to_bytes`: memory in bits is ``8 * len(to_bytes())``.

A subclass is a ``@dataclass`` whose fields are its public parameters (so ``repr()`` reproduces
it) and implements three things:

* ``step(*arrays) -> output``: append one token (``step(q, k, v)`` for a triple) and return the
  output for its query (the first array);
* ``to_bytes() -> bytes``: the entire state;
* ``from_bytes(data, **params)`` (classmethod): rebuild from the message and the public parameters.

The base class derives ``extend`` (append many) and ``probe`` (Bob's batch of queries: the output
for each row as if that single token were appended, state unchanged), each taking one array of
rows per component of the token.
"""

from __future__ import annotations

import abc
import dataclasses

import numpy as np

from caches.attention import attention_with_own_token


class StreamingAttention(abc.ABC):
    """Base class of every cache. Subclasses are dataclasses; state lives outside the fields."""

    @abc.abstractmethod
    def step(self, *arrays: np.ndarray) -> np.ndarray:
        """Append one token (``(q, k, v)``, or any tuple with the query first) and return its output."""

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """The entire state: nothing else survives between steps or reaches Bob."""

    @classmethod
    @abc.abstractmethod
    def from_bytes(cls, data: bytes, **params) -> "StreamingAttention":
        """Rebuild from a message produced by :meth:`to_bytes` and the public parameters."""

    def params(self) -> dict:
        """The public parameters: the dataclass fields, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def budget_bits(self, n: int, d: int) -> int | None:
        """The most bits the message can take after ``n`` tokens of dimension ``d``.

        ``None`` (the default) declares no budget; caches with a memory knob override it, and the
        zoo's tests check ``memory_bits`` against it.
        """
        return None

    @property
    def memory_bits(self) -> int:
        """Memory of the current state in bits: ``8 * len(to_bytes())``."""
        return 8 * len(self.to_bytes())

    def extend(self, *arrays: np.ndarray) -> None:
        """Append many tokens in order, one array of rows per component (outputs discarded).

        Subclasses may vectorize.
        """
        for token in zip(*(np.asarray(a) for a in arrays)):
            self.step(*token)

    def probe(self, *arrays: np.ndarray) -> np.ndarray:
        """Row ``r``: the output if token ``r`` (``(Q[r], K[r], V[r])`` for triples) alone were
        appended; state unchanged.

        The default rebuilds a copy from :meth:`to_bytes` for every row. Subclasses override it
        with a vectorized path.
        """
        message, params = self.to_bytes(), self.params()
        rows = [
            type(self).from_bytes(message, **params).step(*token)
            for token in zip(*(np.asarray(a) for a in arrays))
        ]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)


class ProbeThenExtend(StreamingAttention):
    """For caches with a vectorized ``probe`` and ``extend``: a step probes the row, then appends it."""

    def step(self, *arrays) -> np.ndarray:
        token = [np.asarray(a, dtype=np.float64).reshape(1, -1) for a in arrays]
        output = self.probe(*token)[0]
        self.extend(*token)
        return output


class KeyValueCache(ProbeThenExtend):
    """A cache whose state is a set of stored (key, value) pairs, possibly lossy or weighted.

    The output for a triple is exact softmax attention over the stored pairs plus the triple's
    own pair (the current token is always in hand); the pair is admitted afterwards according to
    the subclass's policy. Subclasses implement ``_admit``, ``_stored``, ``to_bytes`` and
    ``from_bytes``.
    """

    @abc.abstractmethod
    def _admit(self, K: np.ndarray, V: np.ndarray) -> None:
        """Take rows of keys and values (float64, shape ``(m, d)``) into the state."""

    @abc.abstractmethod
    def _stored(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Keys, values (float64) and per-pair multiplicities (``None`` for all ones)."""

    def extend(self, Q, K, V) -> None:
        self._admit(np.asarray(K, dtype=np.float64), np.asarray(V, dtype=np.float64))

    def probe(self, Q, K, V) -> np.ndarray:
        keys, values, weights = self._stored()
        return attention_with_own_token(Q, K, V, keys, values, weights)
