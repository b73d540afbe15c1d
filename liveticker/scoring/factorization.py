"""The core matrix factorization r̂ = μ + i_u + i_n + f_u·f_n, by alternating exact ridge solves.

With one factor, each rater's (and each note's) two parameters solve a 2×2 ridge system
given the other side, so a sweep is a handful of sparse matrix products; μ has its own
closed form. Each block update is an exact minimization, so the objective never rises.

The products are nearly all of a fit's time, hence the matrix's layout:

- Each orientation (raters × notes, notes × raters) is cut into row blocks of about
  BLOCK_RATINGS ratings, views on its buffers, multiplied in parallel threads: scipy's
  sparse kernels release the GIL, and each row's sum comes from the same kernel loop in
  the same order whatever the blocks, so the split changes no bit.
- The count products run on one shared float64 array of ones, as long as the largest
  block only: scipy would widen float32 ones to a float64 copy on every product.
- Rating values stay in `dtype` (float32: X's levels are exact in it). scipy widens
  each value block to float64 for its product: a short-lived copy of one block per
  thread, small enough to stay in cache, instead of one of all the ratings.
- Coding each rating's level into its column index (one product with all ones giving
  the counts and the value sums at once) was measured slower: the dense operand grows
  threefold, and the products are bound by its cache misses.

Building the layout is a stable sort of the ratings by row, once per orientation (see
_stable_order).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from liveticker.scoring import constants as k
from liveticker.scoring.data import FloatArray, Int32Array

# Ratings per row block: the per-product overhead stays negligible, and a block's
# float64 copy of its values (2 MB) stays in cache.
BLOCK_RATINGS = 1 << 18
# Ratings per chunk of the sort keys' construction (see _stable_order).
_CHUNK = 1 << 20


@dataclass(frozen=True, kw_only=True)
class Penalties:
    """λ_i and λ_f of the loss; the penalties are means over each parameter group."""

    intercept: float = k.LAMBDA_INTERCEPT
    factor: float = k.LAMBDA_FACTOR


DEFAULT_PENALTIES = Penalties()


@dataclass(frozen=True, kw_only=True)
class Factors:
    """Fitted parameters on the matrix's compact rater and note indices."""

    mu: float
    rater_intercept: FloatArray
    rater_factor: FloatArray
    note_intercept: FloatArray
    note_factor: FloatArray
    loss: float
    iterations: int
    converged: bool


class Orientation:
    """One side's ratings in CSR layout (rows: that side; columns: the other side).

    `indices`, `indptr` and `values` hold all the ratings, each row's in the input's
    order (the order of every sum's additions); `counts` and `weighted` are the row
    blocks the products run on, with ones and with the values as data, grouped into
    one run of consecutive blocks per worker thread.
    """

    def __init__(
        self,
        row: Int32Array,
        col: Int32Array,
        value: npt.NDArray[np.floating[Any]],
        n_rows: int,
        n_cols: int,
    ) -> None:
        # Built by hand rather than through COO so duplicate (row, col) entries stay
        # separate ratings instead of being summed.
        order = _stable_order(row)
        self.indices = col[order].astype(np.int32, copy=False)
        self.values = value[order]
        del order
        self.indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n_rows), out=self.indptr[1:])
        self.shape = (n_rows, n_cols)
        self.bounds = _block_bounds(self.indptr)
        self.counts: list[sp.csr_matrix] = []
        self.weighted: list[sp.csr_matrix] = []
        self.count_runs: list[list[sp.csr_matrix]] = []
        self.weighted_runs: list[list[sp.csr_matrix]] = []

    def longest_block(self) -> int:
        return max((int(self.indptr[hi] - self.indptr[lo]) for lo, hi in self.bounds), default=0)

    def make_blocks(self, ones: FloatArray, workers: int) -> None:
        """The row blocks, on views of the buffers and of `ones` (at least a block long),
        in one run per worker thread."""
        for lo, hi in self.bounds:
            start, stop = int(self.indptr[lo]), int(self.indptr[hi])
            # Offsets within the block: int32 like the indices (scipy would otherwise
            # widen the indices to match), whatever the number of ratings.
            indptr = (self.indptr[lo : hi + 1] - start).astype(np.int32)
            indices = self.indices[start:stop]
            shape = (hi - lo, self.shape[1])
            self.counts.append(_csr_view(ones[: stop - start], indices, indptr, shape))
            self.weighted.append(_csr_view(self.values[start:stop], indices, indptr, shape))
        self.count_runs = _runs(self.counts, workers)
        self.weighted_runs = _runs(self.weighted, workers)

    def sums(
        self,
        plain: Sequence[FloatArray],
        weighted: Sequence[FloatArray],
        pool: ThreadPoolExecutor,
    ) -> tuple[FloatArray, FloatArray]:
        """Per row: Σ x for each array of `plain`, and Σ r·x for each of `weighted`.

        The arrays are indexed by the other side; the results are columns, one per array.
        """
        return (
            _multiply(self.count_runs, np.column_stack(plain), pool),
            _multiply(self.weighted_runs, np.column_stack(weighted), pool),
        )


def _csr_view(
    data: npt.NDArray[np.floating[Any]],
    indices: Int32Array,
    indptr: npt.NDArray[np.integer[Any]],
    shape: tuple[int, int],
) -> sp.csr_matrix:
    """A CSR matrix on exactly these arrays, without a copy.

    scipy's constructor copies a view much smaller than its base (scipy._lib._util.
    _prune_array), which would duplicate every block: the arrays are set on an empty
    matrix of the right shape instead.
    """
    matrix = sp.csr_matrix(shape, dtype=data.dtype)
    matrix.indptr, matrix.indices, matrix.data = indptr, indices, data
    return matrix


def _multiply(
    runs: list[list[sp.csr_matrix]], dense: FloatArray, pool: ThreadPoolExecutor
) -> FloatArray:
    """The row blocks times `dense`, stacked; the runs in parallel on the pool."""

    def multiply(run: list[sp.csr_matrix]) -> list[FloatArray]:
        return [block @ dense for block in run]

    parts = map(multiply, runs) if len(runs) == 1 else pool.map(multiply, runs)
    return np.concatenate([part for run in parts for part in run])


def _runs(blocks: list[sp.csr_matrix], workers: int) -> list[list[sp.csr_matrix]]:
    """Consecutive blocks in one run per thread: a task per block would wake the
    threads too often for the smaller fits."""
    share = -(-len(blocks) // workers)
    return [blocks[i : i + share] for i in range(0, len(blocks), share)]


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _block_bounds(indptr: npt.NDArray[np.integer[Any]]) -> list[tuple[int, int]]:
    """Row ranges of about BLOCK_RATINGS ratings (more when one row has more)."""
    n_rows, n = len(indptr) - 1, int(indptr[-1])
    cuts = np.searchsorted(indptr, np.arange(1, n // BLOCK_RATINGS + 1) * BLOCK_RATINGS)
    edges = [0, *(int(c) for c in cuts if 0 < c < n_rows), n_rows]
    return list(itertools.pairwise(dict.fromkeys(edges))) or [(0, n_rows)]


def _stable_order(row: Int32Array) -> npt.NDArray[np.int64]:
    """np.argsort(row, kind="stable"), without its timsort.

    Each rating's key is (row << 32) | position: all keys differ, so any sort of them
    is the stable sort by row, and numpy sorts int64 in place about twice as fast as
    its stable argsort of int32, within one array of 8 bytes a rating.
    """
    n = len(row)
    if n >= 1 << 32:
        return np.argsort(row, kind="stable").astype(np.int64, copy=False)
    key = np.arange(n, dtype=np.int64)
    for start in range(0, n, _CHUNK):  # chunks keep the widened rows' temporary small
        stop = start + _CHUNK
        key[start:stop] |= row[start:stop].astype(np.int64) << 32
    key.sort()
    key &= 0xFFFFFFFF
    return key


class RatingMatrix:
    """Ratings in both CSR orientations (see the module docstring for the layout).

    `rater` and `note` must be compact: every index in 0..n-1 has at least one rating.
    Rating values are stored as `dtype` (float32 by default: X's levels 0, ½ and 1 are
    exact in it, and scipy widens them to float64 inside each product, so the solver's
    arithmetic is the float64 one). Kept per rating: each orientation's column indices
    and values, 16 bytes a rating in float32, plus one block's length of ones.
    """

    def __init__(
        self,
        *,
        rater: Int32Array,
        note: Int32Array,
        value: npt.NDArray[np.floating[Any]],
        n_raters: int,
        n_notes: int,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        self.n_raters = n_raters
        self.n_notes = n_notes
        self.n_ratings = len(value)
        # Sums in float64 and in the input's order, so both storage types agree exactly.
        wide = value.astype(np.float64)
        self.rater_sum = np.bincount(rater, weights=wide, minlength=n_raters)
        self.note_sum = np.bincount(note, weights=wide, minlength=n_notes)
        self.note_sum_sq = np.bincount(note, weights=wide * wide, minlength=n_notes)
        self.total = float(wide.sum())
        del wide
        stored = value.astype(dtype, copy=False)
        self.by_rater = Orientation(rater, note, stored, n_raters, n_notes)
        self.by_note = Orientation(note, rater, stored, n_notes, n_raters)
        self.rater_count = np.diff(self.by_rater.indptr).astype(np.float64)
        self.note_count = np.diff(self.by_note.indptr).astype(np.float64)
        # float64 ones: what scipy would widen float32 ones to on every product.
        ones = np.ones(max(self.by_rater.longest_block(), self.by_note.longest_block()))
        workers = _workers()
        self.by_rater.make_blocks(ones, workers)
        self.by_note.make_blocks(ones, workers)
        self.workers = max(len(self.by_rater.count_runs), len(self.by_note.count_runs))

    @property
    def rater(self) -> Int32Array:
        """Each rating's rater, in the raters × notes view's order (for checks)."""
        counts = np.diff(self.by_rater.indptr)
        return np.repeat(np.arange(self.n_raters, dtype=np.int32), counts)

    @property
    def note(self) -> Int32Array:
        """Each rating's note, in the same order as `rater`."""
        return np.asarray(self.by_rater.indices, dtype=np.int32)

    @property
    def value(self) -> FloatArray:
        """Each rating's value, in the same order as `rater`."""
        return np.asarray(self.by_rater.values, dtype=np.float64)


def _solve_2x2(
    count: FloatArray,
    sum_x: FloatArray,
    sum_xx: FloatArray,
    sum_y: FloatArray,
    sum_yx: FloatArray,
    alpha_intercept: float,
    alpha_factor: float,
) -> tuple[FloatArray, FloatArray]:
    """Solve min Σ(y - c - d·x)² + α_i c² + α_f d² for every row at once.

    A row whose system is singular (no ratings and no penalty) has no solution: NaN,
    without dividing by its zero determinant.
    """
    a11 = count + alpha_intercept
    a22 = sum_xx + alpha_factor
    det = a11 * a22 - sum_x * sum_x
    solvable = det != 0
    intercept = np.full(len(det), np.nan)
    factor = np.full(len(det), np.nan)
    np.divide(a22 * sum_y - sum_x * sum_yx, det, out=intercept, where=solvable)
    np.divide(a11 * sum_yx - sum_x * sum_y, det, out=factor, where=solvable)
    return intercept, factor


def fit(
    matrix: RatingMatrix,
    *,
    seed: int,
    penalties: Penalties = DEFAULT_PENALTIES,
    init: Factors | None = None,
    tolerance: float = k.SOLVER_TOLERANCE,
    max_iterations: int = k.SOLVER_MAX_ITERATIONS,
) -> Factors:
    """Minimize the loss of NOTES-ALGORITHM.md over all parameters, then fix the sign."""
    n = float(matrix.n_ratings)
    # Multiplying the loss by N turns each mean penalty λ·mean(p²) into (λ·N/count)·Σp².
    alpha_ri = penalties.intercept * n / matrix.n_raters
    alpha_rf = penalties.factor * n / matrix.n_raters
    alpha_ni = penalties.intercept * n / matrix.n_notes
    alpha_nf = penalties.factor * n / matrix.n_notes
    alpha_mu = penalties.intercept * n

    if init is None:
        rng = np.random.default_rng(seed)
        mu = 0.0
        b = np.zeros(matrix.n_notes)
        g = rng.uniform(-1.0, 1.0, matrix.n_notes)
        a = np.zeros(matrix.n_raters)
        f = np.zeros(matrix.n_raters)
    else:
        mu = init.mu
        a, f = init.rater_intercept.copy(), init.rater_factor.copy()
        b, g = init.note_intercept.copy(), init.note_factor.copy()

    loss = np.inf
    converged = False
    iteration = 0
    # Threads start only when a product has more than one run of blocks.
    with ThreadPoolExecutor(matrix.workers) as pool:
        for iteration in range(1, max_iterations + 1):  # noqa: B007 - used after the loop
            # Raters given notes and μ.
            stats, value_stats = matrix.by_rater.sums((g, g * g, b, b * g), (g,), pool)
            sum_g, sum_gg, sum_b, sum_bg = stats.T
            (sum_rg,) = value_stats.T
            sum_y = matrix.rater_sum - matrix.rater_count * mu - sum_b
            sum_yg = sum_rg - mu * sum_g - sum_bg
            a, f = _solve_2x2(matrix.rater_count, sum_g, sum_gg, sum_y, sum_yg, alpha_ri, alpha_rf)

            # μ given everything else (sum_g does not depend on the raters just updated).
            residual_sum = (
                matrix.total
                - float(matrix.rater_count @ a)
                - float(matrix.note_count @ b)
                - float(f @ sum_g)
            )
            mu = residual_sum / (n + alpha_mu)

            # Notes given raters and μ; the same statistics give the objective exactly.
            note_stats, value_stats = matrix.by_note.sums((f, f * f, a, a * f, a * a), (f, a), pool)
            sum_f, sum_ff, sum_a, sum_af, sum_aa = note_stats.T
            sum_rf, sum_ra = value_stats.T
            count = matrix.note_count
            sum_y = matrix.note_sum - count * mu - sum_a
            sum_yf = sum_rf - mu * sum_f - sum_af
            b, g = _solve_2x2(count, sum_f, sum_ff, sum_y, sum_yf, alpha_ni, alpha_nf)

            sum_yy = (
                matrix.note_sum_sq
                - 2 * mu * matrix.note_sum
                - 2 * sum_ra
                + count * mu * mu
                + 2 * mu * sum_a
                + sum_aa
            )
            squared_error = (
                sum_yy
                - 2 * b * sum_y
                - 2 * g * sum_yf
                + count * b * b
                + 2 * b * g * sum_f
                + g * g * sum_ff
            )
            new_loss = float(squared_error.sum()) / n + _penalty(mu, a, f, b, g, penalties)
            change = loss - new_loss
            loss = new_loss
            if abs(change) <= tolerance * abs(new_loss):
                converged = True
                break

    a, f, b, g = flip_sign(a, f, b, g)
    return Factors(
        mu=mu,
        rater_intercept=a,
        rater_factor=f,
        note_intercept=b,
        note_factor=g,
        loss=loss,
        iterations=iteration,
        converged=converged,
    )


def _penalty(
    mu: float, a: FloatArray, f: FloatArray, b: FloatArray, g: FloatArray, p: Penalties
) -> float:
    intercepts = float(np.mean(a * a) + np.mean(b * b) + mu * mu)
    factors = float(np.mean(f * f) + np.mean(g * g))
    return p.intercept * intercepts + p.factor * factors


def flip_sign(
    a: FloatArray, f: FloatArray, b: FloatArray, g: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Flip all factors when fewer than half of the (non-zero) rater factors are negative."""
    nonzero = np.count_nonzero(f)
    if nonzero and np.count_nonzero(f < 0) / nonzero < 0.5:
        return a, -f, b, -g
    return a, f, b, g


def objective(
    matrix: RatingMatrix, factors: Factors, penalties: Penalties = DEFAULT_PENALTIES
) -> float:
    """Direct evaluation of the loss, one prediction per rating (used to check the solver)."""
    prediction = (
        factors.mu
        + factors.rater_intercept[matrix.rater]
        + factors.note_intercept[matrix.note]
        + factors.rater_factor[matrix.rater] * factors.note_factor[matrix.note]
    )
    mse = float(np.mean((matrix.value - prediction) ** 2))
    return mse + _penalty(
        factors.mu,
        factors.rater_intercept,
        factors.rater_factor,
        factors.note_intercept,
        factors.note_factor,
        penalties,
    )


@dataclass(frozen=True, kw_only=True)
class NoteStatistics:
    """Per-note sufficient statistics of a note-only fit with raters and μ frozen."""

    count: FloatArray
    sum_f: FloatArray
    sum_ff: FloatArray
    sum_y: FloatArray  # Σ (r - μ - i_u)
    sum_yf: FloatArray  # Σ (r - μ - i_u)·f_u


def note_statistics(
    *,
    rater: Int32Array,
    note: Int32Array,
    value: npt.NDArray[np.floating[Any]],
    n_notes: int,
    mu: float,
    rater_intercept: FloatArray,
    rater_factor: FloatArray,
) -> NoteStatistics:
    """Sum the given ratings per note into the statistics a frozen-rater refit needs."""
    # One per-rating temporary at a time: these run on every rating of the final round.
    count = np.bincount(note, minlength=n_notes).astype(np.float64)
    f = rater_factor[rater]
    sum_f = _weighted_count(note, f, n_notes)
    sum_ff = _weighted_count(note, f * f, n_notes)
    y = value.astype(np.float64)  # float64 before μ: a float32 array would stay float32
    y -= mu
    y -= rater_intercept[rater]
    sum_y = _weighted_count(note, y, n_notes)
    y *= f
    sum_yf = _weighted_count(note, y, n_notes)
    return NoteStatistics(count=count, sum_f=sum_f, sum_ff=sum_ff, sum_y=sum_y, sum_yf=sum_yf)


def solve_notes(
    stats: NoteStatistics, *, alpha_intercept: float, alpha_factor: float
) -> tuple[FloatArray, FloatArray]:
    """Exact note parameters given frozen raters; α = λ·N / (number of notes) per group."""
    # A note without ratings has a zero system when α is 0 (an empty second fit): NaN
    # from the solve; with α > 0 it solves to zeros, so it is set to NaN below.
    intercept, factor = _solve_2x2(
        stats.count,
        stats.sum_f,
        stats.sum_ff,
        stats.sum_y,
        stats.sum_yf,
        alpha_intercept,
        alpha_factor,
    )
    empty = stats.count == 0
    intercept[empty] = np.nan
    factor[empty] = np.nan
    return intercept, factor


def _weighted_count(index: Int32Array, weights: FloatArray, length: int) -> FloatArray:
    return np.bincount(index, weights=weights, minlength=length).astype(np.float64)
