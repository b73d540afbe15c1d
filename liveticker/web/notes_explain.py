"""How a note was decided, in plain words from the engine's recorded rules and numbers,
and a blog's notes plot (intercept × viewpoint factor, with the thresholds) as SVG
geometry: what the note's page and the admins' plot page show.

The words are in the language the page speaks (web/i18n.py), so call these inside its
`speaking()`; the admins' plot stays in English.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

from liveticker.domain import notes
from liveticker.domain.languages import N_
from liveticker.domain.notes_labels import LABELS, STATUS_TEXT
from liveticker.storage.models import Note
from liveticker.web import i18n

# -- a code in words ---------------------------------------------------------------------------


def label(code: str) -> str:
    """A status's, classification's, reason's or tag's words in the page's language; a code
    without words (one the engine adds later) as it is, never as markup."""
    english = LABELS.get(code)
    return i18n.gettext(english) if english is not None else code


def status_text(code: str) -> str:
    """A status where it stands alone: what it means for the post ("Helpful: shown under the
    post")."""
    english = STATUS_TEXT.get(code)
    return i18n.gettext(english) if english is not None else label(code)


# -- how a note was decided, in plain words ---------------------------------------------------


def _number(value: float, digits: int = 2) -> str:
    """A decimal as the page's language writes it ("0,47" in German), with a true minus."""
    pattern = "0." + "0" * digits
    return format_decimal(value, format=pattern, locale=i18n.current().locale).replace("-", "−")


def _pair(value: float, limit: float) -> tuple[str, str]:
    """A value and the limit it was held to, with the decimals it takes to tell them apart."""
    for digits in (2, 3, 4):
        shown = _number(value, digits), _number(limit, digits)
        if shown[0] != shown[1]:
            break
    return shown


def explain(note: Note) -> list[str]:
    """The last scoring run's recorded rules for a note, as sentences with its numbers: each
    rule that changed the note, in the run's order, and last the one that decided it."""
    if not note.decided_by:
        return [
            i18n.gettext(
                "Not scored yet: the site scores notes every few minutes, once readers rate them."
            )
        ]
    names = [name for rule in note.rules for name in str(rule).split(",") if name]
    names = [name for name in dict.fromkeys(names) if name not in (note.decided_by, "InitialNMR")]
    return [_sentence(name, note) for name in [*names, note.decided_by]]


def _sentence(name: str, note: Note) -> str:
    from liveticker.scoring import constants as k  # the engine pulls numpy: only when asked

    _ = i18n.gettext
    i, f, top = note.intercept, note.factor, note.intercept_max
    if name == "GeneralCRH" and i is not None and f is not None:
        value, limit = _pair(i, k.CRH_THRESHOLD)
        return _(
            "Rated helpful by people who usually disagree: intercept %(value)s ≥ %(limit)s, "
            "viewpoint factor %(factor)s."
        ) % {"value": value, "limit": limit, "factor": _number(f)}
    if name == "GeneralCRNH" and i is not None and f is not None:
        value, limit = _pair(
            i, k.CRNH_THRESHOLD_INTERCEPT + k.CRNH_THRESHOLD_FACTOR_MULTIPLIER * abs(f)
        )
        return _(
            "Rated not helpful: intercept %(value)s ≤ %(limit)s, the limit for its viewpoint "
            "factor %(factor)s (%(floor)s − %(slope)s × %(size)s)."
        ) % {
            "value": value,
            "limit": limit,
            "factor": _number(f),
            "floor": _number(k.CRNH_THRESHOLD_INTERCEPT),
            "slope": _number(abs(k.CRNH_THRESHOLD_FACTOR_MULTIPLIER), 1),
            "size": _number(abs(f)),
        }
    if name == "UcbCRNH" and top is not None:
        value, limit = _pair(top, k.CRNH_THRESHOLD_UCB_INTERCEPT)
        return _(
            "Rated not helpful: even the top of its intercept's likely range, %(value)s, is "
            "below %(limit)s."
        ) % {"value": value, "limit": limit}
    if name == "NmCRNH" and i is not None:
        value, limit = _pair(i, k.CRNH_THRESHOLD_NM_INTERCEPT)
        return _(
            "Rated not helpful: a note saying a post is not misleading needs an intercept of "
            "at least %(limit)s; it has %(value)s."
        ) % {"value": value, "limit": limit}
    if name == "GeneralCRHInertia" and i is not None:
        value, limit = _pair(i, k.CRH_THRESHOLD - k.CRH_INERTIA_DELTA)
        return _(
            "Still helpful: a note that was helpful stays so down to an intercept of "
            "%(limit)s; it has %(value)s."
        ) % {"value": value, "limit": limit}
    if name == "FilterLargeFactor" and f is not None:
        return _(
            "Not shown: its support comes mostly from one side (viewpoint factor "
            "%(factor)s, beyond ±%(limit)s)."
        ) % {"factor": _number(f), "limit": _number(k.FACTOR_THRESHOLD)}
    if name == "NmrDueToMinStableCrhTime" and note.status == notes.HELPFUL:
        minutes = _minutes(k)
        return i18n.ngettext(
            "Shown once it had stayed helpful for the %(n)s minute a newly helpful note waits.",
            "Shown once it had stayed helpful for the %(n)s minutes a newly helpful note waits.",
            minutes,
        ) % {"n": minutes}
    if name == "InitialNMR" and i is not None:
        return _(
            "Needs more ratings: its intercept, %(value)s, has not reached the %(limit)s "
            "needed to be shown, nor fallen to the limit for not helpful."
        ) % {"value": _number(i), "limit": _number(k.CRH_THRESHOLD)}
    return _plain(name, k)


def _minutes(k: Any) -> int:
    return int(k.STABLE_CRH_REQUIRED_MILLIS // 60_000)


def _plain(name: str, k: Any) -> str:
    """The sentence of a rule that needs no number of the note, only the engine's."""
    _ = i18n.gettext
    if name in _PLAIN:
        return _(_PLAIN[name])
    if name == "InitialNMR":
        needed = k.MIN_RATINGS_NEEDED
        return i18n.ngettext(
            "Needs more ratings: the site places a note once at least %(n)s reader has rated it.",
            "Needs more ratings: the site places a note once at least %(n)s readers have rated it.",
            needed,
        ) % {"n": needed}
    if name == "NmrDueToMinStableCrhTime":
        minutes = _minutes(k)
        return i18n.ngettext(
            "Waiting: a newly helpful note is shown once it has stayed helpful for %(n)s minute.",
            "Waiting: a newly helpful note is shown once it has stayed helpful for %(n)s minutes.",
            minutes,
        ) % {"n": minutes}
    if name == "MinMinorityNetHelpful":
        more = k.MIN_MINORITY_NET_HELPFUL_RATINGS
        return i18n.ngettext(
            "Held back: too few helpful ratings yet from the side that rates it least (it needs "
            "%(n)s more helpful than not helpful).",
            "Held back: too few helpful ratings yet from the side that rates it least (it needs "
            "%(n)s more helpful than not helpful).",
            more,
        ) % {"n": more}
    if name == "NoHighVolIntercept":
        return _(
            "Held back: without the most prolific raters its intercept falls below %(limit)s."
        ) % {"limit": _number(k.CRH_THRESHOLD_NO_HIGH_VOL)}
    if name == "NoCorrelatedIntercept":
        return _(
            "Held back: without raters who rate in step its intercept falls below %(limit)s."
        ) % {"limit": _number(k.CRH_THRESHOLD_NO_CORRELATED)}
    if name == "InsufficientExplanation":
        tags, raters = k.MIN_TAGS_NEEDED_FOR_STATUS, k.MIN_RATINGS_TO_GET_TAG
        return _(
            "Held back: raters have not yet agreed on why; a status needs %(tags)s, each "
            "chosen by at least %(raters)s."
        ) % {
            "tags": i18n.ngettext("%(n)s tag", "%(n)s tags", tags) % {"n": tags},
            "raters": i18n.ngettext("%(n)s rater", "%(n)s raters", raters) % {"n": raters},
        }
    return _("Decided by the scoring rule %(name)s.") % {"name": name}


# The rules whose sentence needs no number at all.
_PLAIN = {
    "RatioCRNH": N_("Rated not helpful: most raters on both sides found it not helpful."),
    "TagFilter": N_(
        "Not shown: raters gave it a not-helpful tag far more often than helpful notes usually get."
    ),
    "FilterIncorrect": N_("Not shown: raters on different sides tagged it as incorrect."),
    "RaterBalance": N_("Held back: its helpful ratings come too unevenly from the two sides."),
    # Not scored at all (domain.notes_run's reasons):
    "Removed": N_("Not scored: the site removed it."),
    "PostNotPublic": N_("Not scored: its post is no longer published."),
    "AuthorNotParticipating": N_("Not scored: its author's account no longer takes part."),
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
