"""Every constant of the bridging algorithm (shared/NOTES-ALGORITHM.md), named once.

The values are those of X's public Community Notes scorer; the docs explain where
Liveticker deliberately departs from it.
"""

from __future__ import annotations

from typing import Final

# Ratings: helpfulnessLevel -> numeric value.
HELPFUL_NUM: Final = {"HELPFUL": 1.0, "SOMEWHAT_HELPFUL": 0.5, "NOT_HELPFUL": 0.0}

# Core matrix factorization.
LAMBDA_INTERCEPT: Final = 0.15
LAMBDA_FACTOR: Final = 0.03
SOLVER_TOLERANCE: Final = 1e-9  # relative change of the objective between two sweeps
SOLVER_MAX_ITERATIONS: Final = 1000
MIN_RATINGS_PER_RATER: Final = 10
MIN_RATERS_PER_NOTE: Final = 5

# Rater helpfulness (who counts in the final fit).
MIN_RATER_AGREE_RATIO: Final = 0.66
VALID_RATING_WINDOW_MILLIS: Final = 48 * 60 * 60 * 1000
CRNH_AUTHOR_MULTIPLIER: Final = 5.0
MIN_CRH_VS_CRNH_RATIO: Final = 0.0
MIN_MEAN_NOTE_SCORE: Final = 0.05
# Notes older than the public status history have no status timestamps: their first
# ratings count as valid instead (as in the reference).
TOMBSTONES_LAUNCH_MILLIS: Final = 1652918400000
MAX_HISTORICAL_VALID_RATINGS: Final = 5

# Note status.
MIN_RATINGS_NEEDED: Final = 5
CRH_THRESHOLD: Final = 0.40
CRH_INERTIA_DELTA: Final = 0.01  # a note already Helpful keeps it down to 0.39
FACTOR_THRESHOLD: Final = 0.5
CRNH_THRESHOLD_INTERCEPT: Final = -0.05
CRNH_THRESHOLD_FACTOR_MULTIPLIER: Final = -0.8
CRNH_THRESHOLD_UCB_INTERCEPT: Final = -0.04
CRNH_THRESHOLD_NM_INTERCEPT: Final = -0.15
RATIO_MAX_HELPFUL_PER_SIDE: Final = 0.4
RATIO_MAX_MEAN_HELPFUL: Final = 0.3
RATIO_MIN_RATERS_PER_SIDE: Final = 3

# Guards on would-be Helpful notes.
# Tag outliers: a not-helpful tag whose distance-weighted share is above the 95th percentile
# of provisionally Helpful notes (and weighted count above 2.5) holds the note back.
TAG_FILTER_PERCENTILE: Final = 95
TAG_DISTANCE_PERCENTILE: Final = 40
TAG_MIN_ADJUSTED_TOTAL: Final = 2.5
TAG_FILTER_EXEMPT: Final = ("notHelpfulHardToUnderstand",)
INCORRECT_TAG_THRESHOLD: Final = 2
INCORRECT_VOTER_THRESHOLD: Final = 3
INCORRECT_WEIGHTED_THRESHOLD: Final = 2.5
INCORRECT_INTERVAL_HALF_WIDTH: Final = 0.3
INCORRECT_FACTOR_CLIP: Final = 0.4
MIN_RATINGS_TO_GET_TAG: Final = 2
MIN_TAGS_NEEDED_FOR_STATUS: Final = 2
MIN_MINORITY_NET_HELPFUL_RATINGS: Final = 4
MIN_MINORITY_NET_HELPFUL_RATIO: Final = 0.05

# Stabilization of newly Helpful notes.
STABLE_CRH_REQUIRED_MILLIS: Final = 30 * 60 * 1000
STABLE_CRH_MAX_MILLIS: Final = 60 * 60 * 1000

# Pseudo-raters: one helpful rating from the lowest-intercept rater at factor min, 0, max.
PSEUDO_RATER_HELPFUL_NUM: Final = 1.0

# Coordinated gaming: post selection similarity.
PSS_WINDOW_MILLIS: Final = 20 * 60 * 1000
PSS_PMI_PSEUDOCOUNTS: Final = 500
PSS_NPMI_THRESHOLD: Final = 0.55
PSS_MIN_SIM_PSEUDOCOUNTS: Final = 10
PSS_MIN_RATING_PROPORTION: Final = 0.4
PSS_MIN_UNIQUE_POSTS: Final = 10
# Work bound: a rating is paired with at most this many later ratings of the same note
# inside the window (documented in docs/notes-scoring.md).
PSS_MAX_PAIRS_PER_RATING: Final = 500
# Burst baseline (Liveticker, not X): X's 20-minute window and thresholds assume that two
# ratings of the same note rarely land that close by chance. When the population's own
# rating delays make that chance larger than this share, the window shrinks to the delay
# gap that only this share of rating pairs reaches, so co-rating "within the window"
# keeps meaning "closer than the crowd" in a live blog's burst. 0.1 leaves X-shaped data
# untouched: with X-like delays (exponential, mean 8 h) the 20-minute share is 0.04.
PSS_BASELINE_NEAR_SHARE: Final = 0.1
# The window never shrinks below one second (timestamps finer than that are not
# trusted); if even one second holds a larger share, co-ratings count only for the
# part beyond chance: co × (1 − share) / (1 − PSS_BASELINE_NEAR_SHARE).
PSS_MIN_WINDOW_MILLIS: Final = 1000
# Work bound: the near share is measured on at most this many delays (evenly spaced
# ranks of the sorted delays, so the sample keeps the distribution's shape).
PSS_BASELINE_SAMPLE: Final = 200_000

# Co-deviating groups (Liveticker, not X; collusion.py): raters who leave their camp's
# verdict together. A departure is a rating at least 0.5 (one helpfulness level) from
# its camp's median on the note, the rater's intercept removed; camps with fewer than
# 3 raters on a note give no verdict. A pair is linked when it shares ≥ 3 departures
# (note and direction) and they are at least 2/3 of the departures of the pair's
# quieter rater (+1 smoothing): honest camp members depart alone and rarely. Measured
# (bench/brigades.py and two X-shaped 60,000-rating populations): with a share of 1/2
# or 0.6, honest raters formed groups on the X-shaped data (68 and 107 ratings set
# aside, 2 statuses changed on each); at 2/3 none did, on those and on 20 small honest
# runs, and the smallest groups withstood over ten seeds were the same.
CODEV_MIN_CAMP_RATERS: Final = 3
CODEV_MIN_DEPARTURE: Final = 0.5
CODEV_MIN_SHARED: Final = 3
CODEV_MIN_SHARE: Final = 2 / 3
CODEV_SHARE_PSEUDOCOUNT: Final = 1
# A rater departing on more than a third of their judged ratings is a chronic dissenter
# (a random rater departs on about half): never linked, left to the helpfulness filter,
# which drops raters agreeing with fewer than 2/3 of outcomes anyway.
CODEV_MAX_DEPARTURE_SHARE: Final = 1 / 3
# With ScoringInput.first_activity_millis, a camp's verdict on a note comes from its
# accounts first active at least a week before the note was written (when 3 or more
# rated it): a week is longer than a breaking story, so accounts made for the story
# cannot shift the verdict they depart from, however many they are.
CODEV_ESTABLISHED_MILLIS: Final = 7 * 24 * 60 * 60 * 1000
# A group with fewer than 3 departures (a pair's worth) from either camp speaks for one
# camp: its ratings are set aside, but the note must be Helpful with them counted too
# (rule WithOneCampGroups), because once a brigade owns a camp's median on a note, that
# camp's honest dissenters are the ones who depart together. A group leaving both camps
# together (a bridging note "disliked by both sides") is set aside without that check.
CODEV_MIN_PER_CAMP: Final = 3
# Work bound: a note direction with more departures than this is left out of the pair
# count (at most 1000² / 2 pairs per note), as quasi-cliques skip crowded notes.
CODEV_MAX_DEPARTURES_PER_NOTE: Final = 1000

# Correlated and high-volume raters.
CRH_THRESHOLD_NO_HIGH_VOL: Final = 0.37
CRH_THRESHOLD_NO_CORRELATED: Final = 0.37
HIGH_VOLUME_QUANTILE: Final = 0.999
HIGH_VOLUME_WINDOWS_DAYS: Final = (7, 28)
MIN_NOTES_FOR_HIGH_VOLUME: Final = 200
QUASI_CLIQUE_MIN_ALIGNED_RATINGS: Final = 50
QUASI_CLIQUE_MIN_RATERS: Final = 5
QUASI_CLIQUE_MAX_RATERS_PER_NOTE: Final = 1000

# Writing ability: more than 2 of the last 5 notes Not Helpful loses the right to write.
WRITING_RECENT_NOTES: Final = 5
WRITING_MAX_NOT_HELPFUL: Final = 2

# Enrollment: the core model scores raters of these modeling groups and unassigned ones.
CORE_MODELING_GROUPS: Final = frozenset({1, 2, 3, 6, 8, 9, 10, 11, 13, 14, 19, 21, 25})

# X's TSV values.
MISLEADING: Final = "MISINFORMED_OR_POTENTIALLY_MISLEADING"
NOT_MISLEADING: Final = "NOT_MISLEADING"
