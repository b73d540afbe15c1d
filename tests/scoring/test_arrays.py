import numpy as np
import pytest

from liveticker.scoring.arrays import unique_values


@pytest.mark.parametrize(
    "values",
    [
        np.array([], dtype=np.int64),
        np.array([7], dtype=np.int32),
        np.array([3, 1, 3, 2, 1, 1], dtype=np.int64),
        np.array([-5, 2**40, -5, 0], dtype=np.int64),
        np.array([True, False, True]),
    ],
)
def test_unique_values_is_np_unique(values: np.ndarray) -> None:
    result = unique_values(values)
    expected = np.unique(values)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_unique_values_on_a_large_random_array() -> None:
    values = np.random.default_rng(1).integers(0, 1000, 50_000)
    np.testing.assert_array_equal(unique_values(values), np.unique(values))


def test_unique_values_leaves_its_input_alone() -> None:
    values = np.array([3, 1, 2])
    unique_values(values)
    np.testing.assert_array_equal(values, [3, 1, 2])
