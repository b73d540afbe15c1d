"""A picture of a run: notes on the intercept × factor plane with the status thresholds.

Drawn with matplotlib's Agg backend so it works on servers without a display.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from liveticker.scoring import constants as k

COLOURS = {
    "CURRENTLY_RATED_HELPFUL": "#1a9850",
    "CURRENTLY_RATED_NOT_HELPFUL": "#d73027",
    "NEEDS_MORE_RATINGS": "#878787",
}
LABELS = {
    "CURRENTLY_RATED_HELPFUL": "Helpful",
    "CURRENTLY_RATED_NOT_HELPFUL": "Not Helpful",
    "NEEDS_MORE_RATINGS": "Needs more ratings",
}


def plot_notes(scored: pd.DataFrame, out: Path, *, status_column: str = "coreRatingStatus") -> int:
    """Draw scored notes to `out` (PNG); returns how many notes were drawn."""
    drawn = scored.dropna(subset=["coreNoteIntercept", "coreNoteFactor1"])
    figure, axes = plt.subplots(figsize=(8, 6), dpi=120)
    for status, colour in COLOURS.items():
        group = drawn[drawn[status_column] == status]
        axes.scatter(
            group["coreNoteFactor1"],
            group["coreNoteIntercept"],
            s=8,
            alpha=0.6,
            color=colour,
            label=f"{LABELS[status]} ({len(group)})",
        )
    factor_limit = max(1.0, float(np.nanmax(np.abs(drawn["coreNoteFactor1"]), initial=0)) * 1.05)
    factors = np.linspace(-factor_limit, factor_limit, 200)
    axes.plot(
        [-k.FACTOR_THRESHOLD, k.FACTOR_THRESHOLD],
        [k.CRH_THRESHOLD, k.CRH_THRESHOLD],
        color=COLOURS["CURRENTLY_RATED_HELPFUL"],
        linewidth=1.5,
        label=f"Helpful: intercept ≥ {k.CRH_THRESHOLD}, |factor| ≤ {k.FACTOR_THRESHOLD}",
    )
    for edge in (-k.FACTOR_THRESHOLD, k.FACTOR_THRESHOLD):
        axes.axvline(edge, color=COLOURS["CURRENTLY_RATED_HELPFUL"], linestyle=":", linewidth=1)
    axes.plot(
        factors,
        k.CRNH_THRESHOLD_INTERCEPT + k.CRNH_THRESHOLD_FACTOR_MULTIPLIER * np.abs(factors),
        color=COLOURS["CURRENTLY_RATED_NOT_HELPFUL"],
        linewidth=1.5,
        label="Not Helpful: intercept ≤ −0.05 − 0.8·|factor|",
    )
    axes.set_xlim(-factor_limit, factor_limit)
    axes.set_xlabel("note factor (viewpoint)")
    axes.set_ylabel("note intercept (helpfulness beyond viewpoint)")
    axes.set_title(f"Community notes by status ({status_column})")
    axes.axhline(0, color="black", linewidth=0.5)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)
    return len(drawn)
