"""INDEX (HO Definition 4): Alice holds ``x in {0,1}^N``, Bob holds ``i``, one message from Alice.

In the reductions the ``N`` bits form a matrix (``n x d`` for HO Theorem 6) and Bob's index is a
row: one of his queries decodes a whole row (HO Remark 7).
"""

from __future__ import annotations

import numpy as np

from caches.params import check_int


def random_instance(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Alice's input: uniform bits, shape ``(rows, cols)``, dtype uint8."""
    check_int("rows", rows, 1)
    check_int("cols", cols, 1)
    return rng.integers(0, 2, size=(rows, cols), dtype=np.uint8)
