"""The solver reaches the optimum of the documented loss, deterministically."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from liveticker.scoring import factorization
from liveticker.scoring.factorization import (
    Factors,
    Penalties,
    RatingMatrix,
    fit,
    note_statistics,
    objective,
    solve_notes,
)


def _random_matrix(
    seed: int, n_raters: int = 120, n_notes: int = 60, n: int = 2_000
) -> RatingMatrix:
    rng = np.random.default_rng(seed)
    rater = np.concatenate([np.arange(n_raters), rng.integers(0, n_raters, n - n_raters)])
    note = np.concatenate(
        [rng.integers(0, n_notes, n_raters), rng.integers(0, n_notes, n - n_raters)]
    )
    note[:n_notes] = np.arange(n_notes)
    camp = np.where(rater % 3 == 0, 1.0, -1.0)
    lean = np.where(note % 2 == 0, 0.8, -0.8)
    value = np.clip(np.rint((0.4 + 0.3 * camp * lean + rng.normal(0, 0.3, n)) * 2) / 2, 0, 1)
    return RatingMatrix(
        rater=rater.astype(np.int32),
        note=note.astype(np.int32),
        value=value,
        n_raters=n_raters,
        n_notes=n_notes,
    )


def _gradient(matrix: RatingMatrix, f: Factors, p: Penalties) -> np.ndarray:
    """Analytic gradient of MSE + λ_i(mean a² + mean b² + μ²) + λ_f(mean f² + mean g²)."""
    u, n = matrix.rater, matrix.note
    a, fu, b, g = f.rater_intercept, f.rater_factor, f.note_intercept, f.note_factor
    residual = matrix.value - (f.mu + a[u] + b[n] + fu[u] * g[n])
    scale = -2.0 / matrix.n_ratings
    d_mu = scale * residual.sum() + 2 * p.intercept * f.mu
    d_a = scale * np.bincount(u, residual, len(a)) + 2 * p.intercept * a / len(a)
    d_f = scale * np.bincount(u, residual * g[n], len(a)) + 2 * p.factor * fu / len(a)
    d_b = scale * np.bincount(n, residual, len(b)) + 2 * p.intercept * b / len(b)
    d_g = scale * np.bincount(n, residual * fu[u], len(b)) + 2 * p.factor * g / len(b)
    return np.concatenate([[d_mu], d_a, d_f, d_b, d_g])


def test_optimum_has_zero_gradient_and_reported_loss_is_the_objective() -> None:
    matrix = _random_matrix(1)
    factors = fit(matrix, seed=3)
    assert factors.converged
    assert factors.loss == pytest.approx(objective(matrix, factors), rel=1e-12)
    gradient = _gradient(matrix, factors, Penalties())
    assert np.linalg.norm(gradient) < 1e-5
    assert np.linalg.norm(gradient) / np.sqrt(len(gradient)) < 1e-6


def test_matches_an_independent_quasi_newton_solve() -> None:
    matrix = _random_matrix(2, n_raters=40, n_notes=25, n=600)
    factors = fit(matrix, seed=0)
    nr, nn = matrix.n_raters, matrix.n_notes

    def unpack(x: np.ndarray) -> Factors:
        return Factors(
            mu=float(x[0]),
            rater_intercept=x[1 : 1 + nr],
            rater_factor=x[1 + nr : 1 + 2 * nr],
            note_intercept=x[1 + 2 * nr : 1 + 2 * nr + nn],
            note_factor=x[1 + 2 * nr + nn :],
            loss=0.0,
            iterations=0,
            converged=True,
        )

    start = np.random.default_rng(5).normal(0, 0.3, 1 + 2 * nr + 2 * nn)
    found = minimize(
        lambda x: objective(matrix, unpack(x)),
        start,
        jac=lambda x: _gradient(matrix, unpack(x), Penalties()),
        method="L-BFGS-B",
        options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-10},
    )
    assert found.fun == pytest.approx(factors.loss, rel=1e-7)
    other = unpack(found.x)
    # The same optimum up to the factor sign, which the solver fixes by convention.
    sign = np.sign(np.dot(other.note_factor, factors.note_factor))
    assert np.allclose(other.note_intercept, factors.note_intercept, atol=1e-4)
    assert np.allclose(sign * other.note_factor, factors.note_factor, atol=1e-3)


def test_sign_convention_and_determinism() -> None:
    matrix = _random_matrix(3)
    one, two = fit(matrix, seed=7), fit(matrix, seed=7)
    assert np.mean(one.rater_factor < 0) >= 0.5
    assert np.array_equal(one.note_intercept, two.note_intercept)
    assert np.array_equal(one.rater_factor, two.rater_factor)
    other_seed = fit(matrix, seed=8)
    assert np.allclose(other_seed.note_intercept, one.note_intercept, atol=1e-4)


def test_frozen_note_solve_is_the_note_block_optimum() -> None:
    matrix = _random_matrix(4)
    factors = fit(matrix, seed=1)
    stats = note_statistics(
        rater=matrix.rater,
        note=matrix.note,
        value=matrix.value,
        n_notes=matrix.n_notes,
        mu=factors.mu,
        rater_intercept=factors.rater_intercept,
        rater_factor=factors.rater_factor,
    )
    p = Penalties()
    per_note = matrix.n_ratings / matrix.n_notes
    intercept, factor = solve_notes(
        stats, alpha_intercept=p.intercept * per_note, alpha_factor=p.factor * per_note
    )
    assert np.allclose(intercept, factors.note_intercept, atol=1e-6)
    assert np.allclose(factor, factors.note_factor, atol=1e-6)


def test_row_blocks_and_threads_change_no_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = fit(_random_matrix(5), seed=2)
    # Blocks of a few ratings, two threads: each row's sums still add the same terms in
    # the same order.
    monkeypatch.setattr(factorization, "BLOCK_RATINGS", 97)
    monkeypatch.setattr(factorization, "_workers", lambda: 2)
    matrix = _random_matrix(5)
    assert len(matrix.by_rater.counts) > 10
    assert len(matrix.by_note.counts) > 10
    assert matrix.workers == 2
    split = fit(matrix, seed=2)
    assert (split.mu, split.loss, split.iterations) == (whole.mu, whole.loss, whole.iterations)
    for name in ("rater_intercept", "rater_factor", "note_intercept", "note_factor"):
        assert np.array_equal(getattr(split, name), getattr(whole, name))


@pytest.mark.parametrize("n_rows", [1, 300, 1_000_000, 2**31 - 1])
def test_stable_order_is_the_stable_argsort(n_rows: int) -> None:
    # Several chunks of the key's construction, and the largest row index.
    row = np.random.default_rng(3).integers(0, n_rows, 2_500_000).astype(np.int32)
    row[-1] = n_rows - 1
    expected = np.argsort(row, kind="stable")
    assert np.array_equal(factorization._stable_order(row), expected)
