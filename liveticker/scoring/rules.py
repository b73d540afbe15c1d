"""Status rules: from note parameters and per-note aggregates to a status, rule by rule.

Rules run in the reference's order and a later rule overrides an earlier one; every rule
that changed a note is recorded in a bit mask, and the last one is the note's `decidedBy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from liveticker.scoring import constants as k
from liveticker.scoring.data import NOT_HELPFUL_TAGS, BoolArray, FloatArray, Status

# Internal status for the "hold" rules (X's NEEDS_YOUR_HELP): shown as NEEDS_MORE_RATINGS,
# but it does not take Helpful away from a note that already had it (see stabilize()).
HELD = 3


class Rule(IntEnum):
    """A status rule; its value is its code in Decision.decided_by and its bit in `active`."""

    INITIAL_NMR = 0
    GENERAL_CRH = 1
    GENERAL_CRNH = 2
    UCB_CRNH = 3
    RATIO_CRNH = 4
    NM_CRNH = 5
    GENERAL_CRH_INERTIA = 6
    TAG_OUTLIER = 15
    INCORRECT_OUTLIER = 7
    LARGE_FACTOR = 8
    MIN_MINORITY_RATERS = 9
    RATER_BALANCE = 10
    NO_HIGH_VOL_INTERCEPT = 11
    NO_CORRELATED_INTERCEPT = 12
    INSUFFICIENT_EXPLANATION = 13
    STABILIZATION = 14
    WITH_ONE_CAMP_GROUPS = 16


RULE_NAMES: dict[Rule, str] = {
    Rule.INITIAL_NMR: "InitialNMR",
    Rule.GENERAL_CRH: "GeneralCRH",
    Rule.GENERAL_CRNH: "GeneralCRNH",
    Rule.UCB_CRNH: "UcbCRNH",
    Rule.RATIO_CRNH: "RatioCRNH",
    Rule.NM_CRNH: "NmCRNH",
    Rule.GENERAL_CRH_INERTIA: "GeneralCRHInertia",
    Rule.TAG_OUTLIER: "TagFilter",
    Rule.INCORRECT_OUTLIER: "FilterIncorrect",
    Rule.LARGE_FACTOR: "FilterLargeFactor",
    Rule.MIN_MINORITY_RATERS: "MinMinorityNetHelpful",
    Rule.RATER_BALANCE: "RaterBalance",
    Rule.NO_HIGH_VOL_INTERCEPT: "NoHighVolIntercept",
    Rule.NO_CORRELATED_INTERCEPT: "NoCorrelatedIntercept",
    Rule.WITH_ONE_CAMP_GROUPS: "WithOneCampGroups",
    Rule.INSUFFICIENT_EXPLANATION: "InsufficientExplanation",
    Rule.STABILIZATION: "NmrDueToMinStableCrhTime",
}

CRH = int(Status.CURRENTLY_RATED_HELPFUL)
CRNH = int(Status.CURRENTLY_RATED_NOT_HELPFUL)
NMR = int(Status.NEEDS_MORE_RATINGS)


@dataclass(frozen=True, kw_only=True)
class NoteFacts:
    """What the rules read, one entry per note (NaN where a value does not exist)."""

    num_ratings: npt.NDArray[np.int64]
    intercept: FloatArray
    factor: FloatArray
    misleading: BoolArray
    previous_status: npt.NDArray[np.int8]
    intercept_max: FloatArray | None = None
    neg_mean_helpful: FloatArray | None = None
    pos_mean_helpful: FloatArray | None = None
    min_sign_count: npt.NDArray[np.int64] | None = None
    net_min_helpful: npt.NDArray[np.int64] | None = None
    net_min_helpful_ratio: FloatArray | None = None
    incorrect_tags: FloatArray | None = None
    incorrect_voters: FloatArray | None = None
    incorrect_weighted: FloatArray | None = None
    tag_adjusted: npt.NDArray[np.float64] | None = None  # notes × not-helpful tags
    tag_ratio: npt.NDArray[np.float64] | None = None
    tag_thresholds: FloatArray | None = None
    intercept_no_high_vol: FloatArray | None = None
    intercept_no_correlated: FloatArray | None = None
    helpful_with_one_camp_groups: BoolArray | None = None


@dataclass
class Decision:
    """Mutable per-note outcome while rules run: status code, last rule, all rules hit."""

    status: npt.NDArray[np.int8]
    decided_by: npt.NDArray[np.int8]
    active: npt.NDArray[np.uint32]

    @staticmethod
    def start(n_notes: int) -> Decision:
        """Every note Needs More Ratings, decided by InitialNMR."""
        decision = Decision(
            status=np.full(n_notes, NMR, dtype=np.int8),
            decided_by=np.full(n_notes, Rule.INITIAL_NMR, dtype=np.int8),
            active=np.full(n_notes, 1 << Rule.INITIAL_NMR, dtype=np.uint32),
        )
        return decision

    def copy(self) -> Decision:
        return Decision(self.status.copy(), self.decided_by.copy(), self.active.copy())

    def apply(self, rule: Rule, mask: BoolArray, status: int) -> None:
        """Set `status` on the notes in `mask`, recording `rule` as deciding and as hit."""
        self.status[mask] = status
        self.decided_by[mask] = rule
        self.active[mask] |= np.uint32(1 << rule)

    def rule_lists(self) -> list[str]:
        """Per note, the names of every rule that hit it, comma-separated."""
        # Notes share a few dozen rule combinations: join each once, not once per note.
        masks, inverse = np.unique(self.active, return_inverse=True)
        joined = [
            ",".join(RULE_NAMES[r] for r in Rule if mask & (1 << r)) for mask in masks.tolist()
        ]
        names: list[str] = np.array(joined, dtype=object)[inverse].tolist()
        return names

    def decided_by_names(self) -> list[str]:
        """Per note, the name of the deciding rule."""
        table = np.empty(max(Rule) + 1, dtype=object)
        for rule, name in RULE_NAMES.items():
            table[rule] = name
        names: list[str] = table[self.decided_by].tolist()
        return names


def _ge(values: FloatArray | None, threshold: float) -> BoolArray:
    # NaN (no value) never satisfies a threshold, as in the reference's pandas comparisons.
    if values is None:
        return np.zeros(0, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold)


def core_status(facts: NoteFacts, *, final_round: bool) -> Decision:
    """The core model's status (X's coreRatingStatus), before explanation and stabilization."""
    n = len(facts.intercept)
    decision = Decision.start(n)
    enough = facts.num_ratings >= k.MIN_RATINGS_NEEDED
    intercept = facts.intercept
    with np.errstate(invalid="ignore"):
        crh = enough & facts.misleading & (intercept >= k.CRH_THRESHOLD)
        decision.apply(Rule.GENERAL_CRH, crh, CRH)
        diamond = intercept <= (
            k.CRNH_THRESHOLD_INTERCEPT + k.CRNH_THRESHOLD_FACTOR_MULTIPLIER * np.abs(facts.factor)
        )
        decision.apply(Rule.GENERAL_CRNH, enough & diamond, CRNH)
        if facts.intercept_max is not None:
            ucb = enough & (facts.intercept_max < k.CRNH_THRESHOLD_UCB_INTERCEPT)
            decision.apply(Rule.UCB_CRNH, ucb, CRNH)
        if final_round:
            decision.apply(Rule.RATIO_CRNH, enough & _ratio_crnh(facts), CRNH)
        nm = ~facts.misleading & (intercept < k.CRNH_THRESHOLD_NM_INTERCEPT)
        decision.apply(Rule.NM_CRNH, nm, CRNH)
    if final_round:
        _final_round_guards(facts, decision, enough)
    return decision


def _ratio_crnh(facts: NoteFacts) -> BoolArray:
    if facts.neg_mean_helpful is None or facts.pos_mean_helpful is None:
        return np.zeros(len(facts.intercept), dtype=bool)
    assert facts.min_sign_count is not None
    neg, pos = facts.neg_mean_helpful, facts.pos_mean_helpful
    with np.errstate(invalid="ignore"):
        return np.asarray(
            (facts.min_sign_count >= k.RATIO_MIN_RATERS_PER_SIDE)
            & (neg <= k.RATIO_MAX_HELPFUL_PER_SIDE)
            & (pos <= k.RATIO_MAX_HELPFUL_PER_SIDE)
            & ((neg + pos) / 2 <= k.RATIO_MAX_MEAN_HELPFUL)
        )


def _final_round_guards(facts: NoteFacts, decision: Decision, enough: BoolArray) -> None:
    status = decision.status
    inertia = (
        (status != CRH)
        & enough
        & _ge(facts.intercept, k.CRH_THRESHOLD - k.CRH_INERTIA_DELTA)
        & (facts.previous_status == CRH)
        & facts.misleading
    )
    decision.apply(Rule.GENERAL_CRH_INERTIA, inertia, CRH)

    if facts.tag_adjusted is not None:
        assert facts.tag_ratio is not None
        assert facts.tag_thresholds is not None
        checked = np.array([name not in k.TAG_FILTER_EXEMPT for name in NOT_HELPFUL_TAGS])
        with np.errstate(invalid="ignore"):
            outlier = (facts.tag_adjusted > k.TAG_MIN_ADJUSTED_TOTAL) & (
                facts.tag_ratio > facts.tag_thresholds
            )
        tagged = (status != CRNH) & (outlier[:, checked]).any(axis=1)
        decision.apply(Rule.TAG_OUTLIER, tagged, NMR)

    if facts.incorrect_tags is not None:
        assert facts.incorrect_voters is not None
        assert facts.incorrect_weighted is not None
        incorrect = (
            (status != CRNH)
            & _ge(facts.incorrect_tags, k.INCORRECT_TAG_THRESHOLD)
            & _ge(facts.incorrect_voters, k.INCORRECT_VOTER_THRESHOLD)
            & _ge(facts.incorrect_weighted, k.INCORRECT_WEIGHTED_THRESHOLD)
        )
        decision.apply(Rule.INCORRECT_OUTLIER, incorrect, NMR)

    with np.errstate(invalid="ignore"):
        large = (status == CRH) & (np.abs(facts.factor) > k.FACTOR_THRESHOLD)
    decision.apply(Rule.LARGE_FACTOR, large, NMR)

    if facts.net_min_helpful is not None:
        minority = (status == CRH) & (facts.net_min_helpful < k.MIN_MINORITY_NET_HELPFUL_RATINGS)
        decision.apply(Rule.MIN_MINORITY_RATERS, minority, HELD)
    if facts.net_min_helpful_ratio is not None:
        with np.errstate(invalid="ignore"):
            balance = (status == CRH) & (
                facts.net_min_helpful_ratio < k.MIN_MINORITY_NET_HELPFUL_RATIO
            )
        decision.apply(Rule.RATER_BALANCE, balance, HELD)
    subsets = (
        (Rule.NO_HIGH_VOL_INTERCEPT, facts.intercept_no_high_vol, k.CRH_THRESHOLD_NO_HIGH_VOL),
        (
            Rule.NO_CORRELATED_INTERCEPT,
            facts.intercept_no_correlated,
            k.CRH_THRESHOLD_NO_CORRELATED,
        ),
    )
    for rule, values, threshold in subsets:
        if values is not None:
            with np.errstate(invalid="ignore"):
                decision.apply(rule, (status == CRH) & (values < threshold), HELD)
    # Liveticker: setting a one-camp co-deviating group aside must not be what makes a note
    # Helpful (the group may be the camp's honest dissent against a brigade owning its
    # median); the run with those groups counted must find it Helpful too.
    if facts.helpful_with_one_camp_groups is not None:
        lifted = (status == CRH) & ~facts.helpful_with_one_camp_groups
        decision.apply(Rule.WITH_ONE_CAMP_GROUPS, lifted, HELD)


def insufficient_explanation(
    decision: Decision,
    helpful_tag_counts: npt.NDArray[np.int64],
    not_helpful_tag_counts: npt.NDArray[np.int64],
) -> None:
    """A Helpful (Not Helpful) note needs two helpful (not-helpful) tags used by ≥ 2 raters."""
    helpful_tags = (helpful_tag_counts >= k.MIN_RATINGS_TO_GET_TAG).sum(axis=1)
    not_helpful_tags = (not_helpful_tag_counts >= k.MIN_RATINGS_TO_GET_TAG).sum(axis=1)
    lacking = ((decision.status == CRH) & (helpful_tags < k.MIN_TAGS_NEEDED_FOR_STATUS)) | (
        (decision.status == CRNH) & (not_helpful_tags < k.MIN_TAGS_NEEDED_FOR_STATUS)
    )
    decision.apply(Rule.INSUFFICIENT_EXPLANATION, lacking, NMR)


def stabilize(
    decision: Decision,
    *,
    previous_status: npt.NDArray[np.int8],
    stabilization_millis: FloatArray,
    now_millis: int,
) -> FloatArray:
    """Hold newly Helpful notes back for 30 minutes; returns the new stabilization timestamps.

    Timestamps follow X's timestampMillisOfNmrDueToMinStableCrhTime: NaN never stabilized,
    > 0 in a stabilization period since then, -1 left one. Without X's flip predictor, a
    note leaves stabilization as Helpful once 30 minutes have passed.
    """
    status = decision.status
    stamp = stabilization_millis.copy()
    was_crh = previous_status == CRH
    decision.apply(Rule.STABILIZATION, was_crh & (status == HELD), CRH)

    others = ~was_crh
    going_crh = others & (status == CRH)
    going_held = others & (status == HELD)
    going = going_crh | going_held
    never = np.isnan(stamp)
    with np.errstate(invalid="ignore"):
        left = stamp == -1
        waiting = stamp > 0
    elapsed = now_millis - np.where(waiting, stamp, 0)

    enter = going & (never | (left & going_crh))
    decision.apply(Rule.STABILIZATION, enter | (going_held & left), NMR)
    stamp[enter] = now_millis

    in_period = going & waiting
    crh_done = in_period & going_crh & (elapsed >= k.STABLE_CRH_REQUIRED_MILLIS)
    held_expired = in_period & going_held & (elapsed > 6 * k.STABLE_CRH_MAX_MILLIS)
    still = in_period & ~crh_done & ~held_expired
    decision.apply(Rule.STABILIZATION, crh_done, CRH)
    decision.apply(Rule.STABILIZATION, held_expired | still, NMR)
    stamp[crh_done | held_expired] = -1

    stamp[others & ~going & waiting] = -1
    decision.status[decision.status == HELD] = NMR
    return stamp
