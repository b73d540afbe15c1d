"""The scoring loop inside the product (domain.notes_run, live.notes_runner): readers in
two camps write and rate through the domain, runs at controlled times decide what shows.

The population: 15 readers in each camp rate every note; two notes both camps find
helpful (the bridging ones, under the first post), 14 that only one camp likes, and 3 bad
notes by one troll. Every rating falls within 40 hours of the notes; runs start after.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from liveticker.domain import accounts, blogs, leases, notes, notes_run, posts, readers, users
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import BlogCreate, NoteCreate, PostCreate, RatingInput
from liveticker.live import notes_runner
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import (
    Event,
    Note,
    NoteParticipant,
    NotesRun,
    NoteStatusChange,
    Post,
    User,
)

BASE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MINUTE_MS = 60_000
PASSWORD = "correct horse battery"
HELPFUL_TAGS = ["helpfulClear", "helpfulGoodSources"]
NOT_HELPFUL_TAGS = ["notHelpfulOpinionSpeculationOrBias", "notHelpfulSourcesMissingOrUnreliable"]
CAMP_SIZE = 15


def at(moment: datetime) -> int:
    return notes_run.millis(moment)


FIRST_RUN = at(BASE + 41 * HOUR)


@dataclass
class Population:
    """Ids of what `build` made: notes by kind, readers by camp, the posts."""

    posts: list[int]
    bridging: list[int]
    one_sided: list[int]  # liked by camp A only
    other_side: list[int]  # liked by camp B only
    bad: list[int]
    camp_a: list[int]
    camp_b: list[int]
    writers: dict[int, int] = field(default_factory=dict)  # note id → author id
    troll: int = 0
    admin: int = 0
    editor: int = 0


def settings_for(database: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database.url,
        "notes_writing_impact": 5,
        "notes_min_account_age_seconds": 86_400,
    }
    return Settings(**{**values, **overrides})


def make_reader(
    session: Any, name: str, *, created: datetime = BASE - 3 * 24 * HOUR, writes: bool = False
) -> User:
    user = accounts.create_user(session, username=name, password=PASSWORD, role="reader")
    user.participant_id = f"P-{name}".upper()
    user.created_at = created
    user.writing_granted = writes
    session.flush()
    return user


def rate(session: Any, *, user_id: int, note_id: int, level: str, when: datetime) -> None:
    tags = NOT_HELPFUL_TAGS if level == "NOT_HELPFUL" else HELPFUL_TAGS
    notes.rate_note(
        session,
        actor=Actor.of(session.get_one(User, user_id)),
        note=session.get_one(Note, note_id),
        data=RatingInput(helpfulness=level, tags=tags),
        per_hour=100_000,
        now=when,
    )


def write(session: Any, *, author: User, post: Post, text: str, when: datetime = BASE) -> int:
    data = NoteCreate(
        classification="MISINFORMED_OR_POTENTIALLY_MISLEADING",
        reasons=["misleadingMissingImportantContext"],
        text=text,
        sources=["https://example.org/source"],
    )
    note = notes.write_note(
        session, actor=Actor.of(author), post=post, data=data, threshold=5, per_day=100, now=when
    )
    return note.id


def build(database: Database, *, seed: int = 7) -> Population:
    """Blog, posts, writers and notes, the two camps and their ratings."""
    shuffle = random.Random(seed)
    with database.transaction() as session:
        admin = accounts.create_user(session, username="admin", password=PASSWORD, role="admin")
        editor = accounts.create_user(session, username="ed", password=PASSWORD, role="editor")
        actor = Actor.of(editor)
        blog = blogs.create_blog(
            session, actor=actor, data=BlogCreate(slug="storm", title="S"), default_language="en"
        )
        blogs.publish_blog(session, actor=actor, blog=blog)
        made = [
            posts.create_post(session, actor=actor, blog=blog, data=PostCreate(body=f"Post {i}"))
            for i in range(4)
        ]
        troll = make_reader(session, "troll", writes=True)
        population = Population(
            posts=[post.id for post in made],
            bridging=[],
            one_sided=[],
            other_side=[],
            bad=[],
            camp_a=[make_reader(session, f"a{i}").id for i in range(CAMP_SIZE)],
            camp_b=[make_reader(session, f"b{i}").id for i in range(CAMP_SIZE)],
            troll=troll.id,
            admin=admin.id,
            editor=editor.id,
        )
        kinds = [("bridging", 2), ("one_sided", 7), ("other_side", 7)]
        count = 0
        for kind, number in kinds:
            for _ in range(number):
                author = make_reader(session, f"w{count}", writes=True)
                post = made[0] if kind == "bridging" else made[1 + count % 3]
                note_id = write(session, author=author, post=post, text=f"{kind} note {count}")
                getattr(population, kind).append(note_id)
                population.writers[note_id] = author.id
                count += 1
        for post in made[1:]:
            note_id = write(session, author=troll, post=post, text="All lies, trust me.")
            population.bad.append(note_id)
            population.writers[note_id] = troll.id
        for note_id in [*population.bridging, *population.bad]:
            likes = {"A": note_id in population.bridging, "B": note_id in population.bridging}
            _rate_all(session, population, note_id, likes, shuffle)
        for note_id in population.one_sided:
            _rate_all(session, population, note_id, {"A": True, "B": False}, shuffle)
        for note_id in population.other_side:
            _rate_all(session, population, note_id, {"A": False, "B": True}, shuffle)
    return population


def _rate_all(
    session: Any, population: Population, note_id: int, likes: dict[str, bool], shuffle: Any
) -> None:
    for camp, members in (("A", population.camp_a), ("B", population.camp_b)):
        for user_id in members:
            when = BASE + timedelta(minutes=shuffle.uniform(60, 40 * 60))
            level = "HELPFUL" if likes[camp] else "NOT_HELPFUL"
            rate(session, user_id=user_id, note_id=note_id, level=level, when=when)


@pytest.fixture
def population(database: Database) -> Population:
    return build(database)


def run(database: Database, now: int, **options: Any) -> notes_runner.Outcome:
    settings = options.pop("settings", None) or settings_for(database)
    return notes_runner.run_once(database, settings=settings, now_millis=now, **options)


def statuses(database: Database, ids: list[int]) -> list[str]:
    with database.transaction(write=False) as session:
        found = dict(session.execute(select(Note.id, Note.status).where(Note.id.in_(ids))).all())
    return [found[i] for i in ids]


def notes_events(database: Database, post_id: int) -> list[Event]:
    with database.transaction(write=False) as session:
        return list(
            session.scalars(
                select(Event)
                .where(Event.kind == notes.NOTES, Event.entity == notes.notes_entity(post_id))
                .order_by(Event.seq)
            )
        )


def participant(database: Database, user_id: int) -> NoteParticipant:
    with database.transaction(write=False) as session:
        return session.get_one(NoteParticipant, user_id)


# -- stabilization, events, skipping -------------------------------------------------------


def test_a_bridging_note_shows_after_stabilization_with_a_live_event(
    database: Database, population: Population
) -> None:
    first = run(database, FIRST_RUN)
    assert first.ran, first.summary()
    assert first.notes == 19
    assert first.ratings == 19 * 2 * CAMP_SIZE
    # It qualified, but waits out its stabilization: nothing shows yet.
    assert statuses(database, population.bridging) == [notes.NEEDS_MORE_RATINGS] * 2
    with database.transaction(write=False) as session:
        bridging = session.get_one(Note, population.bridging[0])
        assert bridging.core_status == notes.HELPFUL
        assert bridging.decided_by == "NmrDueToMinStableCrhTime"
        assert bridging.intercept is not None
        assert bridging.intercept > 0.4
        assert bridging.intercept_min is not None
        assert bridging.intercept_max is not None
    assert statuses(database, population.one_sided) == [notes.NEEDS_MORE_RATINGS] * 7
    assert statuses(database, population.bad) == [notes.NOT_HELPFUL] * 3
    assert notes_events(database, population.posts[0]) == []

    # Ten minutes on, with nothing new, a run would change nothing: skipped.
    quiet = run(database, FIRST_RUN + 10 * MINUTE_MS)
    assert not quiet.ran
    assert quiet.reason == "nothing changed since the last run"

    # Thirty minutes after it first qualified, its wait is over: not skipped, shown.
    shown = run(database, FIRST_RUN + 31 * MINUTE_MS)
    assert shown.ran, shown.summary()
    assert shown.reason == "a note's stabilization time passed"
    assert statuses(database, population.bridging) == [notes.HELPFUL] * 2
    assert shown.changes == 2
    assert shown.posts == 1
    logged = notes_events(database, population.posts[0])
    assert len(logged) == 1
    assert [note["id"] for note in logged[0].data["notes"]] == population.bridging
    with database.transaction(write=False) as session:
        history = session.scalars(
            select(NoteStatusChange)
            .where(NoteStatusChange.note_id == population.bridging[0])
            .order_by(NoteStatusChange.id)
        ).all()
        assert [change.status for change in history] == [notes.HELPFUL]
        assert history[0].at == BASE + 41 * HOUR + timedelta(minutes=31)
        runs = session.scalars(select(NotesRun).order_by(NotesRun.id)).all()
        assert [r.now_millis for r in runs] == [FIRST_RUN, FIRST_RUN + 31 * MINUTE_MS]
        assert history[0].run_id == runs[1].id
        assert set(runs[1].timings) >= {"read", "score", "write"}

    # And after that, quiet again until something changes.
    assert not run(database, FIRST_RUN + 40 * MINUTE_MS).ran
    with database.transaction() as session:
        rate(
            session,
            user_id=population.camp_a[0],
            note_id=population.other_side[0],
            level="SOMEWHAT_HELPFUL",
            when=BASE + 42 * HOUR,
        )
    again = run(database, FIRST_RUN + 60 * MINUTE_MS)
    assert again.ran
    assert again.reason == "notes, ratings or readers changed"
    assert statuses(database, population.bridging) == [notes.HELPFUL] * 2
    assert len(notes_events(database, population.posts[0])) == 1  # shown notes unchanged


def test_a_run_with_nothing_to_score(database: Database) -> None:
    first = run(database, FIRST_RUN)
    assert first.ran
    assert (first.notes, first.ratings, first.changes) == (0, 0, 0)
    assert not run(database, FIRST_RUN + MINUTE_MS).ran


def test_forced_runs_and_a_clock_that_goes_back(database: Database, population: Population) -> None:
    assert run(database, FIRST_RUN).ran
    assert not run(database, FIRST_RUN - HOUR // timedelta(milliseconds=1)).ran
    assert run(database, FIRST_RUN, force=True).reason == "forced"


def test_a_rating_stamped_after_a_runs_time_is_scored_by_the_next_run(
    database: Database, population: Population
) -> None:
    """A commit during the read, or a web host whose clock runs ahead, stamps a rating
    after the run's time: that run leaves it out, and the next one must not be skipped."""
    with database.transaction() as session:
        late = make_reader(session, "late").id
        rate(
            session,
            user_id=late,
            note_id=population.bridging[0],
            level="HELPFUL",
            when=BASE + 41 * HOUR + timedelta(minutes=5),
        )
    assert run(database, FIRST_RUN).ratings == 19 * 2 * CAMP_SIZE
    later = run(database, FIRST_RUN + 10 * MINUTE_MS)
    assert later.reason == "notes, ratings or readers changed"
    assert later.ratings == 19 * 2 * CAMP_SIZE + 1


# -- who counts ----------------------------------------------------------------------------


def test_a_suspended_readers_notes_and_ratings_drop_out_at_the_next_run(
    database: Database, population: Population
) -> None:
    run(database, FIRST_RUN)
    run(database, FIRST_RUN + 31 * MINUTE_MS)
    assert statuses(database, population.bridging) == [notes.HELPFUL] * 2
    with database.transaction() as session:
        admin = Actor.of(session.get_one(User, population.admin))
        for user_id in (population.camp_b[0], population.writers[population.bridging[0]]):
            users.set_active(
                session, actor=admin, user=session.get_one(User, user_id), active=False
            )
    after = run(database, FIRST_RUN + 35 * MINUTE_MS)
    assert after.ran
    assert after.reason == "notes, ratings or readers changed"
    # The rater's 19 ratings, and the 30 of the suspended writer's note, no longer count.
    assert after.ratings == 19 * 2 * CAMP_SIZE - 19 - (2 * CAMP_SIZE - 1)
    assert after.notes == 18
    assert statuses(database, population.bridging) == [notes.NEEDS_MORE_RATINGS, notes.HELPFUL]
    with database.transaction(write=False) as session:
        gone = session.get_one(Note, population.bridging[0])
        assert gone.decided_by == notes_run.AUTHOR_OUT
    logged = notes_events(database, population.posts[0])
    assert [note["id"] for note in logged[-1].data["notes"]] == population.bridging[1:]
    # Back again, the note starts afresh: it waits out its stabilization once more.
    with database.transaction() as session:
        writer = session.get_one(User, population.writers[population.bridging[0]])
        users.set_active(session, actor=admin, user=writer, active=True)
    back = run(database, FIRST_RUN + 40 * MINUTE_MS)
    assert back.notes == 19
    with database.transaction(write=False) as session:
        returning = session.get_one(Note, population.bridging[0])
        assert returning.status == notes.NEEDS_MORE_RATINGS
        assert returning.decided_by == "NmrDueToMinStableCrhTime"
    assert run(database, FIRST_RUN + 71 * MINUTE_MS).ran
    assert statuses(database, population.bridging) == [notes.HELPFUL] * 2


def test_young_accounts_wait_and_a_brigade_of_them_cannot_lift_a_one_sided_note(
    database: Database, population: Population
) -> None:
    target = population.one_sided[0]
    joined = BASE + 40 * HOUR
    with database.transaction() as session:
        brigade = [make_reader(session, f"new{i}", created=joined).id for i in range(20)]
        for i, user_id in enumerate(brigade):
            rate(
                session,
                user_id=user_id,
                note_id=target,
                level="HELPFUL",
                when=joined + timedelta(seconds=30 + i),
            )
    first = run(database, FIRST_RUN)
    assert first.ratings == 19 * 2 * CAMP_SIZE  # the brigade's 20 wait
    assert statuses(database, [target]) == [notes.NEEDS_MORE_RATINGS]
    with database.transaction(write=False) as session:
        run_input = notes_run.read_input(
            session, now_millis=FIRST_RUN, min_account_age_seconds=86_400, threshold=5
        )
    assert not set(run_input.ratings["raterParticipantId"]) & {f"P-NEW{i}" for i in range(20)}
    assert run(database, FIRST_RUN + 31 * MINUTE_MS).ran  # the bridging notes show
    # A day after they joined, their ratings count; the note still does not show.
    of_age = at(joined + 24 * HOUR) + MINUTE_MS
    assert not run(database, of_age - 2 * MINUTE_MS).ran
    later = run(database, of_age)
    assert later.ran
    assert later.reason == "a rater's account came of age"
    assert later.ratings == 19 * 2 * CAMP_SIZE + 20
    assert statuses(database, [target]) == [notes.NEEDS_MORE_RATINGS]
    assert not run(database, of_age + 2 * 60 * MINUTE_MS).ran


def test_notes_of_posts_no_longer_public_and_removed_notes_leave_the_run(
    database: Database, population: Population
) -> None:
    run(database, FIRST_RUN)
    with database.transaction() as session:
        editor = Actor.of(session.get_one(User, population.editor))
        admin = Actor.of(session.get_one(User, population.admin))
        posts.delete_post(session, actor=editor, post=session.get_one(Post, population.posts[1]))
        notes.remove_note(
            session,
            actor=admin,
            note=session.get_one(Note, population.bad[1]),
            reason="court order",
        )
    after = run(database, FIRST_RUN + MINUTE_MS)
    assert after.ran
    on_deleted = [n for n in population.writers if _post_of(database, n) == population.posts[1]]
    assert after.notes == 19 - len(set(on_deleted) | {population.bad[1]})
    with database.transaction(write=False) as session:
        removed = session.get_one(Note, population.bad[1])
        assert removed.status == notes.NEEDS_MORE_RATINGS
        assert removed.decided_by == notes_run.REMOVED
        deleted_bad = session.get_one(Note, population.bad[0])
        assert deleted_bad.status == notes.NEEDS_MORE_RATINGS
        assert deleted_bad.decided_by == notes_run.POST_NOT_PUBLIC


def _post_of(database: Database, note_id: int) -> int:
    with database.transaction(write=False) as session:
        return session.get_one(Note, note_id).post_id


# -- rating impact, writing impact, enrollment ---------------------------------------------


def test_rating_impact_counts_ratings_made_before_a_status_against_it(
    database: Database, population: Population
) -> None:
    with database.transaction() as session:
        # A contrarian in camp A calls the bridging notes unhelpful, and a rater in camp B
        # changes a rating of a bad note after it was rated Not Helpful (too late to count).
        contrarian = population.camp_a[1]
        for note_id in population.bridging:
            rate(
                session,
                user_id=contrarian,
                note_id=note_id,
                level="NOT_HELPFUL",
                when=BASE + 2 * HOUR,
            )
        rate(
            session,
            user_id=population.camp_a[2],
            note_id=population.bridging[0],
            level="SOMEWHAT_HELPFUL",
            when=BASE + 2 * HOUR,
        )
    run(database, FIRST_RUN)
    # Bad notes earned Not Helpful in the first run: +1 for each NOT_HELPFUL rating.
    assert participant(database, population.camp_b[0]).rating_impact == 3
    assert participant(database, population.camp_a[1]).rating_impact == 3
    with database.transaction() as session:
        rate(
            session,
            user_id=population.camp_b[0],
            note_id=population.bad[0],
            level="HELPFUL",
            when=BASE + 42 * HOUR,
        )
    run(database, FIRST_RUN + 31 * MINUTE_MS)
    # The bridging notes earned Helpful: +2 for raters who found them helpful (SOMEWHAT
    # counts as helpful), −2 for the contrarian; the late change counts for nothing.
    assert participant(database, population.camp_b[0]).rating_impact == 2 + 2
    assert participant(database, population.camp_a[0]).rating_impact == 3 + 2
    assert participant(database, population.camp_a[2]).rating_impact == 3 + 2
    assert participant(database, population.camp_a[1]).rating_impact == 3 - 2
    # Writing impact: Helpful notes minus Not Helpful notes.
    assert participant(database, population.writers[population.bridging[0]]).writing_impact == 1
    assert participant(database, population.troll).writing_impact == -3


def test_raters_earn_writing_and_a_troll_loses_it(
    database: Database, population: Population
) -> None:
    run(database, FIRST_RUN)
    troll = participant(database, population.troll)
    assert troll.enrollment_state == "earnedOutNoAcknowledge"
    assert troll.times_earned_out == 1
    assert troll.needed_to_earn_in == 5 + notes_run.EARN_BACK_STEP
    assert troll.state_changed_at == BASE + 41 * HOUR
    assert participant(database, population.camp_a[0]).enrollment_state == "newUser"
    run(database, FIRST_RUN + 31 * MINUTE_MS)
    rater = participant(database, population.camp_a[0])
    assert rater.rating_impact == 5
    assert rater.enrollment_state == "earnedIn"
    assert rater.factor is not None
    assert rater.intercept is not None
    other_camp = participant(database, population.camp_b[0]).factor
    assert other_camp is not None
    assert other_camp * rater.factor < 0
    with database.transaction(write=False) as session:
        user = session.get_one(User, population.camp_a[0])
        assert readers.writing_status(session, user=user, threshold=5).can_write
        troll_user = session.get_one(User, population.troll)
        troll_user.writing_granted = False
        status = readers.writing_status(session, user=troll_user, threshold=5)
        assert not status.can_write
        assert status.earned_out
        assert status.needed == 10


@pytest.mark.parametrize(
    ("state", "impact", "lost", "recent", "expected"),
    [
        ("newUser", 4, False, 0, ("newUser", 5, 0)),
        ("newUser", 5, False, 0, ("earnedIn", 5, 0)),
        ("earnedIn", 9, False, 2, ("atRisk", 5, 0)),
        ("atRisk", 9, False, 1, ("earnedIn", 5, 0)),
        ("atRisk", 9, True, 3, ("earnedOutNoAcknowledge", 9 + 5, 1)),
        ("earnedIn", 2, True, 3, ("earnedOutNoAcknowledge", 5 + 5, 1)),
        # The engine's flag alone, from notes written before writing came back: kept in.
        ("earnedIn", 20, True, 0, ("earnedIn", 5, 0)),
        ("earnedOutNoAcknowledge", 13, True, 3, ("earnedOutNoAcknowledge", 14, 1)),
        ("earnedOutAcknowledged", 14, True, 3, ("earnedIn", 5, 1)),
    ],
)
def test_enrollment_steps(
    state: str, impact: int, lost: bool, recent: int, expected: tuple[str, int, int]
) -> None:
    earned_out = state.startswith("earnedOut")
    old = notes_run.Standing(
        state=state,
        needed=14 if earned_out else 5,
        times_earned_out=int(earned_out),
        changed_at=None,
    )
    new = notes_run.next_standing(
        old, impact=impact, lost=lost, recent_not_helpful=recent, threshold=5, now=BASE
    )
    assert (new.state, new.needed, new.times_earned_out) == expected
    assert new.changed_at == (None if new == old else BASE)


def test_a_second_earn_out_needs_more() -> None:
    old = notes_run.Standing(
        state="earnedIn", needed=5, times_earned_out=1, changed_at=BASE - 24 * HOUR
    )
    new = notes_run.next_standing(
        old, impact=12, lost=True, recent_not_helpful=3, threshold=5, now=BASE
    )
    assert (new.state, new.needed, new.times_earned_out) == ("earnedOutNoAcknowledge", 22, 2)


# -- the lease -----------------------------------------------------------------------------


def test_the_lease_stops_a_second_runner(database: Database, population: Population) -> None:
    with database.transaction() as session:
        assert leases.claim(session, name=notes_run.LEASE, holder="elsewhere", seconds=60)
    blocked = run(database, FIRST_RUN)
    assert not blocked.ran
    assert "lease" in blocked.reason
    with database.transaction() as session:
        leases.release(session, name=notes_run.LEASE, holder="elsewhere")
    assert run(database, FIRST_RUN).ran


def test_a_runner_in_the_middle_of_a_run_keeps_others_out(
    database: Database, population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    scoring = threading.Event()
    go_on = threading.Event()
    real_score = notes_run.score

    def slow_score(*args: Any, **kwargs: Any) -> Any:
        scoring.set()
        assert go_on.wait(30)
        return real_score(*args, **kwargs)

    monkeypatch.setattr(notes_run, "score", slow_score)
    outcomes: list[notes_runner.Outcome] = []
    first = threading.Thread(target=lambda: outcomes.append(run(database, FIRST_RUN)))
    first.start()
    try:
        assert scoring.wait(30)
        monkeypatch.setattr(notes_run, "score", real_score)
        second = run(database, FIRST_RUN, force=True)
    finally:
        go_on.set()
        first.join(60)
    assert not second.ran
    assert "lease" in second.reason
    assert outcomes
    assert outcomes[0].ran
    with database.transaction(write=False) as session:
        assert leases.current(session, name=notes_run.LEASE) is None  # released
