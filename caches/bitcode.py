"""Lossy compression of bit strings with a binary linear covering code (syndrome quantization).

A random systematic ``[L, L - r]`` code with parity-check matrix ``H = [P | I_r]`` quantizes a
block ``x`` of ``L = 32`` bits to the nearest codeword ``c = x xor e(Hx)``, where ``e(s)`` is a
minimum-weight vector of syndrome ``s`` (its coset leader); only the ``L - r`` information bits
of ``c`` are stored. The Hamming distortion is the mean coset-leader weight over ``L``, which for
uniform bits approaches the rate-distortion bound ``R(D) = 1 - H_2(D)`` as ``L`` grows
(Goblick 1962; Cohen, Honkala, Litsyn, Lobstein, *Covering Codes*, 1997, ch. 2 and 20). Of
``CANDIDATES`` seeded random codes whose columns of ``H`` are distinct and nonzero where possible
(as in a Hamming code, so every weight-1 error is its own leader), the one with the smallest mean
leader weight is used, so both players derive the same code from ``r`` alone.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from caches.params import check_int

#: Block length in bits.
BLOCK = 32
#: Largest number of parity bits per block (the coset-leader table has ``2**r`` rows).
MAX_PARITY = 12
#: Seeded random codes tried per ``r``; the best covering one is kept.
CANDIDATES = 4


@dataclass(frozen=True)
class CoveringCode:
    """A systematic ``[BLOCK, BLOCK - parity]`` binary code with its coset-leader table."""

    parity: int
    P: np.ndarray  # (parity, info) parity part of H = [P | I]
    leaders: np.ndarray  # (2**parity, BLOCK) uint8, minimum-weight vector of each syndrome

    @property
    def info(self) -> int:
        return BLOCK - self.parity

    @property
    def distortion(self) -> float:
        """Mean fraction of bits flipped when quantizing uniform random blocks."""
        return float(self.leaders.sum(axis=1).mean() / BLOCK)

    def syndromes(self, blocks: np.ndarray) -> np.ndarray:
        """Syndrome of each row of ``blocks`` (``(N, BLOCK)`` of 0/1) as an integer."""
        bits = (blocks[:, : self.info].astype(np.int64) @ self.P.T.astype(np.int64) + blocks[:, self.info :]) % 2
        return bits @ (1 << np.arange(self.parity, dtype=np.int64))

    def encode(self, blocks: np.ndarray) -> np.ndarray:
        """Information bits of the nearest codeword of each block: ``(N, info)`` uint8."""
        blocks = np.asarray(blocks, dtype=np.uint8)
        if self.parity == 0:
            return blocks.copy()
        nearest = blocks ^ self.leaders[self.syndromes(blocks)]
        return nearest[:, : self.info]

    def decode(self, info: np.ndarray) -> np.ndarray:
        """The codewords ``[u, P u]`` of information bits ``u``: ``(N, BLOCK)`` uint8."""
        info = np.asarray(info, dtype=np.uint8)
        parity = (info.astype(np.int64) @ self.P.T.astype(np.int64)) % 2
        return np.concatenate([info, parity.astype(np.uint8)], axis=1)


def _parity_part(parity: int, rng: np.random.Generator) -> np.ndarray:
    """``P`` whose columns are distinct nonzero non-unit syndromes, repeated only when there are too few."""
    info = BLOCK - parity
    if parity == 0:
        return np.zeros((0, info), dtype=np.uint8)
    pool = np.array([s for s in range(1, 1 << parity) if s & (s - 1)], dtype=np.int64)  # weight >= 2
    columns = rng.permutation(pool)[:info]
    if columns.size < info:
        columns = np.concatenate([columns, rng.integers(1, 1 << parity, info - columns.size)])
    return ((columns[None, :] >> np.arange(parity)[:, None]) & 1).astype(np.uint8)


def _column_syndromes(P: np.ndarray) -> np.ndarray:
    parity = P.shape[0]
    H = np.concatenate([P, np.eye(parity, dtype=np.uint8)], axis=1)
    return (H.astype(np.int64) * (1 << np.arange(parity, dtype=np.int64))[:, None]).sum(axis=0)


def _leaders(P: np.ndarray) -> np.ndarray:
    """Coset leaders by increasing weight: every syndrome gets the first lightest vector reaching it."""
    parity = P.shape[0]
    columns = _column_syndromes(P)
    leaders = np.zeros((1 << parity, BLOCK), dtype=np.uint8)
    found = np.zeros(1 << parity, dtype=bool)
    found[0] = True
    weight = 0
    while not found.all():
        weight += 1
        support = np.array(list(itertools.combinations(range(BLOCK), weight)), dtype=np.int64)
        syndromes = np.bitwise_xor.reduce(columns[support], axis=1)
        fresh, first = np.unique(syndromes, return_index=True)
        new = ~found[fresh]
        for position in range(weight):
            leaders[fresh[new], support[first[new], position]] = 1
        found[fresh[new]] = True
    return leaders


@functools.lru_cache(maxsize=None)
def covering_code(parity: int) -> CoveringCode:
    """The code with ``parity`` parity bits per 32-bit block (``0``: no coding, distortion 0)."""
    parity = check_int("parity", parity, 0, MAX_PARITY)
    best = None
    for candidate in range(CANDIDATES if parity else 1):
        P = _parity_part(parity, np.random.default_rng([parity, candidate]))
        code = CoveringCode(parity, P, _leaders(P))
        if best is None or code.distortion < best.distortion:
            best = code
    best.P.setflags(write=False)
    best.leaders.setflags(write=False)
    return best


def blocks_of(bits: np.ndarray) -> np.ndarray:
    """Rows of ``bits`` (``(n, d)`` of 0/1) cut into 32-bit blocks, zero-padded: ``(n * ceil(d/32), 32)``."""
    n, d = bits.shape
    padded = np.zeros((n, -(-d // BLOCK) * BLOCK), dtype=np.uint8)
    padded[:, :d] = bits
    return padded.reshape(-1, BLOCK)


def rows_of(blocks: np.ndarray, n: int, d: int) -> np.ndarray:
    """Inverse of :func:`blocks_of`: the first ``d`` bits of each of the ``n`` rows."""
    return blocks.reshape(n, -1)[:, :d]
