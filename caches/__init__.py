"""The players: reference attention and every streaming attention algorithm (one interface).

The zoo of compression families the ``budget`` experiment plays is :mod:`caches.zoo`.
"""

from caches.attention import attention, attention_batch
from caches.base import KeyValueCache, StreamingAttention
from caches.designed import HashedBitsCache
from caches.eviction import HeavyHitterCache, KNormCache, RandomEvictionCache, SinkWindowCache, WindowCache
from caches.exact import ExactCache
from caches.lossless import CompressedCache, LzmaCache, ZlibCache
from caches.qjl import QJLCache
from caches.quantized import QuantizedCache
from caches.sketch import FrequentDirectionsCache

#: KIVI-style quantization (Liu et al. 2024) under the name of its source.
KIVICache = QuantizedCache

__all__ = [
    "attention",
    "attention_batch",
    "StreamingAttention",
    "KeyValueCache",
    "ExactCache",
    "QuantizedCache",
    "KIVICache",
    "QJLCache",
    "WindowCache",
    "SinkWindowCache",
    "HeavyHitterCache",
    "KNormCache",
    "RandomEvictionCache",
    "FrequentDirectionsCache",
    "ZlibCache",
    "LzmaCache",
    "CompressedCache",
    "HashedBitsCache",
]
