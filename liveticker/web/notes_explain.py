"""How a note was decided, in plain words from the engine's recorded rules and numbers,
and a blog's notes plot (intercept × viewpoint factor, with the thresholds) as SVG
geometry: what the note's page and the admins' plot page show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from liveticker.domain import notes
from liveticker.storage.models import Note

# -- how a note was decided, in plain words ---------------------------------------------------


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _pair(value: float, limit: float) -> tuple[str, str]:
    """A value and the limit it was held to, with the decimals it takes to tell them apart."""
    for digits in (2, 3, 4):
        shown = f"{value:.{digits}f}", f"{limit:.{digits}f}"
        if shown[0] != shown[1]:
            break
    return shown[0].replace("-", "−"), shown[1].replace("-", "−")


def explain(note: Note) -> list[str]:
    """The last scoring run's recorded rules for a note, as sentences with its numbers: each
    rule that changed the note, in the run's order, and last the one that decided it."""
    if not note.decided_by:
        return ["Not scored yet: the site scores notes every few minutes, once readers rate them."]
    names = [name for rule in note.rules for name in str(rule).split(",") if name]
    names = [name for name in dict.fromkeys(names) if name not in (note.decided_by, "InitialNMR")]
    return [_sentence(name, note) for name in [*names, note.decided_by]]


def _sentence(name: str, note: Note) -> str:
    from liveticker.scoring import constants as k  # the engine pulls numpy: only when asked

    i, f, top = note.intercept, note.factor, note.intercept_max
    if name == "GeneralCRH" and i is not None and f is not None:
        value, limit = _pair(i, k.CRH_THRESHOLD)
        return (
            f"Rated helpful by people who usually disagree: intercept {value} ≥ {limit}, "
            f"viewpoint factor {_number(f)}."
        )
    if name == "GeneralCRNH" and i is not None and f is not None:
        value, limit = _pair(
            i, k.CRNH_THRESHOLD_INTERCEPT + k.CRNH_THRESHOLD_FACTOR_MULTIPLIER * abs(f)
        )
        return (
            f"Rated not helpful: intercept {value} ≤ {limit}, the limit for its viewpoint "
            f"factor {_number(f)} ({_number(k.CRNH_THRESHOLD_INTERCEPT)} − "
            f"{abs(k.CRNH_THRESHOLD_FACTOR_MULTIPLIER):.1f} × {abs(f):.2f})."
        )
    if name == "UcbCRNH" and top is not None:
        value, limit = _pair(top, k.CRNH_THRESHOLD_UCB_INTERCEPT)
        return (
            f"Rated not helpful: even the top of its intercept's likely range, {value}, is "
            f"below {limit}."
        )
    if name == "NmCRNH" and i is not None:
        value, limit = _pair(i, k.CRNH_THRESHOLD_NM_INTERCEPT)
        return (
            "Rated not helpful: a note saying a post is not misleading needs an intercept of "
            f"at least {limit}; it has {value}."
        )
    if name == "GeneralCRHInertia" and i is not None:
        value, limit = _pair(i, k.CRH_THRESHOLD - k.CRH_INERTIA_DELTA)
        return (
            "Still helpful: a note that was helpful stays so down to an intercept of "
            f"{limit}; it has {value}."
        )
    if name == "FilterLargeFactor" and f is not None:
        return (
            f"Not shown: its support comes mostly from one side (viewpoint factor "
            f"{_number(f)}, beyond ±{k.FACTOR_THRESHOLD:.2f})."
        )
    if name == "NmrDueToMinStableCrhTime" and note.status == notes.HELPFUL:
        return (
            f"Shown once it had stayed helpful for the {_minutes(k)} minutes a newly helpful "
            "note waits."
        )
    if name == "InitialNMR" and i is not None:
        return (
            f"Needs more ratings: its intercept, {_number(i)}, has not reached the "
            f"{k.CRH_THRESHOLD:.2f} needed to be shown, nor fallen to the limit for not helpful."
        )
    return _PLAIN.get(name, "Decided by the scoring rule {name}.").format(
        k=k, name=name, minutes=_minutes(k)
    )


def _minutes(k: Any) -> int:
    return int(k.STABLE_CRH_REQUIRED_MILLIS // 60_000)


# The rules whose sentence needs no number of the note ({k}: the engine's constants).
_PLAIN = {
    "InitialNMR": "Needs more ratings: the site places a note once at least "
    "{k.MIN_RATINGS_NEEDED} readers have rated it.",
    "RatioCRNH": "Rated not helpful: most raters on both sides found it not helpful.",
    "NmrDueToMinStableCrhTime": "Waiting: a newly helpful note is shown once it has stayed "
    "helpful for {minutes} minutes.",
    "TagFilter": "Not shown: raters gave it a not-helpful tag far more often than helpful "
    "notes usually get.",
    "FilterIncorrect": "Not shown: raters on different sides tagged it as incorrect.",
    "MinMinorityNetHelpful": "Held back: too few helpful ratings yet from the side that rates "
    "it least (it needs {k.MIN_MINORITY_NET_HELPFUL_RATINGS} more helpful than not helpful).",
    "RaterBalance": "Held back: its helpful ratings come too unevenly from the two sides.",
    "NoHighVolIntercept": "Held back: without the most prolific raters its intercept falls "
    "below {k.CRH_THRESHOLD_NO_HIGH_VOL:.2f}.",
    "NoCorrelatedIntercept": "Held back: without raters who rate in step its intercept falls "
    "below {k.CRH_THRESHOLD_NO_CORRELATED:.2f}.",
    "InsufficientExplanation": "Held back: raters have not yet agreed on why; a status needs "
    "{k.MIN_TAGS_NEEDED_FOR_STATUS} tags, each chosen by at least {k.MIN_RATINGS_TO_GET_TAG} "
    "raters.",
    # Not scored at all (domain.notes_run's reasons):
    "Removed": "Not scored: the site removed it.",
    "PostNotPublic": "Not scored: its post is no longer published.",
    "AuthorNotParticipating": "Not scored: its author's account no longer takes part.",
}


# -- the blog's notes plot --------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    """Scored notes on the intercept × factor plane, in SVG coordinates, with the limits."""

    width: int
    height: int
    points: list[dict[str, Any]]
    helpful: str  # a path: the intercept limit, and the factor limits above it
    not_helpful: str  # a path: the not-helpful limit, a V over the factor axis
    ticks_x: list[tuple[float, str]]
    ticks_y: list[tuple[float, str]]
    left: int
    bottom: int
    limits: str  # the Helpful box in words


def plot(scored: list[Note], *, width: int = 640, height: int = 440, pad: int = 64) -> Plot:
    """The SVG geometry of the admins' notes plot: factor across, intercept up, the whole
    Helpful box and not-helpful V in view, whatever the notes' spread."""
    from liveticker.scoring import constants as k  # the engine pulls numpy: only when asked

    floor, slope = k.CRNH_THRESHOLD_INTERCEPT, k.CRNH_THRESHOLD_FACTOR_MULTIPLIER
    reach = max([1.0, *(abs(note.factor or 0) for note in scored)])
    low = min([floor + slope * reach, *(note.intercept or 0 for note in scored)])
    high = max([0.8, *(note.intercept or 0 for note in scored)])

    def x(factor: float) -> float:
        return round(pad + (factor + reach) / (2 * reach) * (width - 2 * pad), 1)

    def y(intercept: float) -> float:
        return round(height - pad - (intercept - low) / (high - low) * (height - 2 * pad), 1)

    edge, crh = k.FACTOR_THRESHOLD, k.CRH_THRESHOLD
    helpful = f"M{x(-edge)},{y(high)} L{x(-edge)},{y(crh)} L{x(edge)},{y(crh)} L{x(edge)},{y(high)}"
    not_helpful = " ".join(
        f"{'M' if n == 0 else 'L'}{x(f)},{y(floor + slope * abs(f))}"
        for n, f in enumerate((-reach, 0.0, reach))
    )
    points = [
        {
            "id": note.id,
            "x": x(note.factor or 0),
            "y": y(note.intercept or 0),
            "status": note.status,
            "intercept": _number(note.intercept or 0),
            "factor": _number(note.factor or 0),
        }
        for note in scored
    ]
    steps_x = [-reach, -edge, 0.0, edge, reach]
    steps_y = [v / 10 for v in range(math.floor(low * 5) * 2, math.ceil(high * 10) + 1, 2)]
    return Plot(
        width=width,
        height=height,
        points=points,
        helpful=helpful,
        not_helpful=not_helpful,
        ticks_x=[(x(v), _number(v)) for v in steps_x],
        ticks_y=[(y(v), _number(v)) for v in steps_y if low <= v <= high],
        left=pad,
        bottom=height - pad,
        limits=f"intercept at least {crh:.2f}, factor between −{edge:.2f} and {edge:.2f}",
    )
