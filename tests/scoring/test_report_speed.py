"""The vectorized text columns of the results equal the row-by-row formatting they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liveticker.scoring.report import _integers_as_text, _text
from liveticker.scoring.rules import RULE_NAMES, Decision, Rule


def _integers_as_text_per_row(frame: pd.DataFrame) -> pd.DataFrame:
    """The former implementation: one Python call per value."""
    out = frame.copy()
    for column in out.columns:
        if column.startswith("timestamp") or column in ("noteId", "createdAtMillis"):
            numbers = pd.to_numeric(out[column], errors="coerce")
            out[column] = numbers.map(lambda v: "" if pd.isna(v) else str(int(v)))
        else:
            out[column] = out[column].map(_text)
    return out


def _assert_same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    for column in fast.columns:
        assert repr(fast[column].dtype) == repr(slow[column].dtype), column
        assert [type(v) for v in fast[column]] == [type(v) for v in slow[column]], column


NUMBER_COLUMNS = {
    "noteId": np.array([1800000000000000000, 2**63 - 1, -(2**63), 0], dtype=np.int64),
    "createdAtMillis": pd.Series(["1767398105382", "", None, "12.7"], dtype=object),
    "timestampA": np.array([1.8e12, np.nan, -1.0, -2.5]),
    "timestampB": np.array([0, 7, 2**64 - 1, 3], dtype=np.uint64),
    "timestampC": pd.array([1, None, 3, -4], dtype="Int64"),
    "timestampD": pd.Series([np.nan] * 4, dtype=object),
    "timestampE": np.array([True, False, True, False]),
    "timestampF": pd.Series(["1", "x", "", "3"], dtype="str"),
}
TEXT_COLUMNS = {
    "status": pd.Series(["A", None, np.nan, pd.NA], dtype=object),
    "arrow": pd.Series(["A", None, "", "B"], dtype="str"),
    "missing": pd.Series([np.nan, None, np.float64("nan"), pd.NA], dtype=object),
    "numbers": pd.Series([13.0, np.nan, 2, "x"], dtype=object),
    "integers": pd.Series([1, 2, 3, 4], dtype=object),
    "floats": np.array([1.5, np.nan, 2.0, 3.0]),
    "oddMissing": pd.Series(["A", pd.NaT, np.float32("nan"), None], dtype=object),
    "strings": pd.Series(["a", "b", "c", "d"], dtype=object),
    "pythonStrings": pd.Series(["a", None, "c", "d"], dtype="string[python]"),
}


@pytest.mark.parametrize("columns", [NUMBER_COLUMNS, TEXT_COLUMNS])
@pytest.mark.parametrize("rows", [slice(None), slice(0, 0), slice(1, 2)])
def test_integers_as_text_matches_per_row(columns: dict[str, object], rows: slice) -> None:
    frame = pd.DataFrame(columns).iloc[rows]
    _assert_same(_integers_as_text(frame), _integers_as_text_per_row(frame))


def test_integers_as_text_keeps_duplicate_index() -> None:
    frame = pd.DataFrame({"noteId": [1, 2, 3], "status": ["A", None, "B"]}, index=[0, 0, 1])
    _assert_same(_integers_as_text(frame), _integers_as_text_per_row(frame))


def test_integers_as_text_keeps_the_error_on_infinity() -> None:
    frame = pd.DataFrame({"timestampA": [1.0, np.inf]})
    with pytest.raises(OverflowError):
        _integers_as_text_per_row(frame)
    with pytest.raises(OverflowError):
        _integers_as_text(frame)


def test_rule_names_match_per_note_lookup() -> None:
    rng = np.random.default_rng(0)
    decision = Decision.start(500)
    for rule in Rule:
        decision.apply(rule, rng.random(500) < 0.3, 0)
    expected_lists = [
        ",".join(RULE_NAMES[r] for r in Rule if mask & (1 << r))
        for mask in decision.active.tolist()
    ]
    assert decision.rule_lists() == expected_lists
    expected = [RULE_NAMES[Rule(i)] for i in decision.decided_by.tolist()]
    assert decision.decided_by_names() == expected
    empty = Decision.start(0)
    assert empty.rule_lists() == []
    assert empty.decided_by_names() == []
