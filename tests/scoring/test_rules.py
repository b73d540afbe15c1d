"""Status rules one at a time, on hand-made notes."""

from __future__ import annotations

import numpy as np

from liveticker.scoring.rules import (
    CRH,
    CRNH,
    HELD,
    NMR,
    Decision,
    NoteFacts,
    Rule,
    core_status,
    insufficient_explanation,
    stabilize,
)

NOW = 1_768_000_000_000
MINUTE = 60_000


def _facts(**overrides: object) -> NoteFacts:
    n = len(np.atleast_1d(overrides.get("intercept", [0.0])))  # type: ignore[arg-type]
    base: dict[str, object] = {
        "num_ratings": np.full(n, 20),
        "intercept": np.zeros(n),
        "factor": np.zeros(n),
        "misleading": np.ones(n, dtype=bool),
        "previous_status": np.full(n, -1, dtype=np.int8),
        "net_min_helpful": np.full(n, 10),
        "net_min_helpful_ratio": np.full(n, 0.3),
    }
    base.update({key: np.asarray(value) for key, value in overrides.items()})
    return NoteFacts(**base)  # type: ignore[arg-type]


def test_thresholds_and_hysteresis() -> None:
    facts = _facts(
        intercept=[0.41, 0.395, 0.395, -0.2, 0.45, 0.45, -0.16],
        factor=[0.0, 0.0, 0.0, 0.1, 0.6, 0.0, 0.0],
        previous_status=np.array([-1, -1, CRH, -1, -1, -1, -1], dtype=np.int8),
        num_ratings=[20, 20, 20, 20, 20, 4, 2],
        misleading=[True, True, True, True, True, True, False],
    )
    decision = core_status(facts, final_round=True)
    assert decision.status.tolist() == [CRH, NMR, CRH, CRNH, NMR, NMR, CRNH]
    assert decision.decided_by[2] == Rule.GENERAL_CRH_INERTIA
    assert decision.decided_by[4] == Rule.LARGE_FACTOR
    assert decision.decided_by[6] == Rule.NM_CRNH
    assert "GeneralCRH" in decision.rule_lists()[4]


def test_crnh_diamond_depends_on_factor() -> None:
    decision = core_status(_facts(intercept=[-0.3, -0.3], factor=[0.1, 0.4]), final_round=False)
    # -0.3 ≤ -0.05 - 0.8·0.1 = -0.13, but not ≤ -0.05 - 0.8·0.4 = -0.37.
    assert decision.status.tolist() == [CRNH, NMR]


def test_ratio_rule_and_confidence_bound() -> None:
    facts = _facts(
        intercept=[0.1, 0.1, 0.1],
        neg_mean_helpful=[0.2, 0.5, 0.2],
        pos_mean_helpful=[0.3, 0.1, 0.3],
        min_sign_count=[3, 5, 2],
        intercept_max=[0.2, 0.2, -0.05],
    )
    decision = core_status(facts, final_round=True)
    assert decision.status.tolist() == [CRNH, NMR, CRNH]
    assert decision.decided_by.tolist() == [Rule.RATIO_CRNH, Rule.INITIAL_NMR, Rule.UCB_CRNH]


def test_guards_hold_would_be_helpful_notes() -> None:
    facts = _facts(
        intercept=[0.5, 0.5, 0.5, 0.5],
        net_min_helpful=[10, 3, 10, 10],
        incorrect_tags=[0.0, 0.0, 3.0, 0.0],
        incorrect_voters=[0.0, 0.0, 5.0, 0.0],
        incorrect_weighted=[0.0, 0.0, 3.0, 0.0],
        intercept_no_high_vol=[0.5, 0.5, 0.5, 0.36],
    )
    decision = core_status(facts, final_round=True)
    assert decision.status.tolist() == [CRH, HELD, NMR, HELD]
    assert decision.decided_by.tolist() == [
        Rule.GENERAL_CRH,
        Rule.MIN_MINORITY_RATERS,
        Rule.INCORRECT_OUTLIER,
        Rule.NO_HIGH_VOL_INTERCEPT,
    ]


def test_insufficient_explanation() -> None:
    decision = Decision.start(3)
    decision.status[:] = [CRH, CRH, CRNH]
    helpful = np.zeros((3, 9), dtype=np.int64)
    helpful[0, [1, 2]] = 2
    helpful[1, 1] = 5
    not_helpful = np.zeros((3, 13), dtype=np.int64)
    not_helpful[2, [0, 1]] = 3
    insufficient_explanation(decision, helpful, not_helpful)
    assert decision.status.tolist() == [CRH, NMR, CRNH]


def test_stabilization_timeline() -> None:
    def run(status: int, previous: int, stamp: float, now: int) -> tuple[int, float]:
        decision = Decision.start(1)
        decision.status[:] = status
        new_stamp = stabilize(
            decision,
            previous_status=np.array([previous], dtype=np.int8),
            stabilization_millis=np.array([stamp]),
            now_millis=now,
        )
        return int(decision.status[0]), float(new_stamp[0])

    assert run(CRH, -1, np.nan, NOW) == (NMR, NOW)  # newly Helpful: wait
    assert run(CRH, NMR, NOW, NOW + 10 * MINUTE) == (NMR, NOW)  # still waiting
    assert run(CRH, NMR, NOW, NOW + 30 * MINUTE) == (CRH, -1)  # shown after 30 minutes
    assert run(NMR, NMR, NOW, NOW + 10 * MINUTE) == (NMR, -1)  # fell back: period ends
    assert run(CRH, NMR, -1, NOW) == (NMR, NOW)  # qualifies again: waits again
    assert run(CRH, CRH, np.nan, NOW)[0] == CRH  # already shown: no wait
    assert run(HELD, CRH, np.nan, NOW)[0] == CRH  # a hold does not take Helpful away
    assert run(HELD, -1, np.nan, NOW) == (NMR, NOW)
    assert run(CRNH, -1, np.nan, NOW) == (CRNH, np.nan) or np.isnan(run(CRNH, -1, np.nan, NOW)[1])


def test_tag_outlier_filter_skips_hard_to_understand() -> None:
    adjusted = np.zeros((3, 13))
    ratio = np.zeros((3, 13))
    adjusted[0, 1], ratio[0, 1] = 3.0, 0.5  # "incorrect": outlier
    adjusted[1, 1], ratio[1, 1] = 2.0, 0.5  # too few weighted tags
    adjusted[2, 6], ratio[2, 6] = 3.0, 0.5  # "hard to understand" is exempt
    facts = _facts(
        intercept=[0.5, 0.5, 0.5],
        tag_adjusted=adjusted,
        tag_ratio=ratio,
        tag_thresholds=np.full(13, 0.2),
    )
    decision = core_status(facts, final_round=True)
    assert decision.status.tolist() == [NMR, CRH, CRH]
    assert decision.decided_by[0] == Rule.TAG_OUTLIER
