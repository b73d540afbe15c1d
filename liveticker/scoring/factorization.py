"""The core matrix factorization r̂ = μ + i_u + i_n + f_u·f_n, by alternating exact ridge solves.

With one factor, each rater's (and each note's) two parameters solve a 2×2 ridge system
given the other side, so a sweep is a handful of sparse matrix products; μ has its own
closed form. Each block update is an exact minimization, so the objective never rises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from liveticker.scoring import constants as k
from liveticker.scoring.data import FloatArray, Int32Array


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


class RatingMatrix:
    """Ratings as two CSR views (raters × notes and notes × raters) sharing one layout each.

    `rater` and `note` must be compact: every index in 0..n-1 has at least one rating.
    Rating values are stored as `dtype` (float32 by default: X's levels 0, ½ and 1 are
    exact in it, and scipy widens them to float64 inside each product, so the solver's
    arithmetic is the float64 one); only the CSR views are kept, about 20 bytes a rating.
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
        self.rater_count = np.bincount(rater, minlength=n_raters).astype(np.float64)
        self.note_count = np.bincount(note, minlength=n_notes).astype(np.float64)
        self.rater_sum = np.bincount(rater, weights=wide, minlength=n_raters)
        self.note_sum = np.bincount(note, weights=wide, minlength=n_notes)
        self.note_sum_sq = np.bincount(note, weights=wide * wide, minlength=n_notes)
        self.total = float(wide.sum())
        del wide
        stored = value.astype(dtype, copy=False)
        # One array of ones serves both count views: they differ only in their layout.
        ones = np.ones(len(value), dtype=stored.dtype)
        self.by_rater, self.by_rater_values = _csr_pair(
            rater, note, stored, ones, n_raters, n_notes
        )
        self.by_note, self.by_note_values = _csr_pair(note, rater, stored, ones, n_notes, n_raters)

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
        return np.asarray(self.by_rater_values.data, dtype=np.float64)


def _csr_pair(
    row: Int32Array,
    col: Int32Array,
    value: npt.NDArray[np.floating[Any]],
    ones: npt.NDArray[np.floating[Any]],
    n_rows: int,
    n_cols: int,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    # Built by hand rather than through COO so duplicate (row, col) entries stay separate
    # ratings instead of being summed, and both views share indices and indptr.
    order = np.argsort(row, kind="stable")
    indices = col[order].astype(np.int32, copy=False)
    sorted_value = value[order]
    del order
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    shape = (n_rows, n_cols)
    counts = sp.csr_matrix((ones, indices, indptr), shape=shape, copy=False)
    values = sp.csr_matrix((sorted_value, indices, indptr), shape=shape, copy=False)
    return counts, values


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
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - used after the loop
        # Raters given notes and μ.
        stats = matrix.by_rater @ np.column_stack((g, g * g, b, b * g))
        sum_g, sum_gg, sum_b, sum_bg = stats.T
        sum_rg = matrix.by_rater_values @ g
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
        note_stats = matrix.by_note @ np.column_stack((f, f * f, a, a * f, a * a))
        sum_f, sum_ff, sum_a, sum_af, sum_aa = note_stats.T
        sum_rf, sum_ra = (matrix.by_note_values @ np.column_stack((f, a))).T
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
