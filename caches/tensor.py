"""Tensor attention (Alman & Song; TA, docs/theory.md §8): the reference and the streaming tensor caches.

A token is a 5-tuple ``(q, k1, k2, v1, v2)``. Tensor attention attends over *pairs* of tokens::

    TAttn(q, K1, K2, V1, V2) = sum_{(a,b)} w_ab (v1_a ∘ v2_b),   w_ab ∝ exp(<q, k1_a ∘ k2_b>)

(``∘`` is the elementwise product, no 1/sqrt(d)). In the autoregressive form the token at step
``t`` attends over all pairs ``(a, b) in [t]^2``, its own token included, so each new token adds
``2t - 1`` pairs.

**Computing it.** ``<q, k1_a ∘ k2_b> = k1_a^T diag(q) k2_b``, so a block of scores for one query
is the matrix product ``(K1[A] ∘ q) K2^T``, and the numerator's coordinate ``j`` is
``sum_a V1[a, j] (W[a, :] V2)[j]``: never the ``n^2 x d`` pair matrix. The sums run block by
block (at most :data:`BLOCK_ELEMENTS` scores at once, so ``n = 2048`` needs no ``n^2`` array)
with an online softmax: a running maximum per query, rescaling what was accumulated when it
grows (:class:`PairSoftmax`). Pair weights may carry per-side multiplicities ``w1_a w2_b`` (a
sampled cache standing for many tokens).

**Caches.** Ordinary :class:`caches.base.StreamingAttention` caches whose tokens are 5-tuples
(``step(q, k1, k2, v1, v2)``, ``extend`` and ``probe`` with five arrays of rows, ``to_bytes``,
``from_bytes(data, **params)``, ``memory_bits = 8 * len(to_bytes())``), built on
:class:`TensorAdmitCache` (a :class:`caches.base.ProbeThenExtend` that admits the four caches'
rows) and :class:`TensorSidesCache` (state = two possibly weighted sides). The members:

* :class:`ExactFourCache`: ``K1, K2, V1, V2`` at a float precision, ``4nd`` numbers (TA's "4-cache").
* :class:`ExactTwoCache`: the pair rows ``k1_a ∘ k2_b`` and ``v1_a ∘ v2_b`` for all ``(a, b)``,
  ``2n^2 d`` numbers (TA's "2-cache"), attention as a plain softmax over the stored rows.
* :class:`QuantizedFourCache`: the four caches at ``b`` bits, KIVI style, through
  :func:`caches.quantized.quantize` / :func:`caches.quantized.dequantize`.
* :class:`SubGenFourCache`: online clustering of ``K1`` and ``K2``, product clusters for the pair
  softmax's denominator, value-norm samples of each side for its numerator.
* :class:`PooledQuantizedFourCache`: the four caches averaged over blocks of ``pool`` coordinates,
  then quantized at ``bits`` bits (below one bit per entry: memory ratios ≈ 0.2-2 in the game).
* :class:`HashedBitsFourCache`: the designed cache (:mod:`caches.designed`'s SimHash keys for
  ``K1``, one-bit values with an optional covering code for ``K2, V1, V2``), near the Fano frontier.

Wrappers compose with them as with any cache: the ``(1±η)`` adversary of HO Theorem 8
(:class:`caches.adversary.AdversarialApproximation`) and lossless compression of the message
(:class:`caches.lossless.CompressedCache`).

The INDEX game of :mod:`protocols.game` plays these unchanged: it calls
``cache.extend(*reduction.alice_stream(x))`` and ``cache.probe(*reduction.bob_queries(rows))``
with whatever tuples the reduction returns (5-tuples for :mod:`reductions.tensor`).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from caches.base import ProbeThenExtend
from caches.bitcode import BLOCK, blocks_of, covering_code, rows_of
from caches.codec import FLOAT_DTYPES, Reader, Writer
from caches.designed import LEVEL_DTYPE, binarize
from caches.params import ParameterError, check_choice, check_int, check_real
from caches.qjl import jl_projection, sign_sketch
from caches.quantized import SCALE_DTYPE, dequantize, quantize
from caches.rows import RowBuffer
from caches.subgen import OnlineClustering, ValueNormSampler

#: Most scores (and ``rows x side x value-dim`` partial products) held at once by the kernels.
BLOCK_ELEMENTS = 1 << 21
#: Most queries handled together.
CHUNK_ROWS = 1024


# ---------------------------------------------------------------------------------------
# 1. The kernel: a softmax over pairs, accumulated block by block


def _f64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


class PairSoftmax:
    """Running softmax sums for ``R`` queries: ``top`` (max score seen), ``z`` and ``u``.

    After all blocks are added, ``z[r] = sum_p e^{s_rp - top[r]}`` and
    ``u[r] = sum_p e^{s_rp - top[r]} value_p`` over every pair ``p`` added; the attention output
    is ``u / z``. Adding a block whose maximum exceeds ``top`` rescales what was accumulated, so
    no exponential ever overflows (HO §2's max subtraction, done online).
    """

    def __init__(self, rows: int, dim: int) -> None:
        self.top = np.full(rows, -np.inf)
        self.z = np.zeros(rows)
        self.u = np.zeros((rows, dim))

    def _raise_top(self, block_top: np.ndarray) -> None:
        new = np.maximum(self.top, block_top)
        factor = np.exp(self.top - new)  # 0 while nothing was added (top = -inf)
        self.z *= factor
        self.u *= factor[:, None]
        self.top = new

    def add_rows(self, scores: np.ndarray, values: np.ndarray, factor: np.ndarray | None = None) -> None:
        """Pairs with ``scores`` (``R x m``) and shared values (``m x dv``), times ``factor`` (``R x dv``).

        Row ``r`` gains ``factor[r] ∘ sum_p e^{s_rp} values[p]``: the ``factor`` is the own
        token's value when one side of every pair in the block is the query's own token.
        """
        if scores.shape[1] == 0:
            return
        self._raise_top(scores.max(axis=1))
        weights = np.exp(scores - self.top[:, None])
        self.z += weights.sum(axis=1)
        part = weights @ values
        self.u += part if factor is None else part * factor

    def add_single(self, scores: np.ndarray, values: np.ndarray) -> None:
        """One pair per row: score ``scores[r]``, value ``values[r]``."""
        self._raise_top(scores)
        weights = np.exp(scores - self.top)
        self.z += weights
        self.u += weights[:, None] * values

    def add_product(self, Q, K1, K2, V1, V2, log_w1=None, log_w2=None) -> None:
        """Every pair ``(a, b)`` of the two stored sides, for every query row.

        Score ``<q, k1_a ∘ k2_b> + log w1_a + log w2_b``, value ``v1_a ∘ v2_b``. Side 1 is cut into
        spans so a block holds at most :data:`BLOCK_ELEMENTS` numbers.
        """
        n1, n2 = K1.shape[0], K2.shape[0]
        if n1 == 0 or n2 == 0:
            return
        rows, dim = Q.shape
        span = max(1, BLOCK_ELEMENTS // (rows * max(n2, V2.shape[1], dim)))
        for start in range(0, n1, span):
            part = slice(start, start + span)
            width = K1[part].shape[0]
            mixed = (Q[:, None, :] * K1[None, part, :]).reshape(rows * width, dim)  # rows of K1 ∘ q
            scores = (mixed @ K2.T).reshape(rows, width, n2)
            if log_w1 is not None:
                scores += log_w1[part][None, :, None]
            if log_w2 is not None:
                scores += log_w2[None, None, :]
            self._raise_top(scores.reshape(rows, -1).max(axis=1))
            np.exp(scores - self.top[:, None, None], out=scores)
            self.z += scores.sum(axis=(1, 2))
            partial = (scores.reshape(rows * width, n2) @ V2).reshape(rows, width, -1)  # W V2
            self.u += np.einsum("rav,av->rv", partial, V1[part])

    def add_flat(self, Q, keys, values) -> None:
        """Plain attention over stored rows (the 2-cache's pair rows), in column blocks."""
        span = max(1, BLOCK_ELEMENTS // max(1, Q.shape[0]))
        for start in range(0, keys.shape[0], span):
            self.add_rows(Q @ keys[start : start + span].T, values[start : start + span])

    def add_own(self, Q, own, side1, side2) -> None:
        """The pairs that involve each query's own token ``o``: ``(o, b)``, ``(a, o)`` and ``(o, o)``.

        ``own = (K1o, K2o, V1o, V2o)`` holds one token per query row; ``side = (K, V, log_w)``.
        """
        K1o, K2o, V1o, V2o = own
        (K1, V1, log_w1), (K2, V2, log_w2) = side1, side2
        if K2.shape[0]:
            scores = (Q * K1o) @ K2.T  # <q, k1_o ∘ k2_b>
            if log_w2 is not None:
                scores += log_w2[None, :]
            self.add_rows(scores, V2, factor=V1o)  # v1_o ∘ v2_b
        if K1.shape[0]:
            scores = (Q * K2o) @ K1.T  # <q, k1_a ∘ k2_o>
            if log_w1 is not None:
                scores += log_w1[None, :]
            self.add_rows(scores, V1, factor=V2o)  # v1_a ∘ v2_o
        self.add_single(np.einsum("rd,rd,rd->r", Q, K1o, K2o), V1o * V2o)

    def output(self) -> np.ndarray:
        return self.u / self.z[:, None]


def _row_span(rows: int, per_row: int) -> int:
    return max(1, min(CHUNK_ROWS, rows, BLOCK_ELEMENTS // max(1, per_row)))


def _side(K, V, weights=None):
    K, V = _f64(K), _f64(V)
    log_w = None if weights is None else np.log(_f64(weights))
    return K, V, log_w


def tensor_pair_sums(Q, side1, side2, own=None) -> PairSoftmax:
    """The softmax sums over ``(S1 [+ o]) x (S2 [+ o])`` for every query row of ``Q``.

    ``side = (K, V, weights-or-None)``; ``own`` (optional) gives each query its own token
    ``(K1o, K2o, V1o, V2o)``, joined to both sides with weight 1. Queries are taken in chunks so
    that a block of pair scores stays within :data:`BLOCK_ELEMENTS`.
    """
    Q = np.atleast_2d(_f64(Q))
    side1, side2 = _side(*side1), _side(*side2)
    own = None if own is None else tuple(np.atleast_2d(_f64(a)) for a in own)
    widths = ([own[2].shape[1]] if own is not None else []) + [V.shape[1] for _, V, _ in (side1, side2) if V.size]
    dv = widths[0] if widths else 0
    sums = PairSoftmax(Q.shape[0], dv)
    n1, n2 = side1[0].shape[0], side2[0].shape[0]
    span = _row_span(Q.shape[0], n1 * max(n2, dv, Q.shape[1]))
    for start in range(0, Q.shape[0], span):
        rows = slice(start, start + span)
        block = PairSoftmax(Q[rows].shape[0], dv)
        if own is not None:
            block.add_own(Q[rows], tuple(a[rows] for a in own), side1, side2)
        block.add_product(Q[rows], side1[0], side2[0], side1[1], side2[1], side1[2], side2[2])
        sums.top[rows], sums.z[rows], sums.u[rows] = block.top, block.z, block.u
    return sums


def tensor_attention_batch(Q, K1, K2, V1, V2) -> np.ndarray:
    """``TAttn(Q[r], K1, K2, V1, V2)`` for every row of ``Q`` over all ``n^2`` pairs (TA, docs/theory.md §8)."""
    return tensor_pair_sums(np.atleast_2d(Q), (K1, V1), (K2, V2)).output()


def tensor_attention(q, K1, K2, V1, V2) -> np.ndarray:
    """Reference tensor attention for one query ``q`` (shape ``(d,)``) over all pairs of ``n`` tokens."""
    return tensor_attention_batch(_f64(q).reshape(1, -1), K1, K2, V1, V2)[0]


def tensor_attention_causal(Q, K1, K2, V1, V2) -> np.ndarray:
    """Autoregressive tensor attention: row ``t`` attends over the pairs ``[t]^2`` (tokens ``0..t``)."""
    Q, K1, K2, V1, V2 = (_f64(a) for a in (Q, K1, K2, V1, V2))
    return np.stack([tensor_attention(Q[t], K1[: t + 1], K2[: t + 1], V1[: t + 1], V2[: t + 1])
                     for t in range(Q.shape[0])]) if Q.shape[0] else np.empty((0, V1.shape[1]))


def tensor_attention_with_own_token(Q, K1o, K2o, V1o, V2o, K1, K2, V1, V2, w1=None, w2=None) -> np.ndarray:
    """Row ``r``: tensor attention of ``Q[r]`` over the stored tokens plus its own token.

    The pairs are ``(S1 ∪ {o}) x (S2 ∪ {o})``: the stored pairs (weighted ``w1_a w2_b``, default 1),
    the ``(o, b)`` and ``(a, o)`` pairs and ``(o, o)``. This is what a 4-cache outputs for the
    5-tuple ``(Q[r], K1o[r], K2o[r], V1o[r], V2o[r])`` appended to its state: Bob's batch of probes.
    """
    return tensor_pair_sums(Q, (K1, V1, w1), (K2, V2, w2), own=(K1o, K2o, V1o, V2o)).output()


# ---------------------------------------------------------------------------------------
# 2. The tensor-specific bases (over caches.base)


class TensorAdmitCache(ProbeThenExtend):
    """A tensor cache that admits rows with ``_admit``: a step probes the token, then admits it.

    An ordinary :class:`caches.base.StreamingAttention` whose tokens are 5-tuples
    ``(q, k1, k2, v1, v2)``; only the admission of the four caches' rows is tensor-specific.
    """

    @abc.abstractmethod
    def _admit(self, K1, K2, V1, V2) -> None:
        """Take rows (float64) of the four caches into the state."""

    def extend(self, Q, K1, K2, V1, V2) -> None:
        self._admit(*(np.atleast_2d(_f64(a)) for a in (K1, K2, V1, V2)))


class TensorSidesCache(TensorAdmitCache):
    """A tensor cache whose state is two (possibly weighted) sides ``(K1, V1)`` and ``(K2, V2)``.

    The output for a token is exact tensor attention over the stored sides' pairs plus the
    pairs touching the token itself; the token is admitted afterwards. Subclasses implement
    ``_admit(K1, K2, V1, V2)``, ``_sides()``, ``to_bytes`` and ``from_bytes``.
    """

    @abc.abstractmethod
    def _sides(self):
        """``((K1, V1, w1), (K2, V2, w2))`` as float64, ``w`` a multiplicity per row or ``None``."""

    def probe(self, Q, K1, K2, V1, V2) -> np.ndarray:
        side1, side2 = self._sides()
        return tensor_pair_sums(Q, side1, side2, own=(K1, K2, V1, V2)).output()


def _empty(dim: int = 0) -> np.ndarray:
    return np.empty((0, dim))


def _dims(reader: Reader) -> tuple[int, int]:
    """Key dimension (header) and value dimension (one uint32 after it)."""
    return reader.dim, reader.uint32()[0]


# ---------------------------------------------------------------------------------------
# 3. Exact caches


@dataclass
class ExactFourCache(TensorSidesCache):
    """TA's 4-cache: every ``k1, k2, v1, v2`` at ``dtype`` precision, ``4nd`` numbers.

    Message: header (tokens, key dim), value dim (uint32), then ``K1, K2, V1, V2``. With
    ``dtype="float64"`` the outputs are exact tensor attention.
    """

    dtype: str = "float64"

    def __post_init__(self) -> None:
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._rows = [RowBuffer(self.dtype) for _ in range(4)]  # K1, K2, V1, V2
        self._seen = 0

    def _admit(self, K1, K2, V1, V2) -> None:
        for buffer, rows in zip(self._rows, (K1, K2, V1, V2)):
            buffer.append(rows)
        self._seen += K1.shape[0]

    def _sides(self):
        K1, K2, V1, V2 = (b.rows.astype(np.float64, copy=False) if b.count else _empty() for b in self._rows)
        return (K1, V1, None), (K2, V2, None)

    def to_bytes(self) -> bytes:
        dim = self._rows[0].rows.shape[1] if self._seen else 0
        dv = self._rows[2].rows.shape[1] if self._seen else 0
        writer = Writer(self._seen, dim).uint32(dv)
        for buffer in self._rows:
            writer.array(buffer.rows, self.dtype)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "ExactFourCache":
        cache, reader = cls(**params), Reader(data)
        n, (dim, dv) = reader.tokens, _dims(reader)
        arrays = [reader.array(cache.dtype, (n, w)) for w in (dim, dim, dv, dv)]
        reader.done()
        if n:
            cache._admit(*arrays)
        return cache


@dataclass
class ExactTwoCache(TensorAdmitCache):
    """TA's 2-cache: the pair rows ``k1_a ∘ k2_b`` and ``v1_a ∘ v2_b`` for all ``(a, b) in [t]^2``.

    Attention is a plain softmax over the stored pair rows (one matrix-vector product per token,
    no elementwise products at query time) plus the ``2t + 1`` pairs of the new token. Forming
    those new pair rows needs the factor rows of past tokens, so the cache also keeps ``K1, K2,
    V1, V2`` (``4td`` numbers, lower order than the ``2t^2 d`` pair numbers). Token ``t``'s pairs
    are stored in a fixed order, ``(t, b)`` for ``b < t``, then ``(a, t)`` for ``a < t``, then
    ``(t, t)``, so a batch and single steps give the same message.
    """

    dtype: str = "float64"

    def __post_init__(self) -> None:
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._pair_keys = RowBuffer(self.dtype)
        self._pair_values = RowBuffer(self.dtype)
        self._rows = [RowBuffer(self.dtype) for _ in range(4)]  # K1, K2, V1, V2
        self._seen = 0

    def _factors(self):
        return [b.rows.astype(np.float64, copy=False) if b.count else _empty() for b in self._rows]

    def _admit(self, K1, K2, V1, V2) -> None:
        for k1, k2, v1, v2 in zip(K1, K2, V1, V2):
            old = self._factors()
            if self._seen:
                keys = np.concatenate([k1 * old[1], old[0] * k2, (k1 * k2)[None]])
                values = np.concatenate([v1 * old[3], old[2] * v2, (v1 * v2)[None]])
            else:
                keys, values = (k1 * k2)[None], (v1 * v2)[None]
            self._pair_keys.append(keys)
            self._pair_values.append(values)
            for buffer, row in zip(self._rows, (k1, k2, v1, v2)):
                buffer.append(row[None])
            self._seen += 1

    def probe(self, Q, K1, K2, V1, V2) -> np.ndarray:
        Q, *own = (np.atleast_2d(_f64(a)) for a in (Q, K1, K2, V1, V2))
        F1, F2, G1, G2 = self._factors()
        sums = PairSoftmax(Q.shape[0], own[2].shape[1])
        if self._seen:
            sums.add_flat(Q, self._pair_keys.rows.astype(np.float64, copy=False),
                          self._pair_values.rows.astype(np.float64, copy=False))
        sums.add_own(Q, own, (F1, G1, None), (F2, G2, None))
        return sums.output()

    def to_bytes(self) -> bytes:
        dim = self._rows[0].rows.shape[1] if self._seen else 0
        dv = self._rows[2].rows.shape[1] if self._seen else 0
        writer = Writer(self._seen, dim).uint32(dv)
        writer.array(self._pair_keys.rows, self.dtype).array(self._pair_values.rows, self.dtype)
        for buffer in self._rows:
            writer.array(buffer.rows, self.dtype)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "ExactTwoCache":
        cache, reader = cls(**params), Reader(data)
        n, (dim, dv) = reader.tokens, _dims(reader)
        pair_keys = reader.array(cache.dtype, (n * n, dim))
        pair_values = reader.array(cache.dtype, (n * n, dv))
        factors = [reader.array(cache.dtype, (n, w)) for w in (dim, dim, dv, dv)]
        reader.done()
        if n:
            cache._pair_keys.append(pair_keys)
            cache._pair_values.append(pair_values)
            for buffer, rows in zip(cache._rows, factors):
                buffer.append(rows)
            cache._seen = n
        return cache


# ---------------------------------------------------------------------------------------
# 4. Quantized four-cache


class _ChannelQuantized:
    """Keys at ``bits`` bits per channel over groups of ``group`` tokens (KIVI keys).

    The group still being filled stays in float16 (the residual); a token passes through float16
    first, so it quantizes the same whether it arrived in a batch or alone.
    """

    def __init__(self, bits: int, group: int) -> None:
        self.bits, self.group = bits, group
        self.codes: list[np.ndarray] = []
        self.low: list[np.ndarray] = []
        self.scale: list[np.ndarray] = []
        self.residual: np.ndarray | None = None

    def append(self, rows: np.ndarray) -> None:
        dim = rows.shape[1]
        held = self.residual if self.residual is not None else np.empty((0, dim), dtype=SCALE_DTYPE)
        pending = np.concatenate([held, rows.astype(SCALE_DTYPE)]).astype(np.float64)
        groups = pending.shape[0] // self.group
        if groups:
            blocks = pending[: groups * self.group].reshape(groups, self.group, dim)
            codes, low, scale = quantize(blocks, self.bits, axis=1)
            self.codes.append(codes.reshape(-1, dim))
            self.low.append(low)
            self.scale.append(scale)
        self.residual = pending[groups * self.group :].astype(SCALE_DTYPE)

    def decoded(self, dim: int) -> np.ndarray:
        parts = []
        if self.codes:
            codes = np.concatenate(self.codes).reshape(-1, self.group, dim)
            parts.append(dequantize(codes, np.concatenate(self.low), np.concatenate(self.scale), axis=1).reshape(-1, dim))
        if self.residual is not None:
            parts.append(self.residual.astype(np.float64))
        return np.concatenate(parts) if parts else _empty(dim)

    def write(self, writer: Writer, dim: int) -> None:
        join = lambda parts, shape, dt: (np.concatenate(parts) if parts else np.empty(shape)).astype(dt)  # noqa: E731
        writer.codes(join(self.codes, (0, dim), np.uint8), self.bits)
        writer.array(join(self.low, (0, dim), SCALE_DTYPE), SCALE_DTYPE)
        writer.array(join(self.scale, (0, dim), SCALE_DTYPE), SCALE_DTYPE)
        writer.array(self.residual if self.residual is not None else np.empty((0, dim)), SCALE_DTYPE)

    def read(self, reader: Reader, n: int, dim: int) -> None:
        groups, rest = divmod(n, self.group)
        full = groups * self.group
        codes = reader.codes(self.bits, full * dim).reshape(full, dim)
        low = reader.array(SCALE_DTYPE, (groups, dim))
        scale = reader.array(SCALE_DTYPE, (groups, dim))
        residual = reader.array(SCALE_DTYPE, (rest, dim))
        if groups:
            self.codes, self.low, self.scale = [codes], [low], [scale]
        self.residual = residual if n else None


class _TokenQuantized:
    """Values at ``bits`` bits with a float16 minimum and scale per token (KIVI values)."""

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.codes: list[np.ndarray] = []
        self.low: list[np.ndarray] = []
        self.scale: list[np.ndarray] = []

    def append(self, rows: np.ndarray) -> None:
        codes, low, scale = quantize(rows, self.bits, axis=1)
        self.codes.append(codes)
        self.low.append(low)
        self.scale.append(scale)

    def decoded(self, dim: int) -> np.ndarray:
        if not self.codes:
            return _empty(dim)
        return dequantize(np.concatenate(self.codes), np.concatenate(self.low), np.concatenate(self.scale), axis=1)

    def write(self, writer: Writer, dim: int) -> None:
        join = lambda parts, shape, dt: (np.concatenate(parts) if parts else np.empty(shape)).astype(dt)  # noqa: E731
        writer.codes(join(self.codes, (0, dim), np.uint8), self.bits)
        writer.array(join(self.low, (0,), SCALE_DTYPE), SCALE_DTYPE)
        writer.array(join(self.scale, (0,), SCALE_DTYPE), SCALE_DTYPE)

    def read(self, reader: Reader, n: int, dim: int) -> None:
        codes = reader.codes(self.bits, n * dim).reshape(n, dim)
        low = reader.array(SCALE_DTYPE, (n,))
        scale = reader.array(SCALE_DTYPE, (n,))
        if n:
            self.codes, self.low, self.scale = [codes], [low], [scale]


@dataclass
class QuantizedFourCache(TensorSidesCache):
    """The four caches at ``bits`` bits (KIVI style, :func:`caches.quantized.quantize`).

    ``K1`` and ``K2`` per channel over groups of ``group_size`` tokens (float16 residual for the
    open group), ``V1`` and ``V2`` per token; minimums and scales are float16; codes bit-packed.
    Memory ``≈ 4 n d · bits`` plus the scales and the residual, all counted.
    """

    bits: int = 4
    group_size: int = 64

    def __post_init__(self) -> None:
        self.bits = check_int("bits", self.bits, 1, 8)
        self.group_size = check_int("group_size", self.group_size, 1)
        self._keys = [_ChannelQuantized(self.bits, self.group_size) for _ in range(2)]
        self._values = [_TokenQuantized(self.bits) for _ in range(2)]
        self._seen, self._dims = 0, (0, 0)
        self._decoded = None

    def _admit(self, K1, K2, V1, V2) -> None:
        self._keys[0].append(K1)
        self._keys[1].append(K2)
        self._values[0].append(V1)
        self._values[1].append(V2)
        self._seen += K1.shape[0]
        self._dims = (K1.shape[1], V1.shape[1])
        self._decoded = None

    def _sides(self):
        if self._decoded is None:
            dim, dv = self._dims
            K1, K2 = (part.decoded(dim) for part in self._keys)
            V1, V2 = (part.decoded(dv) for part in self._values)
            self._decoded = ((K1, V1, None), (K2, V2, None))
        return self._decoded

    def to_bytes(self) -> bytes:
        dim, dv = self._dims
        writer = Writer(self._seen, dim).uint32(dv)
        for part in self._keys:
            part.write(writer, dim)
        for part in self._values:
            part.write(writer, dv)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "QuantizedFourCache":
        cache, reader = cls(**params), Reader(data)
        n, (dim, dv) = reader.tokens, _dims(reader)
        for part in cache._keys:
            part.read(reader, n, dim)
        for part in cache._values:
            part.read(reader, n, dv)
        reader.done()
        cache._seen, cache._dims = n, (dim, dv)
        return cache


# ---------------------------------------------------------------------------------------
# 5. SubGen-style four-cache


@dataclass
class SubGenFourCache(TensorAdmitCache):
    """SubGen (docs/theory.md §9) for tensor attention: cluster ``K1`` and ``K2``, sample values by norm.

    State (all from :mod:`caches.subgen`, reused, not copied):

    * two :class:`caches.subgen.OnlineClustering` (one for ``K1``, one for ``K2``): a key joins a
      centre within ``delta`` (centres never move), each cluster keeps its count ``n_c`` and ``t``
      reservoir keys;
    * two :class:`caches.subgen.ValueNormSampler` (``(k1, v1)`` and ``(k2, v2)``): ``s`` slots each,
      holding a pair with probability ``||v||^2 / μ``.

    **Output.** Denominator ``Ẑ = sum over product clusters (c1, c2) of (n_c1 n_c2 / t_c1 t_c2) sum
    over their reservoir pairs of exp(<q, k1 ∘ k2>)``: the pair softmax over *product clusters*.
    Numerator ``N̂ = sum_{i, j} exp(<q, k1_i ∘ k2_j>) (v1_i ∘ v2_j) / (s^2 p_i p_j)`` over the slot
    pairs, ``p = ||v||^2 / μ`` per side (the product of two importance-sampling measures, unbiased
    for the pair sum). The query's own token joins both sides of both sums exactly (weight 1).
    Output ``N̂ / Ẑ``, combined in the log domain (the exponent is clipped at 700 so an extreme
    estimate stays finite).

    **Guarantee (derived by the suite; certificates in :mod:`reductions.tensor`).** For a query
    ``q`` let ``ρ = delta (max_b ||q ∘ k2_b|| + max_a ||q ∘ k1_a||)`` over the tokens seen (own
    included). Every pair of a product cluster scores within ``ρ`` of its centre pair, because
    ``k1 ∘ k2 - u1 ∘ u2 = (k1 - u1) ∘ k2 + u1 ∘ (k2 - u2)``; so, deterministically,
    ``e^{-2ρ} <= Ẑ / Z <= e^{2ρ}``. The numerator is unbiased with
    ``E||N̂ - N||^2 <= (9/s) ||V1||_F^2 ||V2||_F^2 sum_pairs e^{2 s_ab}``. Hence, with probability
    at least ``1 - p`` (Chebyshev),
    ``||Ô - TAttn|| <= e^{2ρ} (3/sqrt(s p)) ||V1||_F ||V2||_F ||softmax||_2 + (e^{2ρ} - 1) ||TAttn||``,
    the analogue of SubGen's ``ε ||softmax|| ||V||`` bound (HO Theorem 11), with Frobenius norms of
    the two value caches and the cluster factor made explicit. Memory ``O(d (m1 t + m2 t + s))``.

    Parameters: ``delta >= 0`` (join radius of both clusterings), ``t >= 1`` (reservoir keys per
    cluster), ``s >= 1`` (value-norm samples per side), ``seed >= 0``, ``dtype``. Values must have
    the keys' dimension.
    """

    delta: float = 0.5
    t: int = 4
    s: int = 16
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.delta = check_real("delta", self.delta, 0.0)
        self.t = check_int("t", self.t, 1)
        self.s = check_int("s", self.s, 1)
        self.seed = check_int("seed", self.seed, 0)
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._seen, self._dim = 0, 0
        self._clusterings = None  # (K1, K2) OnlineClustering
        self._samplers = None  # ((k1, v1), (k2, v2)) ValueNormSampler

    def _components(self, dim: int) -> None:
        self._dim = dim
        self._clusterings = tuple(OnlineClustering(dim, self.delta, self.t, self.seed, stream=side, dtype=self.dtype)
                                  for side in (0, 1))
        self._samplers = tuple(ValueNormSampler(dim, self.s, self.seed, stream=2 + side, dtype=self.dtype)
                               for side in (0, 1))

    @property
    def clusters(self) -> tuple[int, int]:
        """``(m1, m2)``: clusters opened on the ``K1`` and ``K2`` sides."""
        return (0, 0) if self._clusterings is None else tuple(c.clusters for c in self._clusterings)

    def _admit(self, K1, K2, V1, V2) -> None:
        if K1.shape[0] == 0:
            return
        dims = {K1.shape[1], K2.shape[1], V1.shape[1], V2.shape[1]}
        if len(dims) != 1:
            raise ParameterError(f"SubGenFourCache needs k1, k2, v1, v2 of one dimension, got {sorted(dims)}")
        if self._clusterings is None:
            self._components(K1.shape[1])
        elif K1.shape[1] != self._dim:
            raise ParameterError(f"keys must have dimension {self._dim}, got {K1.shape[1]}")
        for clustering, keys in zip(self._clusterings, (K1, K2)):
            clustering.add(keys)
        for sampler, keys, values in zip(self._samplers, (K1, K2), (V1, V2)):
            sampler.add(keys, values)
        self._seen += K1.shape[0]

    def estimates(self, Q, K1, K2, V1, V2) -> tuple[PairSoftmax, PairSoftmax]:
        """The numerator's and the denominator's pair sums for each probe row (state unchanged)."""
        Q, *own = (np.atleast_2d(_f64(a)) for a in (Q, K1, K2, V1, V2))
        dim = Q.shape[1]
        if self._clusterings is None:
            empty = (_empty(dim), _empty(dim), None)
            return (tensor_pair_sums(Q, empty, empty, own=own),) * 2
        numerator_sides = [(sampler.keys, sampler.numerator_rows(), None) for sampler in self._samplers]
        denominator_sides = []
        for clustering in self._clusterings:
            keys, weights, _, _ = clustering.samples()
            denominator_sides.append((keys, np.zeros_like(keys), weights))  # values unused by Ẑ
        numerator = tensor_pair_sums(Q, *numerator_sides, own=own)
        denominator = tensor_pair_sums(Q, *denominator_sides, own=own)
        return numerator, denominator

    def probe(self, Q, K1, K2, V1, V2) -> np.ndarray:
        numerator, denominator = self.estimates(Q, K1, K2, V1, V2)
        shift = np.minimum(numerator.top - denominator.top, 700.0)
        return numerator.u * (np.exp(shift) / denominator.z)[:, None]

    def to_bytes(self) -> bytes:
        writer = Writer(self._seen, self._dim)
        if self._clusterings is not None:
            for part in (*self._clusterings, *self._samplers):
                part.write(writer)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "SubGenFourCache":
        cache, reader = cls(**params), Reader(data)
        if reader.tokens:
            dim = check_int("message dimension", reader.dim, 1)
            cache._dim = dim
            cache._clusterings = tuple(
                OnlineClustering.read(reader, dim, cache.delta, cache.t, cache.seed, stream=side, dtype=cache.dtype)
                for side in (0, 1))
            cache._samplers = tuple(
                ValueNormSampler.read(reader, dim, cache.s, cache.seed, seen=reader.tokens, stream=2 + side,
                                      dtype=cache.dtype)
                for side in (0, 1))
        reader.done()
        cache._seen = reader.tokens
        return cache


# ---------------------------------------------------------------------------------------
# 6. Below n·d bits (docs/theory.md §8): pooled quantization, and hashed keys with one-bit values


def pool_rows(rows: np.ndarray, pool: int) -> np.ndarray:
    """Each row's means over consecutive blocks of ``pool`` coordinates (the last block may be shorter)."""
    rows = _f64(rows)
    starts = np.arange(0, rows.shape[1], pool)
    counts = np.minimum(starts + pool, rows.shape[1]) - starts
    return np.add.reduceat(rows, starts, axis=1) / counts if rows.shape[1] else rows


def unpool_rows(pooled: np.ndarray, pool: int, dim: int) -> np.ndarray:
    """Inverse of :func:`pool_rows` up to the averaging: every coordinate takes its block's mean."""
    return np.repeat(pooled, pool, axis=1)[:, :dim]


@dataclass
class PooledQuantizedFourCache(TensorSidesCache):
    """The four caches averaged over blocks of ``pool`` coordinates, then quantized at ``bits`` bits.

    Every array (``K1, K2, V1, V2``) is pooled to ``ceil(d/pool)`` coordinates per token (the block
    means) and quantized per channel over groups of ``group_size`` tokens, KIVI-key style, by the
    same code as :class:`QuantizedFourCache` (float16 minimum and scale per group and channel, the
    open group in float16). A coordinate decodes as its block's mean. Memory
    ``≈ 4 n ceil(d/pool) (bits + 32/group_size)`` bits: ``bits/pool`` bits per entry of each array
    reaches below one bit per entry, for a ratio to ``n·d`` of about ``4 (bits + 0.5)/pool``.
    """

    bits: int = 1
    pool: int = 8
    group_size: int = 64

    def __post_init__(self) -> None:
        self.bits = check_int("bits", self.bits, 1, 8)
        self.pool = check_int("pool", self.pool, 1)
        self.group_size = check_int("group_size", self.group_size, 1)
        self._arrays = [_ChannelQuantized(self.bits, self.group_size) for _ in range(4)]  # K1, K2, V1, V2
        self._seen, self._dims = 0, (0, 0)
        self._decoded = None

    def _widths(self) -> list[int]:
        dim, dv = self._dims
        return [-(-w // self.pool) for w in (dim, dim, dv, dv)]

    def _admit(self, K1, K2, V1, V2) -> None:
        if K1.shape[0] == 0:
            return
        for part, rows in zip(self._arrays, (K1, K2, V1, V2)):
            part.append(pool_rows(rows, self.pool))
        self._seen += K1.shape[0]
        self._dims = (K1.shape[1], V1.shape[1])
        self._decoded = None

    def _sides(self):
        if self._decoded is None:
            dim, dv = self._dims
            K1, K2, V1, V2 = (unpool_rows(part.decoded(width), self.pool, full)
                              for part, width, full in zip(self._arrays, self._widths(), (dim, dim, dv, dv)))
            self._decoded = ((K1, V1, None), (K2, V2, None))
        return self._decoded

    def to_bytes(self) -> bytes:
        writer = Writer(self._seen, self._dims[0]).uint32(self._dims[1])
        for part, width in zip(self._arrays, self._widths()):
            part.write(writer, width)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "PooledQuantizedFourCache":
        cache, reader = cls(**params), Reader(data)
        n, (dim, dv) = reader.tokens, _dims(reader)
        cache._seen, cache._dims = n, (dim, dv)
        for part, width in zip(cache._arrays, cache._widths()):
            part.read(reader, n, width)
        reader.done()
        return cache


class _BinarizedRows:
    """Rows at one bit per entry, two float16 levels per group of ``group`` rows (as
    :class:`caches.designed.HashedBitsCache`'s values, through :func:`caches.designed.binarize`),
    optionally under the covering code with ``parity`` parity bits (:mod:`caches.bitcode`). A group
    whose two levels coincide (a constant block) stores no bits: it decodes exactly from its level.
    The rows of the open group wait at float16.
    """

    def __init__(self, parity: int, group: int) -> None:
        self.parity, self.group = parity, group
        self.info: list[np.ndarray | None] = []
        self.levels: list[tuple[float, float]] = []
        self.residual: np.ndarray | None = None

    def per_row(self, dim: int) -> int:
        return dim if self.parity == 0 else -(-dim // BLOCK) * covering_code(self.parity).info

    def append(self, rows: np.ndarray) -> None:
        held = self.residual if self.residual is not None else np.empty((0, rows.shape[1]), dtype=LEVEL_DTYPE)
        pending = np.concatenate([held, rows.astype(LEVEL_DTYPE)]).astype(np.float64)
        groups = pending.shape[0] // self.group
        for g in range(groups):
            bits, low, high = binarize(pending[g * self.group : (g + 1) * self.group])
            if low == high:
                bits = None
            elif self.parity:
                bits = covering_code(self.parity).encode(blocks_of(bits)).reshape(self.group, -1)
            self.info.append(bits)
            self.levels.append((low, high))
        self.residual = pending[groups * self.group :].astype(LEVEL_DTYPE)

    def decoded(self, dim: int) -> np.ndarray:
        parts = []
        for info, (low, high) in zip(self.info, self.levels):
            if info is None:
                parts.append(np.full((self.group, dim), low))
                continue
            bits = info
            if self.parity:
                code = covering_code(self.parity)
                bits = rows_of(code.decode(info.reshape(-1, code.info)), self.group, dim)
            parts.append(low + (high - low) * bits.astype(np.float64))
        if self.residual is not None:
            parts.append(self.residual.astype(np.float64))
        return np.concatenate(parts) if parts else _empty(dim)

    def write(self, writer: Writer, dim: int) -> None:
        writer.array(np.asarray(self.levels, dtype=LEVEL_DTYPE).reshape(-1, 2), LEVEL_DTYPE)
        stored = [info for info in self.info if info is not None]
        writer.codes(np.concatenate(stored) if stored else np.empty((0,), np.uint8), 1)
        writer.array(self.residual if self.residual is not None else np.empty((0, dim)), LEVEL_DTYPE)

    def read(self, reader: Reader, n: int, dim: int) -> None:
        groups, rest = divmod(n, self.group)
        levels = reader.array(LEVEL_DTYPE, (groups, 2)).astype(np.float64)
        varying = [bool(low != high) for low, high in levels]
        per_row = self.per_row(dim)
        bits = reader.codes(1, sum(varying) * self.group * per_row).reshape(sum(varying), self.group, per_row)
        stored = iter(bits)
        self.info = [next(stored) if v else None for v in varying]
        self.levels = [(float(low), float(high)) for low, high in levels]
        self.residual = reader.array(LEVEL_DTYPE, (rest, dim)) if n else None


@dataclass
class HashedBitsFourCache(TensorAdmitCache):
    """The designed tensor cache: :class:`caches.designed.HashedBitsCache`'s machinery on the four caches.

    * ``K1``: an ``hash_bits``-bit SimHash per token (norm taken as 1), as HashedBitsCache's keys;
    * ``K2``, ``V1``, ``V2``: one bit per entry with two float16 levels per group of ``group_size``
      tokens, optionally under the covering code with ``parity`` parity bits (rate
      ``1 - parity/32``); a constant group stores only its levels (:class:`_BinarizedRows`).

    **Output.** The pair ``(a, b)`` scores ``<q, k1_a ∘ k2_b> = <q ∘ k2_b, k1_a>``; with ``k2_b`` decoded,
    the SimHash estimate ``||q ∘ k2_b|| cos(pi h / m)``, ``h`` the Hamming distance between the
    hashes of ``q ∘ k2_b`` and ``k1_a``. Pairs with the query's own token use its exact ``k1``
    (its own ``k2`` enters the hashed estimate); the softmax over all ``(n+1)^2`` pairs is exact
    given these scores. Tuned for the tensor INDEX game (``K2 = V2 = 1``, two-valued ``V1``), where
    the memory is ``≈ n (hash_bits + d (1 - parity/32))`` bits; on other streams it is a crude
    approximation, all of it counted.
    """

    hash_bits: int = 14
    parity: int = 0
    group_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        self.hash_bits = check_int("hash_bits", self.hash_bits, 1, 1 << 12)
        self.parity = check_int("parity", self.parity, 0, 12)
        self.group_size = check_int("group_size", self.group_size, 1)
        self.seed = check_int("seed", self.seed, 0)
        self._hashes = np.empty((0, self.hash_bits), dtype=np.uint8)
        self._binarized = [_BinarizedRows(self.parity, self.group_size) for _ in range(3)]  # K2, V1, V2
        self._seen, self._dims = 0, (0, 0)
        self._decoded = None

    def _projection(self) -> np.ndarray:
        return jl_projection(self.seed, self.hash_bits, self._dims[0])

    def _admit(self, K1, K2, V1, V2) -> None:
        if K1.shape[0] == 0:
            return
        self._dims = (K1.shape[1], V1.shape[1])
        self._hashes = np.concatenate([self._hashes, sign_sketch(K1, self._projection())])
        for part, rows in zip(self._binarized, (K2, V1, V2)):
            part.append(rows)
        self._seen += K1.shape[0]
        self._decoded = None

    def _stored(self):
        if self._decoded is None:
            dim, dv = self._dims
            self._decoded = tuple(part.decoded(w) for part, w in zip(self._binarized, (dim, dv, dv)))
        return self._decoded

    def probe(self, Q, K1, K2, V1, V2) -> np.ndarray:
        Q, K1o, K2o, V1o, V2o = (np.atleast_2d(_f64(a)) for a in (Q, K1, K2, V1, V2))
        if self._seen == 0:
            return tensor_pair_sums(Q, (_empty(Q.shape[1]), _empty(V1o.shape[1])),
                                    (_empty(Q.shape[1]), _empty(V1o.shape[1])), own=(K1o, K2o, V1o, V2o)).output()
        K2s, V1s, V2s = self._stored()
        projection, m = self._projection(), self.hash_bits
        signs1 = 2.0 * self._hashes.astype(np.float64) - 1.0  # (n1, m)
        n2 = K2s.shape[0]
        out = np.empty((Q.shape[0], V1o.shape[1]))
        span = max(1, min(CHUNK_ROWS, BLOCK_ELEMENTS // max(1, (self._seen + 1) * (n2 + 1) * 4)))
        for start in range(0, Q.shape[0], span):
            r = slice(start, start + span)
            rows = Q[r].shape[0]
            side2 = np.concatenate([np.broadcast_to(K2s, (rows, *K2s.shape)), K2o[r][:, None, :]], axis=1)
            mixed = Q[r][:, None, :] * side2  # q ∘ k2_b, (rows, n2 + 1, d)
            signs2 = 2.0 * sign_sketch(mixed.reshape(-1, mixed.shape[2]), projection).reshape(rows, n2 + 1, m) - 1.0
            distance = 0.5 * (m - (signs2.reshape(-1, m) @ signs1.T).reshape(rows, n2 + 1, -1).transpose(0, 2, 1))
            scores = np.cos(np.pi * distance / m) * np.linalg.norm(mixed, axis=2)[:, None, :]
            own = np.einsum("rbd,rd->rb", mixed, K1o[r])[:, None, :]  # exact <q ∘ k2_b, k1_o>
            scores = np.concatenate([scores, own], axis=1)  # (rows, n1 + 1, n2 + 1)
            scores -= scores.max(axis=(1, 2), keepdims=True)
            weights = np.exp(scores)
            # sum_b W_ab v2_b: the stored rows in one product, the own token's column added
            paired = (weights[:, :, :n2].reshape(-1, n2) @ V2s).reshape(rows, weights.shape[1], -1)
            paired += weights[:, :, n2:] * V2o[r][:, None, :]
            numerator = np.einsum("aj,raj->rj", V1s, paired[:, :-1]) + V1o[r] * paired[:, -1]
            out[r] = numerator / weights.sum(axis=(1, 2))[:, None]
        return out

    def to_bytes(self) -> bytes:
        dim, dv = self._dims
        writer = Writer(self._seen, dim).uint32(dv).codes(self._hashes, 1)
        for part, width in zip(self._binarized, (dim, dv, dv)):
            part.write(writer, width)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "HashedBitsFourCache":
        cache, reader = cls(**params), Reader(data)
        n, (dim, dv) = reader.tokens, _dims(reader)
        cache._hashes = reader.codes(1, n * cache.hash_bits).reshape(n, cache.hash_bits)
        for part, width in zip(cache._binarized, (dim, dv, dv)):
            part.read(reader, n, width)
        reader.done()
        cache._seen, cache._dims = n, (dim, dv)
        return cache
