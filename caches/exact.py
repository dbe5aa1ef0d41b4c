"""The exact cache: every key and value, stored at a chosen float precision."""

from __future__ import annotations

from dataclasses import dataclass

from caches.rows import StoredRowsCache


@dataclass
class ExactCache(StoredRowsCache):
    """All ``n`` keys and values at ``dtype`` precision: ``2 n d`` floats (HO Theorem 6's baseline).

    With ``dtype="float64"`` the outputs are exact attention; lower precisions round the stored
    keys and values (arithmetic is always float64).
    """

    dtype: str = "float64"

    def __post_init__(self) -> None:
        self._init_rows()

    def _admit(self, K, V) -> None:
        self._keys.append(K)
        self._values.append(V)
        self._seen += K.shape[0]
