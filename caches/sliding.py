"""Sliding-window attention with unmasked values (HO §4.1, eq. 20) and the streaming algorithms for it.

At step ``i`` the keys of the last ``W`` tokens (the query's own token included) are scored as
usual; every older key gets score 0, so unnormalised weight ``e^0 = 1``, and its value still
counts (HO eq. 20, docs/theory.md §5)::

    Attn_W = ( Σ_{l in window} e^{<q,k_l>} v_l + Σ_{l outside} v_l ) / ( Σ_{l in window} e^{<q,k_l>} + (i - W) )

This module holds the reference (:func:`windowed_attention`, :func:`windowed_attention_stream`) and
three streaming algorithms, each a cache with the usual contract (:mod:`caches.base`):

* :class:`Algorithm1Cache`: HO Algorithm 1 as printed. The window's ``W`` keys and values, plus one
  value reservoir-sampled from the tokens that left the window. Each output is **one** sample:
  an in-window value with probability ``Σ_win e^{s_l} / S`` (the index drawn ``∝ e^{s_l}``), else
  the reservoir value, where ``S = (i - W) + Σ_win e^{s_l}``. Unbiased (HO Theorem 24).
* :class:`BoostedWindowCache`: HO Theorem 25. ``copies·groups`` runs of Algorithm 1 that share the
  window and keep their own reservoirs; the output is the median of ``groups`` means of ``copies``
  samples each.
* :class:`RunningSumWindowCache`: the observation of docs/theory.md §5 (not in the paper). Out-of-window
  tokens all weigh exactly 1, so the window plus the running sum of the values that left it (and
  their count, which is ``i - W``) give ``Attn_W`` exactly in ``O(dW)`` words, deterministically.

The plain :class:`caches.eviction.WindowCache` (drop old values, ordinary softmax over the kept
tokens) is the common practice; it is biased for ``Attn_W`` (``reductions.alg1`` measures it).

Conventions shared by the three caches: the state between steps is the last ``window`` tokens
(Algorithm 1 stores ``W`` of them and pops the oldest when the next token arrives), kept at
``dtype``, plus the out-of-window summary (the sum in float64, or the reservoirs at ``dtype``).
The out-of-window count is ``max(0, tokens - window)`` and comes from the message header. A value
is rounded to ``dtype`` when it enters the window, so the summaries see the same rounded values
whether tokens arrive one by one or in a batch.

Randomness (the sampling caches): the step at (1-based) position ``t`` takes one pair of uniforms
per run (reservoir decision, output choice), row ``(t-1) mod DRAW_BLOCK`` of the block of draws from
``numpy.random.default_rng([seed, WINDOW_SAMPLER_STREAM, (t-1) // DRAW_BLOCK])`` (a generator per
block of steps, not per token). The state needs no generator, a rebuilt cache continues with the
same draws, ``probe`` gives exactly what ``step`` would, and run 0 of a boosted cache is the
:class:`Algorithm1Cache` with the same seed. Probe rows are all "the next token", so they share
the draws of that position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from caches.attention import CHUNK_ROWS, attention_with_own_token
from caches.base import ProbeThenExtend
from caches.codec import FLOAT_DTYPES, HEADER_BYTES, Reader, Writer
from caches.params import ParameterError, check_choice, check_int
from caches.rows import RowBuffer

__all__ = [
    "windowed_weights",
    "windowed_attention",
    "windowed_attention_stream",
    "RunningSumWindowCache",
    "Algorithm1Cache",
    "BoostedWindowCache",
    "WINDOW_CACHES",
    "ZOO_FAMILIES",
]


# --- the reference (HO eq. 20) --------------------------------------------------------------


def _as_rows(name: str, array) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise ParameterError(f"{name} must be a 2-d array (tokens x d), got shape {array.shape}")
    return array


def windowed_weights(q: np.ndarray, K: np.ndarray, window: int) -> np.ndarray:
    """The distribution ``softmax(S ∘ M)`` of HO eq. 20 over the ``n`` tokens of ``K`` (last row = own token).

    In-window tokens (the last ``window``) weigh ``e^{<q,k_l>}``, the others ``e^0 = 1``.
    """
    window = check_int("window", window, 1)
    K = _as_rows("K", K)
    scores = np.zeros(K.shape[0])
    cut = max(0, K.shape[0] - window)
    scores[cut:] = K[cut:] @ np.asarray(q, dtype=np.float64)
    weights = np.exp(scores - scores.max())
    return weights / weights.sum()


def windowed_attention(q: np.ndarray, K: np.ndarray, V: np.ndarray, window: int) -> np.ndarray:
    """``Attn_W(q, K, V)`` (HO eq. 20) for one query; the last row of ``K, V`` is the query's own token."""
    window = check_int("window", window, 1)
    K, V = _as_rows("K", K), _as_rows("V", V)
    cut = max(0, K.shape[0] - window)
    scores = K[cut:] @ np.asarray(q, dtype=np.float64)
    top = max(scores.max(), 0.0) if cut else scores.max()
    weights = np.exp(scores - top)
    outside = cut * np.exp(-top)
    return (weights @ V[cut:] + np.exp(-top) * V[:cut].sum(axis=0)) / (weights.sum() + outside)


def windowed_attention_stream(Q: np.ndarray, K: np.ndarray, V: np.ndarray, window: int) -> np.ndarray:
    """``Attn_W(q_i, K_i, V_i)`` for every step ``i`` of a stream (row ``i-1`` of the result), vectorized.

    The in-window scores come from a sliding view of the keys; the out-of-window part is the
    prefix sum of the values (the same observation the running-sum cache uses, computed offline).
    """
    window = check_int("window", window, 1)
    Q, K, V = _as_rows("Q", Q), _as_rows("K", K), _as_rows("V", V)
    n, d = K.shape
    out = np.empty((n, V.shape[1]))
    prefix = np.vstack([np.zeros((1, V.shape[1])), np.cumsum(V, axis=0)])
    padded_k = np.vstack([np.zeros((window - 1, d)), K])
    padded_v = np.vstack([np.zeros((window - 1, V.shape[1])), V])
    key_windows = sliding_window_view(padded_k, window, axis=0)  # (n, d, window), token t-window+1+j
    value_windows = sliding_window_view(padded_v, window, axis=0)
    for start in range(0, n, CHUNK_ROWS):
        rows = np.arange(start, min(n, start + CHUNK_ROWS))
        scores = np.einsum("rdw,rd->rw", key_windows[rows], Q[rows])
        valid = np.arange(window)[None, :] >= (window - 1 - rows)[:, None]
        scores = np.where(valid, scores, -np.inf)
        count = np.maximum(0, rows + 1 - window)
        top = np.maximum(scores.max(axis=1), np.where(count > 0, 0.0, -np.inf))
        weights = np.exp(scores - top[:, None])
        outside = count * np.exp(-top)
        numerator = np.einsum("rw,rdw->rd", weights, value_windows[rows]) + np.exp(-top)[:, None] * prefix[count]
        out[rows] = numerator / (weights.sum(axis=1) + outside)[:, None]
    return out


# --- shared window state ----------------------------------------------------------------------


class _WindowState(ProbeThenExtend):
    """The last ``window`` tokens at ``dtype`` and the token count; subclasses summarise what left.

    Subclasses are dataclasses with ``window`` and ``dtype`` fields; they call ``_init_window()``
    in ``__post_init__`` and implement ``_absorb`` (tokens leaving the window, in order),
    ``_summary_bits``, ``_write_summary``/``_read_summary`` and ``_probe_after_pop``.
    """

    window: int
    dtype: str

    def _init_window(self) -> None:
        self.window = check_int("window", self.window, 1)
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        self._keys = RowBuffer(self.dtype)
        self._values = RowBuffer(self.dtype)
        self._seen = 0

    # state ------------------------------------------------------------------------------------

    @property
    def tokens_seen(self) -> int:
        return self._seen

    @property
    def outside_count(self) -> int:
        """Tokens that have left the window (each weighs 1 in eq. 20)."""
        return max(0, self._seen - self.window)

    def _kept(self) -> tuple[np.ndarray, np.ndarray]:
        return (self._keys.rows.astype(np.float64, copy=False), self._values.rows.astype(np.float64, copy=False))

    def _absorb(self, positions: np.ndarray, values: np.ndarray) -> None:
        """Values (float64, rounded to dtype) leaving the window at the 1-based steps ``positions``."""
        raise NotImplementedError

    def extend(self, Q, K, V) -> None:
        K = _as_rows("K", K)
        V = _as_rows("V", V)
        m = K.shape[0]
        if m == 0:
            return
        # The tokens leaving at steps seen+1 .. seen+m are the oldest kept ones (the window starts at
        # the first of them), then the first new ones: two contiguous slices, no gather.
        last_leaving = self._seen + m - self.window  # 1-based index of the last token that leaves
        if last_leaving > 0:
            first_kept = max(1, self._seen - self.window + 1)
            from_kept = self._values.rows[: max(0, min(self._seen, last_leaving) - first_kept + 1)]
            from_new = V[: max(0, last_leaving - self._seen)]
            leaving = np.empty((from_kept.shape[0] + from_new.shape[0], V.shape[1]))
            if from_kept.size:
                leaving[: from_kept.shape[0]] = from_kept
            leaving[from_kept.shape[0] :] = from_new.astype(self.dtype, copy=False)  # rounded as the window stores it
            steps = np.arange(last_leaving - leaving.shape[0] + 1, last_leaving + 1) + self.window
            self._absorb(steps, leaving)
        self._keys.append(K[-self.window :].astype(self.dtype))
        self._values.append(V[-self.window :].astype(self.dtype))
        self._keys.keep_last(self.window)
        self._values.keep_last(self.window)
        self._seen += m

    # probe ------------------------------------------------------------------------------------

    def probe(self, Q, K, V) -> np.ndarray:
        Q, K, V = _as_rows("Q", Q), _as_rows("K", K), _as_rows("V", V)
        keys, values = self._kept()
        position = self._seen + 1
        if position <= self.window:  # no token has left: Attn_W is plain attention
            return attention_with_own_token(Q, K, V, keys.reshape(-1, K.shape[1]), values.reshape(-1, V.shape[1]))
        # The oldest kept token leaves the window at this step.
        return self._probe_after_pop(Q, K, V, keys[1:], values[1:], values[0], position)

    def _probe_after_pop(self, Q, K, V, keys, values, leaving, position) -> np.ndarray:
        raise NotImplementedError

    # serialization ----------------------------------------------------------------------------

    def _summary_bits(self, d: int) -> int:
        """Bits of the out-of-window summary for dimension ``d``."""
        raise NotImplementedError

    def budget_bits(self, n: int, d: int) -> int:
        """The message size after ``n`` tokens of dimension ``d`` (it depends only on n, d): ``O(dW)``."""
        rows = min(n, self.window) * 2 * d * 8 * np.dtype(self.dtype).itemsize
        return 8 * HEADER_BYTES + rows + (self._summary_bits(d) if n > self.window else 0)

    def to_bytes(self) -> bytes:
        keys, values = self._keys.rows, self._values.rows
        dim = keys.shape[1] if keys.size else 0
        writer = Writer(self._seen, dim).array(keys, self.dtype).array(values, self.dtype)
        if self.outside_count:
            self._write_summary(writer)
        return writer.finish()

    def _write_summary(self, writer: Writer) -> None:
        raise NotImplementedError

    def _read_summary(self, reader: Reader) -> None:
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, data, **params):
        cache = cls(**params)
        reader = Reader(data)
        kept = min(reader.tokens, cache.window)
        keys = reader.array(cache.dtype, (kept, reader.dim))
        values = reader.array(cache.dtype, (kept, reader.dim))
        if kept:
            cache._keys.append(keys)
            cache._values.append(values)
        cache._seen = reader.tokens
        if cache.outside_count:
            cache._read_summary(reader)
        reader.done()
        return cache


# --- exact: window + running sum --------------------------------------------------------------


@dataclass
class RunningSumWindowCache(_WindowState):
    """``Attn_W`` exactly in ``O(dW)`` words: the window plus the running sum of the values that left it.

    docs/theory.md §5 observation (not in HO): every out-of-window token weighs exactly ``e^0 = 1`` in
    eq. 20, so its contribution to the numerator is the plain sum of those values and to the
    denominator their count ``i - W``. The message is the last ``window`` keys and values at
    ``dtype`` and the ``d``-dimensional sum in float64 (accumulated left to right, so a batch and
    single steps give the same bits). With ``dtype="float64"`` the output equals eq. 20 up to
    floating-point rounding: no sampling, no bias.
    """

    window: int = 128
    dtype: str = "float64"

    def __post_init__(self) -> None:
        self._init_window()
        self._sum: np.ndarray | None = None

    @property
    def outside_sum(self) -> np.ndarray | None:
        """Σ of the values that have left the window (``None`` before the first one leaves)."""
        return None if self._sum is None else self._sum.copy()

    def _absorb(self, positions, values) -> None:
        accumulated = np.empty((values.shape[0] + 1, values.shape[1]))
        accumulated[0] = 0.0 if self._sum is None else self._sum
        accumulated[1:] = values
        # A reduction over the rows of a C-ordered array adds them one after another, like single steps.
        self._sum = np.add.reduce(accumulated, axis=0)

    def _probe_after_pop(self, Q, K, V, keys, values, leaving, position):
        count = position - self.window
        start = np.zeros_like(leaving) if self._sum is None else self._sum
        total = np.cumsum(np.vstack([start, leaving]), axis=0)[-1]
        # The out-of-window tokens act as one pseudo-token of score 0 (key 0), value total/count,
        # multiplicity count: weight count * e^0 and contribution total.
        pseudo_key = np.zeros((1, keys.shape[1]))
        return attention_with_own_token(
            Q, K, V, np.vstack([keys, pseudo_key]), np.vstack([values, total / count]),
            np.concatenate([np.ones(keys.shape[0]), [float(count)]]),
        )

    def _summary_bits(self, d: int) -> int:
        return 64 * d

    def _write_summary(self, writer: Writer) -> None:
        writer.array(self._sum, "float64")

    def _read_summary(self, reader: Reader) -> None:
        self._sum = reader.array("float64", (reader.dim,))


# --- sampling: Algorithm 1 and its boosted form ------------------------------------------------

#: Steps per block of public draws (one generator per block, not one per token).
DRAW_BLOCK = 1024
#: Tags the window samplers' generators, apart from any other ``default_rng([seed, ...])`` of a run.
WINDOW_SAMPLER_STREAM = 0x57494E44


class _WindowSampler(_WindowState):
    """``samples`` independent runs of HO Algorithm 1 sharing one window (each keeps its own reservoir)."""

    seed: int

    def _init_sampler(self) -> None:
        self.seed = check_int("seed", self.seed, 0)
        self._init_window()
        self._reservoir: np.ndarray | None = None  # (samples, d) at dtype, once a token has left
        self._block_draws: tuple[int, np.ndarray] | None = None  # the last block of draws (public: seed only)

    @property
    def samples(self) -> int:
        """How many runs of Algorithm 1 the cache keeps (``T·Q`` for the boosted form)."""
        raise NotImplementedError

    @property
    def reservoir(self) -> np.ndarray | None:
        """One reservoir value per run (``None`` before the first token leaves the window)."""
        return None if self._reservoir is None else self._reservoir.astype(np.float64)

    def _draws(self, positions: np.ndarray) -> np.ndarray:
        """The uniforms of the steps ``positions`` (1-based): ``(len(positions), samples, 2)``.

        Run ``r`` at step ``t`` takes the pair (reservoir decision, output choice) at ``[t, r]``.
        Steps come in blocks of :data:`DRAW_BLOCK`; block ``b`` is drawn from
        ``default_rng([seed, WINDOW_SAMPLER_STREAM, b])`` run by run, so run 0 does not depend on
        how many runs there are (run 0 of every cache with the same seed makes the same draws).
        """
        positions = np.asarray(positions, dtype=np.int64)
        blocks = (positions - 1) // DRAW_BLOCK
        out = np.empty((positions.size, self.samples, 2))
        for block in np.unique(blocks):
            if self._block_draws is None or self._block_draws[0] != block:
                rng = np.random.default_rng([self.seed, WINDOW_SAMPLER_STREAM, int(block)])
                self._block_draws = (int(block), rng.random((self.samples, DRAW_BLOCK, 2)).transpose(1, 0, 2))
            mine = blocks == block
            out[mine] = self._block_draws[1][(positions[mine] - 1) % DRAW_BLOCK]
        return out

    def _absorb(self, positions, values) -> None:
        # Reservoir sampling over the values that left the window (HO Algorithm 1, step 3): the
        # token leaving at step t replaces a run's reservoir with probability 1/(t - W); the last
        # replacement of the batch stays.
        replaces = self._draws(positions)[:, :, 0] * (positions - self.window)[:, None] < 1.0  # (steps, runs)
        took = replaces.any(axis=0)
        last = positions.size - 1 - np.argmax(replaces[::-1], axis=0)
        if self._reservoir is None:
            self._reservoir = np.zeros((self.samples, values.shape[1]), dtype=self.dtype)
        self._reservoir[took] = values[last[took]].astype(self.dtype)

    def _combine(self, samples: np.ndarray) -> np.ndarray:
        """One output per probe row from its ``(rows, samples, d)`` draws."""
        raise NotImplementedError

    def _sample_after_pop(self, Q, K, V, keys, values, leaving, position) -> np.ndarray:
        """Per-run outputs ``(rows, samples, d)`` of the step at ``position`` (a token leaves the window)."""
        count = position - self.window  # tokens outside the window, each of weight 1
        u_reservoir, u_output = self._draws(np.array([position]))[0].T
        old = np.zeros((self.samples, leaving.size)) if self._reservoir is None else self.reservoir
        reservoir = np.where((u_reservoir * count < 1.0)[:, None], leaving[None, :], old)
        # In-window scores: the W-1 kept tokens, then the row's own token.
        scores = np.concatenate([Q @ keys.T, np.einsum("rd,rd->r", Q, K)[:, None]], axis=1)
        top = np.maximum(scores.max(axis=1), 0.0)
        weights = np.exp(scores - top[:, None])
        total = weights.sum(axis=1) + count * np.exp(-top)  # S = (i - W) + Σ_win e^{s_l}, rescaled
        cumulative = np.cumsum(weights, axis=1)
        targets = u_output[None, :] * total[:, None]  # (rows, samples)
        # In the window with probability Σ_win e^{s_l}/S, index ∝ e^{s_l}; else the reservoir.
        index = (cumulative[:, None, :] <= targets[:, :, None]).sum(axis=2)
        kept = keys.shape[0]
        draws = values[np.minimum(index, max(kept - 1, 0))] if kept else np.zeros(index.shape + (V.shape[1],))
        draws = np.where((index == kept)[..., None], V[:, None, :], draws)
        return np.where((index > kept)[..., None], reservoir[None, :, :], draws)

    def _probe_after_pop(self, Q, K, V, keys, values, leaving, position):
        return self._combine(self._sample_after_pop(Q, K, V, keys, values, leaving, position))

    def probe_samples(self, Q, K, V) -> np.ndarray:
        """Every run's output ``(rows, samples, d)`` as if the row's triple were appended; state unchanged.

        Before any token has left the window all runs output the exact ``Attn_W``.
        """
        Q, K, V = _as_rows("Q", Q), _as_rows("K", K), _as_rows("V", V)
        keys, values = self._kept()
        position = self._seen + 1
        if position <= self.window:
            exact = attention_with_own_token(Q, K, V, keys.reshape(-1, K.shape[1]), values.reshape(-1, V.shape[1]))
            return np.repeat(exact[:, None, :], self.samples, axis=1)
        return self._sample_after_pop(Q, K, V, keys[1:], values[1:], values[0], position)

    def step_samples(self, q, k, v) -> np.ndarray:
        """Append the triple and return every run's output ``(samples, d)`` (the draws of :meth:`step`)."""
        q, k, v = (np.asarray(a, dtype=np.float64).reshape(1, -1) for a in (q, k, v))
        output = self.probe_samples(q, k, v)[0]
        self.extend(q, k, v)
        return output

    def _summary_bits(self, d: int) -> int:
        return self.samples * d * 8 * np.dtype(self.dtype).itemsize

    def _write_summary(self, writer: Writer) -> None:
        writer.array(self._reservoir, self.dtype)

    def _read_summary(self, reader: Reader) -> None:
        self._reservoir = reader.array(self.dtype, (self.samples, reader.dim))


@dataclass
class Algorithm1Cache(_WindowSampler):
    """HO Algorithm 1 as printed: window of ``W`` keys/values plus one reservoir-sampled value.

    For ``i <= W`` the output is ``Attn_W`` computed directly. From ``i = W+1`` on, the oldest
    token leaves the window and replaces the reservoir value with probability ``1/(i - W)``
    (Vitter's reservoir over the tokens outside the window); with ``S = (i-W) + Σ_win e^{<q_i,k_l>}``
    the output is, with probability ``(S - i + W)/S``, the value of an in-window token drawn
    ``∝ e^{<q_i,k_l>}``, else the reservoir value. One sample per step, unbiased (HO Theorem 24).
    Memory: ``2·W·d`` numbers at ``dtype`` plus ``d`` for the reservoir.
    """

    window: int = 128
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        self._init_sampler()

    @property
    def samples(self) -> int:
        return 1

    def _combine(self, samples):
        return samples[:, 0, :]


@dataclass
class BoostedWindowCache(_WindowSampler):
    """HO Theorem 25: median of ``groups`` (Q) means of ``copies`` (T) runs of Algorithm 1.

    The ``T·Q`` runs share the window (it is deterministic) and keep their own reservoirs and
    draws. Memory: the window's ``2·W·d`` numbers plus ``T·Q·d`` reservoir values. With
    ``T = 3 Var/(ε² E[O]²)`` and ``Q = Θ(log(1/δ))`` each coordinate is a ``(1±ε)``
    approximation with probability ``1-δ``, if ``|Attn_W| = Ω(1)`` (see ``reductions.alg1``).
    Run ``g·T + c`` is copy ``c`` of group ``g``; run 0 is :class:`Algorithm1Cache` with the same seed.
    """

    window: int = 128
    copies: int = 16
    groups: int = 3
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        self.copies = check_int("copies", self.copies, 1)
        self.groups = check_int("groups", self.groups, 1)
        self._init_sampler()

    @property
    def samples(self) -> int:
        return self.copies * self.groups

    def _combine(self, samples):
        rows, _, d = samples.shape
        means = samples.reshape(rows, self.groups, self.copies, d).mean(axis=2)
        return np.median(means, axis=1)


#: The window algorithms of this module, for registries of caches.
WINDOW_CACHES = (RunningSumWindowCache, Algorithm1Cache, BoostedWindowCache)


def _windows(n: int) -> list[int]:
    """Windows of the zoo members: n/32, n/8, n/2 and n tokens (as the zoo's eviction budgets)."""
    return sorted({max(2, n // f) for f in (32, 8, 2, 1)})


def running_sum_members(n: int, d: int) -> list:
    return [RunningSumWindowCache(window=w, dtype="float16") for w in _windows(n)]


def algorithm1_members(n: int, d: int) -> list:
    return [Algorithm1Cache(window=w, dtype="float16") for w in _windows(n)]


def boosted_members(n: int, d: int) -> list:
    return [BoostedWindowCache(window=max(2, n // 8), copies=8, groups=3, dtype="float16")]


#: ``caches.zoo.Family`` arguments (name, kind, source, members, label) of the window algorithms.
#: They compute eq. 20, not plain attention: in HO Theorem 6's game they decode the rows in their window.
ZOO_FAMILIES = (
    ("RunningSumWindowCache", "sliding window (eq. 20)", "docs/theory.md §5: window + running sum of old values",
     running_sum_members, "window + sum"),
    ("Algorithm1Cache", "sliding window (eq. 20)", "HO Algorithm 1 (Haris & Onak 2025)", algorithm1_members,
     "HO Alg. 1"),
    ("BoostedWindowCache", "sliding window (eq. 20)", "HO Theorem 25 (median of means of Alg. 1)", boosted_members,
     "HO Thm 25"),
)
