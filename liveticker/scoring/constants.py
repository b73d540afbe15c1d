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
