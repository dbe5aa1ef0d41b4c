"""The zoo: every cache family the ``budget`` experiment plays, each at several memory budgets.

A :class:`Family` names a cache class, what kind of compression it is, its source, and a function
giving its members (cache instances) for ``n`` tokens of dimension ``d``. The experiment, the
figure and the test matrix pick up every entry of :data:`ZOO`. Adding a family is one line::

    ZOO.append(Family("SubGenCache", "clustering", "SubGen, Zandieh et al. 2024b", subgen_members, "SubGen"))

(or one line in the list below). Every member should declare ``budget_bits(n, d)``, the largest
message it can produce after ``n`` tokens (``StreamingAttention.budget_bits``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from caches.base import StreamingAttention
from caches.codec import FLOAT_DTYPES
from caches.designed import HashedBitsCache, hash_bits_for
from caches.eviction import (
    HeavyHitterCache,
    KNormCache,
    RandomEvictionCache,
    SinkWindowCache,
    WindowCache,
)
from caches.exact import ExactCache
from caches.lossless import LzmaCache, ZlibCache
from caches.params import ParameterError
from caches.qjl import QJLCache
from caches.quantized import QuantizedCache
from caches.sketch import FrequentDirectionsCache


@dataclass(frozen=True)
class Family:
    """One compression method: its class name, kind, source, and members for ``(n, d)``."""

    name: str  # the class name of every member (the results' "family")
    kind: str  # reference | quantization | eviction | low rank | lossless | designed | ...
    source: str  # the paper the method comes from
    members: Callable[[int, int], list[StreamingAttention]]
    label: str | None = None  # short name for figures (default: ``name``)

    @property
    def display(self) -> str:
        return self.label or self.name


def distinct(caches: list) -> list:
    """``caches`` without repeats (equal reprs), in order: small ``n`` or ``d`` can merge budgets."""
    seen: set[str] = set()
    return [c for c in caches if not (repr(c) in seen or seen.add(repr(c)))]


def kept_counts(n: int) -> list[int]:
    """Token budgets of the eviction families: n/32, n/8, n/2 and n (the last keeps everything)."""
    return sorted({max(2, n // f) for f in (32, 8, 2, 1)})


def exact_members(n: int, d: int) -> list:
    return [ExactCache(dtype) for dtype in FLOAT_DTYPES]


def kivi_members(n: int, d: int) -> list:
    return [QuantizedCache(bits=b, group_size=min(64, n)) for b in (1, 2, 4, 8)]


def qjl_members(n: int, d: int) -> list:
    return distinct([QJLCache(sketch_dim=m, value_bits=b) for m, b in ((16, 1), (32, 1), (d, 1), (2 * d, 2))])


def window_members(n: int, d: int) -> list:
    return [WindowCache(window=w, dtype="float16") for w in kept_counts(n)]


def sink_members(n: int, d: int) -> list:
    return [SinkWindowCache(sinks=4, window=max(1, w - 4), dtype="float16") for w in kept_counts(n)]


def h2o_members(n: int, d: int) -> list:
    return [HeavyHitterCache(heavy=w // 2, recent=w - w // 2, dtype="float16") for w in kept_counts(n)]


def knorm_members(n: int, d: int) -> list:
    return [KNormCache(budget=w, dtype="float16") for w in kept_counts(n)]


def reservoir_members(n: int, d: int) -> list:
    return [RandomEvictionCache(budget=w, dtype="float16") for w in kept_counts(n)]


def fd_members(n: int, d: int) -> list:
    return [FrequentDirectionsCache(rank=r, dtype="float16") for r in sorted({max(1, d // f) for f in (32, 8, 2, 1)})]


def zlib_members(n: int, d: int) -> list:
    return [ZlibCache(dtype=dtype, level=6) for dtype in ("float16", "float32")]


def lzma_members(n: int, d: int) -> list:
    return [LzmaCache(dtype=dtype, preset=6) for dtype in ("float16", "float32")]


def designed_members(n: int, d: int) -> list:
    """SimHash keys of ``log2 n + 6`` bits; values at 1 bit (parity 0) down to 5/8 bit per entry."""
    bits = hash_bits_for(n)
    return [
        HashedBitsCache(hash_bits=bits + 8, norm_bits=8, group_size=min(64, n)),
        *(HashedBitsCache(hash_bits=bits, parity=r, group_size=min(64, n)) for r in (0, 2, 5, 8, 12)),
    ]


ZOO: list[Family] = [
    Family("ExactCache", "reference", "HO Theorem 6 (exact attention)", exact_members, "exact"),
    Family("QuantizedCache", "quantization", "KIVI, Liu et al. 2024", kivi_members, "KIVI"),
    Family("QJLCache", "quantization", "QJL, Zandieh et al. 2024a", qjl_members, "QJL"),
    Family("WindowCache", "eviction", "sliding window (Beltagy et al. 2020)", window_members, "window"),
    Family("SinkWindowCache", "eviction", "StreamingLLM, Xiao et al. 2024", sink_members, "StreamingLLM"),
    Family("HeavyHitterCache", "eviction", "H2O, Zhang et al. 2023", h2o_members, "H2O"),
    Family("KNormCache", "eviction", "kvpress knorm, Devoto et al. 2024", knorm_members, "knorm"),
    Family("RandomEvictionCache", "eviction", "uniform reservoir (Vitter 1985)", reservoir_members, "reservoir"),
    Family("FrequentDirectionsCache", "low rank", "Frequent Directions, Liberty 2013", fd_members, "Freq. Directions"),
    Family("ZlibCache", "lossless", "zlib / DEFLATE (RFC 1950-1951)", zlib_members, "zlib"),
    Family("LzmaCache", "lossless", "lzma / LZMA2 (.xz)", lzma_members, "lzma"),
    Family("HashedBitsCache", "designed", "this suite: SimHash keys + 1-bit values", designed_members, "designed"),
]


def families(names=None) -> list[Family]:
    """The registered families, or those named in ``names`` (a clear error for an unknown one)."""
    if names is None:
        return list(ZOO)
    known = {f.name: f for f in ZOO}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ParameterError(f"families: unknown family {unknown[0]!r}; the zoo has: {', '.join(known)}")
    return [known[name] for name in names]


def zoo_caches(n: int, d: int, names=None) -> list[StreamingAttention]:
    """Every member of every family (or of the named ones) for ``n`` tokens of dimension ``d``."""
    return [cache for family in families(names) for cache in family.members(n, d)]


def family_of(cache) -> Family | None:
    """The registered family of ``cache`` (by class name), if any."""
    return next((f for f in ZOO if f.name == type(cache).__name__), None)


__all__ = [
    "Family",
    "ZOO",
    "families",
    "zoo_caches",
    "family_of",
    "kept_counts",
]
ZOO.extend(Family(*spec) for spec in __import__("caches.sliding").sliding.ZOO_FAMILIES)  # window algorithms, HO §4.1 (caches/sliding.py)
ZOO.extend(Family(*spec) for spec in __import__("caches.knn").knn.ZOO_FAMILIES)  # kNN attention (caches/knn.py): adaptive, stores everything
ZOO.extend(Family(*spec) for spec in __import__("caches.subgen").subgen.ZOO_FAMILIES)  # SubGen, HO Theorem 11 (caches/subgen.py)
