"""What a reduction from INDEX to streaming attention provides to the game.

A reduction is a frozen dataclass whose fields are public (Alice and Bob both know them, including
``public_seed``, the shared randomness). It turns Alice's bit matrix into a stream, turns Bob's
row indices into query triples, and turns the cache's outputs into decoded bits.
"""

from __future__ import annotations

import abc
import dataclasses

import numpy as np


class Reduction(abc.ABC):
    """Alice's stream, Bob's queries and Bob's decoder (one query decodes one row of bits)."""

    public_seed: int

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, int]:
        """Rows and columns of Alice's bit matrix (``N = rows * cols`` bits of INDEX)."""

    @abc.abstractmethod
    def alice_stream(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The triples ``(Q, K, V)`` Alice feeds to the algorithm, one row per token."""

    @abc.abstractmethod
    def bob_queries(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One triple per row index; its output reveals that row of ``x``."""

    @abc.abstractmethod
    def decode(self, outputs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Decoded bits, shape ``(len(rows), cols)``, from the outputs of Bob's queries."""

    def with_public_seed(self, public_seed: int) -> "Reduction":
        """The same reduction with fresh shared randomness."""
        return dataclasses.replace(self, public_seed=int(public_seed))
