"""Community-notes scoring: the bridging matrix factorization and the status rules around it.

A note is shown when raters who usually disagree both find it helpful. This package is
self-contained (no web, storage or domain imports); see docs/notes-scoring.md.
"""

from liveticker.scoring.data import Notes, Ratings, ScoringInput, Status
from liveticker.scoring.errors import ScoringError, ScoringInputError
from liveticker.scoring.factorization import Factors, Penalties, RatingMatrix, fit, objective
from liveticker.scoring.pipeline import score, score_frames
from liveticker.scoring.report import ScoringResult
from liveticker.scoring.synth import PopulationSpec, generate
from liveticker.scoring.tables import input_from_frames

__all__ = [
    "Factors",
    "Notes",
    "Penalties",
    "PopulationSpec",
    "RatingMatrix",
    "Ratings",
    "ScoringError",
    "ScoringInput",
    "ScoringInputError",
    "ScoringResult",
    "Status",
    "fit",
    "generate",
    "input_from_frames",
    "objective",
    "score",
    "score_frames",
]
