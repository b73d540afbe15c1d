"""Shared synthetic populations for the scoring tests, generated and scored once per session."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from liveticker.scoring.pipeline import score
from liveticker.scoring.report import ScoringResult
from liveticker.scoring.synth import Population, PopulationSpec, generate

NOW = 1_768_000_000_000


@dataclass(frozen=True)
class Scored:
    population: Population
    result: ScoringResult


def _scored(spec: PopulationSpec) -> Scored:
    population = generate(spec)
    return Scored(population, score(population.data, now_millis=NOW, seed=0))


@pytest.fixture(scope="session")
def majority_a() -> Scored:
    """Camp A is the larger camp (60%); one 30-account brigade."""
    return _scored(PopulationSpec(n_ratings=60_000, camp_a_share=0.6, brigades=1, seed=11))


@pytest.fixture(scope="session")
def minority_a() -> Scored:
    """Camp A is the smaller camp (30%)."""
    return _scored(PopulationSpec(n_ratings=60_000, camp_a_share=0.3, seed=12))
