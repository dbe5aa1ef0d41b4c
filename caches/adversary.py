"""The worst allowed (1±η)-approximation of any cache, against a threshold decoder (HO Theorem 8)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caches.base import StreamingAttention
from caches.params import check_real


@dataclass
class AdversarialApproximation(StreamingAttention):
    """Wraps ``inner`` and moves every output coordinate by ``eta·|y|`` toward ``threshold``.

    HO footnote 1 allows any ``y'`` with ``|y'_j - y_j| <= η|y_j|``; against a decoder that
    compares each coordinate with ``threshold`` this is the worst allowed choice. The wrapper adds
    no state: its message is the inner cache's message.
    """

    inner: StreamingAttention
    eta: float
    threshold: float

    def __post_init__(self) -> None:
        if not isinstance(self.inner, StreamingAttention):
            raise TypeError(f"inner must be a StreamingAttention cache, got {self.inner!r}")
        self.eta = check_real("eta", self.eta, 0.0, 1.0, high_open=True)
        self.threshold = check_real("threshold", self.threshold)

    def _worsen(self, outputs: np.ndarray) -> np.ndarray:
        outputs = np.asarray(outputs, dtype=np.float64)
        return outputs + self.eta * np.abs(outputs) * np.sign(self.threshold - outputs)

    def step(self, q, k, v) -> np.ndarray:
        return self._worsen(self.inner.step(q, k, v))

    def extend(self, Q, K, V) -> None:
        self.inner.extend(Q, K, V)

    def probe(self, Q, K, V) -> np.ndarray:
        return self._worsen(self.inner.probe(Q, K, V))

    def to_bytes(self) -> bytes:
        return self.inner.to_bytes()

    @classmethod
    def from_bytes(cls, data, *, inner, eta, threshold) -> "AdversarialApproximation":
        return cls(type(inner).from_bytes(data, **inner.params()), eta, threshold)
