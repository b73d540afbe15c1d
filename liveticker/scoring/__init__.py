"""Community-notes scoring: the bridging matrix factorization and the status rules around it.

A note is shown when raters who usually disagree both find it helpful. This package is
self-contained (no web, storage or domain imports); see docs/notes-scoring.md. Its names
load on first use (PEP 562): `liveticker.scoring.cli` and `liveticker --help` must not pay
for numpy, scipy and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liveticker.scoring.data import Notes, Ratings, ScoringInput, Status
    from liveticker.scoring.errors import ScoringError, ScoringInputError
    from liveticker.scoring.factorization import Factors, Penalties, RatingMatrix, fit, objective
    from liveticker.scoring.pipeline import score, score_frames
    from liveticker.scoring.report import ScoringResult
    from liveticker.scoring.synth import PopulationSpec, generate
    from liveticker.scoring.tables import input_from_frames

_WHERE = {
    "Notes": "data",
    "Ratings": "data",
    "ScoringInput": "data",
    "Status": "data",
    "ScoringError": "errors",
    "ScoringInputError": "errors",
    "Factors": "factorization",
    "Penalties": "factorization",
    "RatingMatrix": "factorization",
    "fit": "factorization",
    "objective": "factorization",
    "score": "pipeline",
    "score_frames": "pipeline",
    "ScoringResult": "report",
    "PopulationSpec": "synth",
    "generate": "synth",
    "input_from_frames": "tables",
}
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
assert sorted(_WHERE) == __all__  # one list of exports, kept in step with where they live


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
