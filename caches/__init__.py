"""The players: reference attention and every streaming attention algorithm (one interface)."""

from caches.attention import attention, attention_batch
from caches.base import KeyValueCache, StreamingAttention
from caches.eviction import RandomEvictionCache, WindowCache
from caches.exact import ExactCache
from caches.quantized import QuantizedCache

__all__ = [
    "attention",
    "attention_batch",
    "StreamingAttention",
    "KeyValueCache",
    "ExactCache",
    "QuantizedCache",
    "WindowCache",
    "RandomEvictionCache",
]
