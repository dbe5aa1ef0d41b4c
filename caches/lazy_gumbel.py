"""Lazy Gumbel sampling (HO Algorithm 2, after Mussmann, Levy & Ermon 2017): exact softmax samples
from the top-k scores and a few tail scores.

The Gumbel-max trick: with i.i.d. ``G_l ~ Gumbel(0, 1)``, ``argmax_l (Z_l + G_l)`` is distributed
as ``softmax(Z)``. Algorithm 2 (docs/theory.md §4) needs Gumbels only where they can matter:

1. ``S`` = the ``k`` largest scores; draw ``G_l`` for ``l in S``.
2. ``M = max_{l in S}(Z_l + G_l)``, ``S_min = min_{l in S} Z_l``, cutoff ``B = M - S_min``
   (``B = M - S_min - c`` when the top-k is only correct up to an additive ``c``, the ``slack``).
3. A tail score ``Z_l <= S_min`` can only win if ``G_l > B``; each tail Gumbel does so
   independently with probability ``p = 1 - exp(-e^{-B})``, so their number is
   ``m ~ Binomial(n - k, p)`` and, given ``m``, they are a uniform ``m``-subset ``T`` of the tail.
4. For ``l in T`` draw ``G_l`` conditioned on ``> B``: ``U ~ Unif[exp(-e^{-B}), 1]``,
   ``G = -log(-log U)``.
5. Return ``argmax_{l in S ∪ T}(Z_l + G_l)``.

Every other tail element has ``Z_l + G_l <= S_min + B = M``, so the result is the Gumbel-max
argmax itself: the sample is exact. ``E[m] <= (n - k)/k``, so one sample reads ``k + n/k``
scores in expectation, ``O(sqrt(n))`` at ``k = sqrt(n)``. The certificates are in
:mod:`reductions.appE`.

Everything here is vectorized over rows (queries) and samples per row. The tail can come from the
whole complement of the top set (:func:`lazy_gumbel` without ``pool``: positions are drawn by rank
in the complement) or from a *pool*, a uniform random subset of the tail that a streaming
algorithm keeps (a reservoir, HO Appendix E); a draw that needs more tail elements than the pool
holds is flagged as an *overflow* and uses the whole pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from caches.params import ParameterError, check_int, check_real

__all__ = [
    "GumbelDraws",
    "tail_probability",
    "truncated_gumbel",
    "lazy_gumbel",
    "top_k",
    "sample_softmax",
]

#: Signature of the score oracle: ``tail_score(rows, ids) -> scores`` for paired arrays.
ScoreOracle = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class GumbelDraws:
    """The outcome of :func:`lazy_gumbel` for ``m`` rows and ``samples`` draws per row.

    ``index``: the sampled id per draw, shape ``(m, samples)``. ``tail_count``: the binomial
    ``|T|`` of each draw; ``tail_read``: the tail scores actually read (smaller only on overflow);
    ``overflow``: the draw wanted more tail elements than the pool held. ``cutoff``: ``B``.
    ``distinct_reads``: per query (per row unless ``rows_per_query > 1``), the scores read at least
    once (``k`` top scores, the extras, and the distinct tail ids over all its draws), the cost
    measure of the suite.
    """

    index: np.ndarray
    tail_count: np.ndarray
    tail_read: np.ndarray
    overflow: np.ndarray
    cutoff: np.ndarray
    distinct_reads: np.ndarray
    from_tail: np.ndarray
    k: int

    @property
    def reads_per_draw(self) -> np.ndarray:
        """``k + |T|`` per draw (the scores one independent draw reads)."""
        return self.tail_read + self.k


def tail_probability(cutoff) -> np.ndarray:
    """``P(G > B) = 1 - exp(-e^{-B})`` for ``G ~ Gumbel(0, 1)``, computed without cancellation."""
    return -np.expm1(-np.exp(-np.asarray(cutoff, dtype=np.float64)))


def truncated_gumbel(rng: np.random.Generator, cutoff) -> np.ndarray:
    """``G ~ Gumbel(0, 1)`` conditioned on ``G > B``, one per entry of ``cutoff`` (Algorithm 2, step 4).

    ``U ~ Unif[exp(-e^{-B}), 1)`` and ``G = -log(-log U)``, written as ``U = 1 - p V`` with
    ``p = 1 - exp(-e^{-B})`` and ``V ~ Unif(0, 1]`` so that large ``B`` keeps full precision.
    """
    cutoff = np.asarray(cutoff, dtype=np.float64)
    v = 1.0 - rng.random(cutoff.shape)  # in (0, 1]
    return -np.log(-np.log1p(-tail_probability(cutoff) * v))


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` per row of ``scores`` (``(m, n)``): indices and scores, each ``(m, k)``.

    The exact maximum-inner-product "index" of the suite (numpy ``argpartition``); the order
    inside the top set is arbitrary. ``-inf`` entries (masked positions) are never preferred.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    n = scores.shape[1]
    k = check_int("k", k, 1, n)
    if k == n:
        index = np.broadcast_to(np.arange(n), scores.shape).copy()
    else:
        index = np.argpartition(scores, n - k, axis=1)[:, n - k :]
    return index, np.take_along_axis(scores, index, axis=1)


def lazy_gumbel(
    top_index: np.ndarray,
    top_scores: np.ndarray,
    tail_size,
    tail_score: ScoreOracle,
    rng: np.random.Generator,
    *,
    samples: int = 1,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
    slack: float = 0.0,
    extra_index: np.ndarray | None = None,
    extra_scores: np.ndarray | None = None,
    rows_per_query: int = 1,
) -> GumbelDraws:
    """Algorithm 2 (HO Appendix E): ``samples`` exact draws from ``softmax`` of each row's scores.

    Row ``r`` has ``k`` top ids ``top_index[r]`` with scores ``top_scores[r]`` (all at least every
    tail score, up to ``slack``) and ``tail_size[r]`` further ids. Without ``pool`` the ids are
    ``0 .. tail_size[r] + k - 1`` and the tail is the complement of ``top_index[r]`` there; with
    ``pool = (ids, sizes)`` the tail draws come from ``ids[r, :sizes[r]]``, a uniform random subset
    of row ``r``'s tail (the binomial count still runs over ``tail_size[r]``).
    ``tail_score(rows, ids)`` returns the scores of the tail ids it is asked for; every call is a
    score read. ``extra_index``/``extra_scores`` (``(m, e)``) add always-read candidates that are
    not part of the top set (a token in hand, e.g. the current one): they get ordinary Gumbels but
    do not lower ``S_min``. ``rows_per_query``: consecutive blocks of that many rows serve one
    query (same top set, e.g. the groups of a median of means); ``distinct_reads`` is per query.
    """
    top_index = np.atleast_2d(np.asarray(top_index))
    top_scores = np.atleast_2d(np.asarray(top_scores, dtype=np.float64))
    m, k = top_scores.shape
    if top_index.shape != (m, k) or k < 1:
        raise ParameterError(f"top_index and top_scores must have the same shape (m, k >= 1), got "
                             f"{top_index.shape} and {top_scores.shape}")
    samples = check_int("samples", samples, 1)
    slack = check_real("slack", slack, 0.0)
    tail_size = np.broadcast_to(np.asarray(tail_size, dtype=np.int64), (m,))
    if np.any(tail_size < 0):
        raise ParameterError("tail_size must be >= 0")

    # Steps 1-2: the race among the top set (and the always-read extras).
    perturbed = top_scores[:, None, :] + rng.gumbel(size=(m, samples, k))
    winner = np.take_along_axis(np.broadcast_to(top_index[:, None, :], perturbed.shape),
                                perturbed.argmax(axis=2)[..., None], axis=2)[..., 0]
    best = perturbed.max(axis=2)
    if extra_scores is not None:
        extra_scores = np.atleast_2d(np.asarray(extra_scores, dtype=np.float64))
        extra_index = np.atleast_2d(np.asarray(extra_index))
        extra = extra_scores[:, None, :] + rng.gumbel(size=(m, samples, extra_scores.shape[1]))
        better = extra.max(axis=2) > best
        winner = np.where(better, np.take_along_axis(np.broadcast_to(extra_index[:, None, :], extra.shape),
                                                     extra.argmax(axis=2)[..., None], axis=2)[..., 0], winner)
        best = np.maximum(best, extra.max(axis=2))
    # Every undrawn tail element has Z <= S_min + slack and G <= B, so Z + G <= M.
    cutoff = best - top_scores.min(axis=1)[:, None] - slack

    # Step 3: how many tail Gumbels clear the cutoff, and which tail elements they are.
    counts = rng.binomial(np.broadcast_to(tail_size[:, None], (m, samples)), tail_probability(cutoff))
    if pool is None:
        limit = np.broadcast_to(tail_size[:, None], (m, samples))
    else:
        pool_ids, pool_sizes = np.atleast_2d(np.asarray(pool[0])), np.asarray(pool[1], dtype=np.int64)
        limit = np.broadcast_to(np.broadcast_to(pool_sizes, (m,))[:, None], (m, samples))
    overflow = counts > limit
    taken = np.minimum(counts, limit)
    draw_of, rank = _distinct_ranks(rng, taken.reshape(-1), limit.reshape(-1))
    rows = draw_of // samples
    if pool is None:
        ids = _complement(np.sort(top_index, axis=1), rows, rank, int(tail_size.max(initial=0)) + k)
    else:
        ids = pool_ids[rows, rank]

    # Step 4-5: truncated Gumbels for the tail draws; a tail element wins if it beats M.
    from_tail = np.zeros((m, samples), dtype=bool)
    if ids.size:
        flat_cut = cutoff.reshape(-1)[draw_of]
        value = np.asarray(tail_score(rows, ids), dtype=np.float64) + truncated_gumbel(rng, flat_cut)
        order_start = np.flatnonzero(np.r_[True, draw_of[1:] != draw_of[:-1]])
        seg_max = np.maximum.reduceat(value, order_start)
        seg_arg = _segment_argmax(value, order_start, seg_max)
        seg_draw = draw_of[order_start]
        flat_best = best.reshape(-1)
        wins = seg_max > flat_best[seg_draw]
        flat_winner = winner.reshape(-1).copy()
        flat_winner[seg_draw[wins]] = ids[seg_arg[wins]]
        winner = flat_winner.reshape(m, samples)
        from_tail.reshape(-1)[seg_draw[wins]] = True

    rows_per_query = check_int("rows_per_query", rows_per_query, 1)
    if m % rows_per_query:
        raise ParameterError(f"rows_per_query={rows_per_query} must divide the {m} rows")
    queries = m // rows_per_query
    distinct = np.full(queries, k, dtype=np.int64)
    if ids.size:
        span = int(ids.max()) + 1
        keys = np.sort((rows.astype(np.int64) // rows_per_query) * span + ids)
        first = np.r_[True, keys[1:] != keys[:-1]]
        distinct += np.bincount(keys[first] // span, minlength=queries)
    if extra_scores is not None:
        distinct += extra_scores.shape[1]
    return GumbelDraws(winner, counts, taken, overflow, cutoff, distinct, from_tail, k)


def _distinct_ranks(rng: np.random.Generator, counts: np.ndarray, limits: np.ndarray):
    """For draw ``g``, ``counts[g]`` distinct ranks uniform in ``[0, limits[g])``.

    Returns ``(draw_of, rank)`` sorted by draw. Ranks are drawn with replacement and duplicates
    redrawn until none remain; the procedure commutes with relabelling ``[0, limit)``, so the
    result is a uniform ``counts[g]``-subset. Draws that want more than half their range use a
    permutation instead (rare: only when the cutoff ``B`` is very low).
    """
    counts = counts.astype(np.int64)
    draw_of = np.repeat(np.arange(counts.size), counts)
    if draw_of.size == 0:
        return draw_of, draw_of.copy()
    lim = limits.astype(np.int64)[draw_of]
    rank = np.floor(rng.random(draw_of.size) * lim).astype(np.int64)
    dense = np.flatnonzero(2 * counts > limits)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for g in dense:
        rank[starts[g] : starts[g] + counts[g]] = rng.permutation(int(limits[g]))[: counts[g]]
    width = int(limits.max()) + 1
    key = draw_of * width + rank
    accepted, first = np.unique(key, return_index=True)
    again = np.setdiff1d(np.arange(key.size), first, assume_unique=True)
    while again.size:
        rank[again] = np.floor(rng.random(again.size) * lim[again]).astype(np.int64)
        fresh = draw_of[again] * width + rank[again]
        position = np.minimum(np.searchsorted(accepted, fresh), accepted.size - 1)
        clash = accepted[position] == fresh
        candidates = again[~clash]
        new_keys, first = np.unique(fresh[~clash], return_index=True)
        accepted = np.sort(np.concatenate([accepted, new_keys]))
        keep = np.zeros(candidates.size, dtype=bool)
        keep[first] = True
        again = np.concatenate([again[clash], candidates[~keep]])
    return draw_of, rank


def _complement(sorted_top: np.ndarray, rows: np.ndarray, rank: np.ndarray, span: int) -> np.ndarray:
    """The ``rank``-th id (0-based) not in ``sorted_top[row]``, for paired ``rows`` and ``rank``.

    With ``a_t = e_t - t`` (ids skipped before the t-th excluded one), the answer is
    ``rank + #{t : a_t <= rank}``; rows are separated by offsets of ``2 * span`` so one
    ``searchsorted`` serves every row.
    """
    m, k = sorted_top.shape
    gap = sorted_top - np.arange(k)
    offset = 2 * span
    flat = (gap + offset * np.arange(m)[:, None]).reshape(-1)
    found = np.searchsorted(flat, rank + offset * rows, side="right") - k * rows
    return rank + found


def _segment_argmax(values: np.ndarray, starts: np.ndarray, maxima: np.ndarray) -> np.ndarray:
    """Position (in ``values``) of the first maximum of each segment starting at ``starts``."""
    lengths = np.diff(np.r_[starts, values.size])
    hit = np.flatnonzero(values == np.repeat(maxima, lengths))
    segment = np.repeat(np.arange(starts.size), lengths)[hit]
    return hit[np.r_[True, segment[1:] != segment[:-1]]]


def sample_softmax(scores: np.ndarray, k: int, rng: np.random.Generator, samples: int = 1) -> GumbelDraws:
    """Exact samples from ``softmax(scores[r])`` for every row by Algorithm 2 with an exact top-``k``.

    ``scores`` is ``(m, n)``; only the top-``k`` and the drawn tail entries are *read* (counted in
    ``distinct_reads``), though the exact top-k is found here by looking at the whole row (the
    suite's stand-in for a maximum-inner-product index, HO Appendix E, kNN §3).
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    m, n = scores.shape
    index, top = top_k(scores, k)
    return lazy_gumbel(index, top, n - index.shape[1], lambda r, c: scores[r, c], rng, samples=samples)
