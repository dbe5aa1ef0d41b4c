"""Reference attention (HO §2, eq. 1): ``Attn(q, K, V) = softmax(K q)^T V``, no 1/sqrt(d).

Numerically stable: the maximum score is subtracted before exponentiating. The batched form
processes queries in row chunks so memory stays bounded for large ``n``.
"""

from __future__ import annotations

import numpy as np

#: Rows of queries handled at once by the batched forms (bounds the score block to
#: ``CHUNK_ROWS * n`` floats).
CHUNK_ROWS = 1024


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Stable softmax along ``axis``."""
    shifted = scores - np.max(scores, axis=axis, keepdims=True)
    weights = np.exp(shifted)
    return weights / np.sum(weights, axis=axis, keepdims=True)


def attention(q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``softmax(K q)^T V`` for one query ``q`` (shape ``(d,)``) over ``n`` keys and values."""
    return softmax(np.asarray(K, dtype=np.float64) @ np.asarray(q, dtype=np.float64)) @ V


def attention_batch(Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``attention(Q[r], K, V)`` for every row ``r`` of ``Q``; all queries see the same keys."""
    Q = np.asarray(Q, dtype=np.float64)
    out = np.empty((Q.shape[0], np.shape(V)[1]), dtype=np.float64)
    for start in range(0, Q.shape[0], CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        out[rows] = softmax(Q[rows] @ K.T) @ V
    return out


def attention_with_own_token(
    Q: np.ndarray,
    K_own: np.ndarray,
    V_own: np.ndarray,
    K: np.ndarray,
    V: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Row ``r``: attention of ``Q[r]`` over the shared ``(K, V)`` plus its own ``(K_own[r], V_own[r])``.

    This is the output a cache gives for the triple ``(Q[r], K_own[r], V_own[r])`` appended to a
    state holding ``(K, V)``: the batch of Bob's probes (HO Remark 7). ``weights`` (one positive
    multiplicity per stored token, default 1) lets a sampled cache stand for many tokens.
    """
    Q = np.asarray(Q, dtype=np.float64)
    K_own = np.asarray(K_own, dtype=np.float64)
    V_own = np.asarray(V_own, dtype=np.float64)
    own_scores = np.einsum("rd,rd->r", Q, K_own)
    out = np.empty((Q.shape[0], V_own.shape[1]), dtype=np.float64)
    if K.shape[0] == 0:
        out[:] = V_own
        return out
    log_weights = None if weights is None else np.log(np.asarray(weights, dtype=np.float64))
    for start in range(0, Q.shape[0], CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        scores = Q[rows] @ K.T
        if log_weights is not None:
            scores += log_weights
        top = np.maximum(scores.max(axis=1), own_scores[rows])
        scores -= top[:, None]
        np.exp(scores, out=scores)
        own = np.exp(own_scores[rows] - top)
        denominator = scores.sum(axis=1) + own
        out[rows] = (scores @ V + own[:, None] * V_own[rows]) / denominator[:, None]
    return out
