"""The demo's readers and their community notes, so `serve --demo` shows the whole loop.

Twelve readers in two camps (for the ferry crews, for the harbour board) rated the notes
on the ferry strike's posts over two days; the scorer has learned their viewpoints from
that. On the flood blog, a note both camps found helpful is shown under its post, and
one only the crews' side liked waits for ratings; the Arabic flood blog shows a helpful
one in Arabic. Every note and rating is written through the domain, and the statuses come
from real scoring runs, as on a newsroom's site.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from liveticker.domain import notes, notes_run
from liveticker.domain.accounts import Actor, Role, password_hasher
from liveticker.domain.demo import DEMO_PASSWORD
from liveticker.domain.inputs import MISLEADING, NoteCreate, RatingInput
from liveticker.storage.models import Blog, Post, User

CAMPS = ("crews", "board")  # the two sides of the ferry dispute
SOURCES = {"strike": "https://example.org/callow-sound", "flood": "https://example.org/elde-gauges"}
TAGS = {
    "HELPFUL": ["helpfulClear", "helpfulGoodSources"],
    "NOT_HELPFUL": ["notHelpfulIncorrect", "notHelpfulSourcesMissingOrUnreliable"],
}
# The strike's notes: text, and how each camp rated it (crews, board).
STRIKE_NOTES: tuple[tuple[str, tuple[str, str]], ...] = (
    ("The crews warned about night shifts for a year before the walkout.", ("H", "N")),
    ("Crews on the mainland routes work the same rota without complaint.", ("N", "H")),
    ("Two near-misses in the sound last winter followed double night shifts.", ("H", "N")),
    ("The operator offered a pay rise in October, which the union refused.", ("N", "H")),
    ("The union's ballot had a 91% turnout, the highest at the port in years.", ("H", "N")),
    ("Islanders' medical trips were covered by the emergency boat throughout.", ("N", "H")),
    ("Night-shift limits are the law for ferry crews from next spring anyway.", ("H", "N")),
    ("The board's chair was a director of the operator until last year.", ("N", "H")),
    ("The emergency boat ran both days: 14 crossings, per the harbour log.", ("H", "H")),
    ("The strike lasted 48 hours as announced; the deal came on day two.", ("H", "H")),
    ("Inchmore has about 1,200 residents (census 2021), as the post says.", ("H", "H")),
    ("The ferries were sold to a foreign fund during the strike.", ("N", "N")),
    ("No ferry crossed for a week.", ("N", "N")),
    ("The island's school was closed for the whole month.", ("N", "N")),
)
LEVELS = {"H": "HELPFUL", "N": "NOT_HELPFUL"}
# The flood blogs' notes: on which post, the text, how each camp rated it.
FLOOD_NOTES: tuple[tuple[str, str, tuple[str, str]], ...] = (
    (
        "River passes its record level at Marrow",
        "The March 2024 record of 4.51 m was read at Elde Mill, 2 km upstream; today's "
        "4.62 m is from the town gauge, which reads higher. The two are not comparable.",
        ("H", "H"),
    ),
    (
        "'The next twelve hours are critical'",
        "The fire service had asked for more crews a month ago and was turned down.",
        ("H", "N"),
    ),
    (
        "النهر يتجاوز أعلى منسوب مسجّل له في مارو",
        "سُجّل الرقم القياسي في مارس/آذار 2024 (4.51 م) عند طاحونة إلده، على بعد 2 كم أعلى "
        "النهر، أما قراءة اليوم (4.62 م) فمن مقياس البلدة الذي يسجّل قراءات أعلى. الرقمان "
        "غير قابلين للمقارنة.",
        ("H", "H"),
    ),
)
STABLE = timedelta(minutes=31)  # past the 30 minutes a Helpful note holds before it shows


def _rating(code: str) -> RatingInput:
    level = LEVELS[code]
    return RatingInput(helpfulness=level, tags=TAGS[level])


def _note(text: str, *, story: str) -> NoteCreate:
    return NoteCreate(
        classification=MISLEADING,
        reasons=["misleadingMissingImportantContext"],
        text=text,
        sources=[SOURCES[story]],
    )


def create_community(
    session: Session,
    *,
    strike: Blog,
    flood: Blog,
    arabic: Blog,
    started: datetime,
    threshold: int,
) -> list[str]:
    """The readers, their notes and ratings, and the two scoring runs that decided them;
    returns the readers' aliases (password DEMO_PASSWORD)."""
    joined = started - timedelta(days=9)
    # One argon2 hash for all 28 readers: each takes a tenth of a second to make.
    password_hash = password_hasher.hash(DEMO_PASSWORD)

    def reader(alias: str) -> Actor:
        user = User(
            username=alias,
            display_name=alias,
            role=Role.READER.value,
            password_hash=password_hash,
            writing_granted=True,
            created_at=joined,
        )
        session.add(user)
        session.flush()
        user.participant_id = f"DEMO{user.id:060d}"
        return Actor.of(user)

    camps = [[reader(f"{camp}-reader-{n}") for n in range(1, 7)] for camp in CAMPS]
    strike_posts = list(
        session.scalars(select(Post).where(Post.blog_id == strike.id).order_by(Post.id))
    )
    written = started - timedelta(hours=50)
    strike_notes = [
        notes.write_note(
            session,
            actor=reader(f"strike-writer-{n}"),
            post=strike_posts[n % len(strike_posts)],
            data=_note(text, story="strike"),
            threshold=threshold,
            per_day=len(STRIKE_NOTES),
            now=written,
        )
        for n, (text, _sides) in enumerate(STRIKE_NOTES)
    ]
    # One reader at a time, minutes apart: an ordinary two days, not a burst.
    slot = 0
    for side, camp in enumerate(camps):
        for rater in camp:
            for note, (_text, sides) in zip(strike_notes, STRIKE_NOTES, strict=True):
                slot += 1
                notes.rate_note(
                    session,
                    actor=rater,
                    note=note,
                    data=_rating(sides[side]),
                    per_hour=10_000,
                    now=written + timedelta(minutes=8 * slot),
                )
    _score(session, at=started - timedelta(hours=4), threshold=threshold)
    _score(session, at=started - timedelta(hours=4) + STABLE, threshold=threshold)

    flood_posts = {
        post.headline: post
        for post in session.scalars(select(Post).where(Post.blog_id.in_((flood.id, arabic.id))))
    }
    noted = started - timedelta(hours=3)
    for n, (headline, text, sides) in enumerate(FLOOD_NOTES):
        note = notes.write_note(
            session,
            actor=reader(f"flood-writer-{n + 1}"),
            post=flood_posts[headline],
            data=_note(text, story="flood"),
            threshold=threshold,
            per_day=len(FLOOD_NOTES),
            now=noted,
        )
        for side, camp in enumerate(camps):
            for r, rater in enumerate(camp):
                if n == 1 and side == 0 and r == 0:
                    continue  # waits in the demo reader's "Needs your help"
                notes.rate_note(
                    session,
                    actor=rater,
                    note=note,
                    data=_rating(sides[side]),
                    per_hour=10_000,
                    now=noted + timedelta(minutes=4 * (side * len(camp) + r + 1)),
                )
    _score(session, at=started - timedelta(minutes=45), threshold=threshold)
    _score(session, at=started - timedelta(minutes=45) + STABLE, threshold=threshold)
    return [actor.username for camp in camps for actor in camp]


def _score(session: Session, *, at: datetime, threshold: int) -> None:
    """A scoring run at `at`, in the caller's transaction (the demo is made in one)."""
    now_millis = notes_run.millis(at)
    run_input = notes_run.read_input(
        session, now_millis=now_millis, min_account_age_seconds=0, threshold=threshold
    )
    result = notes_run.score(run_input)
    notes_run.store_results(
        session,
        run_input=run_input,
        result=result,
        started_at=at,
        timings={},
        threshold=threshold,
    )
