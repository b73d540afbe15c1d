"""The bridge between the service's notes and the scoring engine, both ways.

`read_input` turns rows into the engine's frames in X's public layout (what is scored,
and the same files `notes export` writes); `store_results` turns a run's results back
into rows: each note's status and scores, its status history, each reader's viewpoint,
rating impact and enrollment, and a "notes" event for every post whose shown notes
changed. `due` says whether a run would change anything, so the server can skip it.
Sessions only: the runner (`live.notes_runner`) owns the transactions and the lease.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from liveticker import __version__
from liveticker.domain import events
from liveticker.domain.notes import HELPFUL, NEEDS_MORE_RATINGS, NOT_HELPFUL, notes_changed
from liveticker.domain.permissions import PUBLIC_BLOG_STATUSES
from liveticker.domain.readers import EARNED_OUT
from liveticker.scoring import constants as k
from liveticker.scoring.data import HELPFUL_TAGS, NOT_HELPFUL_TAGS
from liveticker.scoring.report import ScoringResult
from liveticker.scoring.tables import (
    ENROLLMENT_COLUMNS,
    HISTORY_COLUMNS,
    NOTES_COLUMNS,
    RATINGS_COLUMNS,
)
from liveticker.storage.models import (
    Base,
    Blog,
    Note,
    NoteHistory,
    NoteParticipant,
    NoteRating,
    NotesRun,
    Post,
    User,
)

TABLES = Base.metadata.tables  # Core tables (typed): bulk statements bypass the ORM
LEASE = "notes-scorer"  # the lease whose holder runs the scorer
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
READER = "reader"
TAGS = (*HELPFUL_TAGS, *NOT_HELPFUL_TAGS)
REASON_COLUMNS = NOTES_COLUMNS[8:20]  # misleadingOther … notMisleadingPersonalOpinion
# After an earn-out, writing comes back at the rating impact of that moment plus this
# many successful ratings per earn-out so far (5, then 10, …): X's target of 5, rising.
EARN_BACK_STEP = 5
CHUNK = 1000  # ids per IN (…) list, well inside SQLite's limit on bound parameters
# Why a note that is not scored shows no status (its decided_by).
REMOVED, POST_NOT_PUBLIC, AUTHOR_OUT = "Removed", "PostNotPublic", "AuthorNotParticipating"


def millis(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_millis(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)


def _until(now_millis: int) -> datetime:
    """Times that `millis()` puts at or before `now_millis` are the ones before this."""
    return from_millis(now_millis + 1)


def _millis_sql(session: Session, column: Any) -> ColumnElement[int]:
    """A time column as epoch milliseconds, computed by the database (1M rows never become
    Python datetimes); rounded down, as `millis()` does."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", column) * 1000), BigInteger)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: whole seconds, then milliseconds.
    seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)
    return seconds * 1000 + cast(func.substr(column, 21, 3), BigInteger)


@dataclass(frozen=True, kw_only=True)
class RunInput:
    """What one run scores, in X's layout, and how participant ids map back to accounts."""

    now_millis: int
    notes: pd.DataFrame
    ratings: pd.DataFrame
    status_history: pd.DataFrame
    enrollment: pd.DataFrame
    users: dict[str, int]  # participant id → user id
    left_out: dict[int, str]  # note id → why it is not scored (see store_results)
    fingerprint: str


# -- reading -------------------------------------------------------------------------------


def assign_participant_ids(session: Session) -> int:
    """Give readers made outside sign-up (the CLI, an admin) their pseudonymous id."""
    missing = session.scalars(
        select(User).where(User.role == READER, User.participant_id.is_(None))
    ).all()
    for user in missing:
        user.participant_id = secrets.token_hex(32).upper()
    return len(missing)


def _readers(session: Session) -> pd.DataFrame:
    statement = select(
        User.id,
        User.participant_id,
        cast(User.is_active, Integer),
        _millis_sql(session, User.created_at),
    ).where(User.role == READER, User.participant_id.is_not(None))
    columns = {"user": "int64", "participant": "object", "active": "int64", "created": "int64"}
    frame = _frame(session, statement, columns)
    frame["active"] = frame["active"].astype(bool)
    return frame.set_index("user")


def fingerprint(
    session: Session, *, now_millis: int, min_account_age_seconds: int, threshold: int
) -> str:
    """A digest of what a run at `now_millis` reads, but for the clock: the count and
    newest change of the ratings made by then, which notes take part, which readers may,
    and the settings that shape a run. A rating or note stamped after `now_millis` (a
    commit during the read, another host's clock) is left out here as in the run, so the
    next run, which includes it, has another digest. Equal digests and no due moment in
    between (see `due`) mean a run would change nothing."""
    until = _until(now_millis)
    count, newest = session.execute(
        select(func.count(), func.max(NoteRating.updated_at)).where(NoteRating.updated_at < until)
    ).one()
    eligible_notes = session.scalars(
        _eligible_notes().where(Note.created_at < until).order_by(Note.id)
    ).all()
    readers = session.scalars(
        select(User.id)
        .where(User.role == READER, User.is_active, User.participant_id.is_not(None))
        .order_by(User.id)
    ).all()
    digest = hashlib.sha256()
    parts: tuple[Any, ...] = (
        __version__,
        min_account_age_seconds,
        threshold,
        count,
        millis(newest) if newest else None,
        len(eligible_notes),
        len(readers),
    )
    digest.update(repr(parts).encode())
    digest.update(np.asarray(eligible_notes, dtype=np.int64).tobytes())
    digest.update(np.asarray(readers, dtype=np.int64).tobytes())
    return digest.hexdigest()


def _eligible_notes() -> Any:
    """Notes that take part in scoring: not removed, on a published post of a public blog,
    written by an active reader."""
    return (
        select(Note.id)
        .join(Post, Post.id == Note.post_id)
        .join(Blog, Blog.id == Note.blog_id)
        .join(User, User.id == Note.author_id)
        .where(
            Note.removed_at.is_(None),
            Post.status == "published",
            Blog.status.in_(PUBLIC_BLOG_STATUSES),
            User.role == READER,
            User.is_active,
            User.participant_id.is_not(None),
        )
    )


def last_run(session: Session) -> NotesRun | None:
    return session.scalar(
        select(NotesRun).where(NotesRun.finished_at.is_not(None)).order_by(NotesRun.id.desc())
    )


def due(
    session: Session,
    *,
    now_millis: int,
    min_account_age_seconds: int,
    threshold: int,
    current: str | None = None,
) -> str | None:
    """Why a run at `now_millis` could change something since the last one (None: it
    cannot). Besides new data (the fingerprint), time alone changes a run's outcome: a
    note waiting out its stabilization is shown once 30 minutes have passed (or leaves
    the wait after 6 hours), and a rater's account comes of age; each such moment that
    fell between the last run and now makes a run due."""
    previous = last_run(session)
    if previous is None:
        return "first run"
    current = current or fingerprint(
        session,
        now_millis=now_millis,
        min_account_age_seconds=min_account_age_seconds,
        threshold=threshold,
    )
    if current != previous.fingerprint:
        return "notes, ratings or readers changed"
    after = previous.now_millis
    if now_millis <= after:
        return None
    stamp = NoteHistory.row["timestampMillisOfNmrDueToMinStableCrhTime"].as_string()
    for (text,) in session.execute(select(stamp).where(stamp.is_not(None), stamp != "")):
        waiting = int(float(text))
        if waiting <= 0:
            continue
        for wait in (k.STABLE_CRH_REQUIRED_MILLIS, 6 * k.STABLE_CRH_MAX_MILLIS + 1):
            if after < waiting + wait <= now_millis:
                return "a note's stabilization time passed"
    age = timedelta(seconds=min_account_age_seconds)
    came_of_age = session.scalar(
        select(User.id)
        .where(
            User.role == READER,
            User.created_at > from_millis(after) - age,
            User.created_at <= from_millis(now_millis) - age,
            exists().where(NoteRating.rater_id == User.id),
        )
        .limit(1)
    )
    if came_of_age is not None:
        return "a rater's account came of age"
    return None


def read_input(
    session: Session,
    *,
    now_millis: int,
    min_account_age_seconds: int,
    threshold: int,
    fingerprint_value: str = "",
) -> RunInput:
    """Everything a run at `now_millis` scores, as of this transaction's snapshot.

    Left out: notes removed by an admin, on posts that are not published in a public
    blog, or by a suspended author; ratings of suspended readers, of accounts younger than
    the minimum age at `now_millis`, and of notes left out; anything made after `now_millis`.
    A rating's time is when it was last changed (`updated_at`): the rating as it stands.
    """
    readers = _readers(session)
    notes = _note_rows(session, readers, now_millis=now_millis)
    scored = notes[notes["why"] == ""]
    left_out = {int(i): str(why) for i, why in notes["why"].items() if why}
    of_age = now_millis - min_account_age_seconds * 1000
    raters = readers.index[readers["active"] & (readers["created"] <= of_age)]
    ratings = _rating_rows(session, now_millis=now_millis)
    ratings = ratings[ratings["noteId"].isin(scored.index) & ratings["rater"].isin(raters)]
    participants = readers["participant"]
    note_frame = _notes_frame(scored, participants)
    rating_frame = _ratings_frame(ratings, participants, posts=scored["post"])
    users = {str(p): int(u) for u, p in participants.items()}
    people = pd.unique(
        np.concatenate(
            [
                note_frame["noteAuthorParticipantId"].to_numpy(dtype=object),
                rating_frame["raterParticipantId"].to_numpy(dtype=object),
            ]
        )
    )
    return RunInput(
        now_millis=now_millis,
        notes=note_frame,
        ratings=rating_frame,
        status_history=_history_frame(session),
        enrollment=_enrollment_frame(
            session, users={str(p): users[str(p)] for p in people}, threshold=threshold
        ),
        users=users,
        left_out=left_out,
        fingerprint=fingerprint_value
        or fingerprint(
            session,
            now_millis=now_millis,
            min_account_age_seconds=min_account_age_seconds,
            threshold=threshold,
        ),
    )


def _note_rows(session: Session, readers: pd.DataFrame, *, now_millis: int) -> pd.DataFrame:
    rows = session.execute(
        select(
            Note.id,
            Note.author_id,
            _millis_sql(session, Note.created_at),
            Note.post_id,
            Note.classification,
            Note.reasons,
            Note.sources,
            Note.text,
            Note.removed_at.is_not(None),
            Post.status,
            Blog.status,
        )
        .join(Post, Post.id == Note.post_id)
        .join(Blog, Blog.id == Note.blog_id)
        .order_by(Note.id)
    ).all()
    names = ["id", "author", "created", "post", "classification", "reasons", "sources", "text"]
    frame = pd.DataFrame(rows, columns=[*names, "removed", "post_status", "blog_status"])
    frame = frame.set_index("id")
    frame = frame[frame["created"] <= now_millis]
    author_in = frame["author"].map(readers["active"]).fillna(False).astype(bool)
    public = (frame["post_status"] == "published") & frame["blog_status"].isin(PUBLIC_BLOG_STATUSES)
    why = np.full(len(frame), "", dtype=object)
    why[~author_in.to_numpy()] = AUTHOR_OUT
    why[~public.to_numpy()] = POST_NOT_PUBLIC
    why[frame["removed"].to_numpy(dtype=bool)] = REMOVED
    frame["why"] = why
    return frame


def _rating_rows(session: Session, *, now_millis: int) -> pd.DataFrame:
    updated = _millis_sql(session, NoteRating.updated_at)
    statement = select(
        NoteRating.note_id,
        NoteRating.rater_id,
        updated,
        NoteRating.helpfulness,
        cast(NoteRating.tags, Text),
    ).where(NoteRating.updated_at < _until(now_millis))
    columns = {"noteId": "int64", "rater": "int64", "createdAtMillis": "int64"}
    return _frame(session, statement, {**columns, "level": "object", "tags": "object"})


def _frame(
    session: Session, statement: Select[*tuple[Any, ...]], columns: dict[str, str]
) -> pd.DataFrame:
    """A query's rows as a frame of these columns and dtypes. PostgreSQL sends them with
    COPY, in this transaction, as CSV that pandas parses in C: a million ratings take a
    second where a million result rows take ten."""
    connection = session.connection()
    names = list(columns)
    if connection.dialect.name == "postgresql":
        sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        buffer = io.BytesIO()
        driver: Any = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
        if buffer.tell():
            buffer.seek(0)
            return pd.read_csv(
                buffer, names=names, header=None, dtype=columns, keep_default_na=False
            )
        rows: list[Any] = []
    else:
        rows = list(session.execute(statement).all())
    values = list(zip(*rows, strict=True)) or [() for _ in names]
    return pd.DataFrame(
        {
            name: np.array(column, dtype=columns[name])
            for name, column in zip(names, values, strict=True)
        }
    )


def _notes_frame(notes: pd.DataFrame, participants: pd.Series) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "noteId": notes.index.to_numpy(dtype=np.int64),
            "noteAuthorParticipantId": notes["author"].map(participants).to_numpy(dtype=object),
            "createdAtMillis": notes["created"].to_numpy(dtype=np.int64),
            "tweetId": notes["post"].to_numpy(dtype=np.int64),
            "classification": notes["classification"].to_numpy(dtype=object),
            "believable": "",
            "harmful": "",
            "validationDifficulty": "",
        }
    )
    reasons = [set(chosen) for chosen in notes["reasons"]]
    for column in REASON_COLUMNS:
        frame[column] = np.array([column in chosen for chosen in reasons], dtype=np.int8)
    frame["trustworthySources"] = np.array([bool(s) for s in notes["sources"]], dtype=np.int8)
    # X's files have no quoting: a tab or a line break would end the field or the row.
    frame["summary"] = notes["text"].str.replace(r"[\t\r\n]+", " ", regex=True).to_numpy()
    frame["isMediaNote"] = 0
    frame["isCollaborativeNote"] = 0
    return frame[list(NOTES_COLUMNS)]


def _ratings_frame(
    ratings: pd.DataFrame, participants: pd.Series, *, posts: pd.Series
) -> pd.DataFrame:
    order = np.lexsort((ratings["rater"].to_numpy(), ratings["noteId"].to_numpy()))
    ratings = ratings.iloc[order]
    # Tag lists repeat: each distinct one is parsed once.
    codes, texts = pd.factorize(ratings["tags"])
    masks = np.array([_tag_mask(text) for text in texts] or [0], dtype=np.int32)
    mask = masks[codes]
    frame = pd.DataFrame(
        {
            "noteId": ratings["noteId"].to_numpy(dtype=np.int64),
            "raterParticipantId": ratings["rater"].map(participants).to_numpy(dtype=object),
            "createdAtMillis": ratings["createdAtMillis"].to_numpy(dtype=np.int64),
            "version": 2,
            "agree": 0,
            "disagree": 0,
            "helpful": 0,
            "notHelpful": 0,
            "helpfulnessLevel": ratings["level"].to_numpy(dtype=object),
            **{name: ((mask >> bit) & 1).astype(np.int8) for bit, name in enumerate(TAGS)},
            "ratedOnTweetId": ratings["noteId"].map(posts).to_numpy(dtype=np.int64),
            "ratingSourceBucketed": "DEFAULT",
            "suggestion": "",
            "suggestionId": "",
        }
    )
    return frame[list(RATINGS_COLUMNS)]


def _tag_mask(text: str | None) -> int:
    names = json.loads(text) if text else []
    return sum(1 << TAGS.index(name) for name in set(names) if name in TAGS)


def _history_frame(session: Session) -> pd.DataFrame:
    rows = session.scalars(select(NoteHistory.row).order_by(NoteHistory.note_id)).all()
    return pd.DataFrame(list(rows), columns=list(HISTORY_COLUMNS), dtype=object)


def _enrollment_frame(session: Session, *, users: dict[str, int], threshold: int) -> pd.DataFrame:
    """X's userEnrollment rows of the run's participants (newUser when never scored).
    Everyone is in the core model: modeling group 0 is "no group", which it scores."""
    stored = standings(session)
    rows = []
    for participant, user_id in users.items():
        standing = stored.get(user_id) or Standing.new(threshold)
        changed = millis(standing.changed_at) if standing.changed_at else 1  # X's "never"
        rows.append(
            (
                participant,
                standing.state,
                standing.needed,
                changed,
                changed if standing.state in EARNED_OUT else 1,
                "CORE",
                0,
                standing.times_earned_out,
            )
        )
    return pd.DataFrame(rows, columns=list(ENROLLMENT_COLUMNS))


def score(run_input: RunInput, *, seed: int = 0) -> ScoringResult:
    """Run the engine on the input (no database: call it outside any transaction)."""
    from liveticker.scoring.pipeline import score_frames

    # Notes nobody rated yet divide zero by zero in the fit; their NaN is the answer.
    with np.errstate(divide="ignore", invalid="ignore"):
        return score_frames(
            notes=run_input.notes,
            ratings=run_input.ratings,
            status_history=run_input.status_history,
            enrollment=run_input.enrollment,
            now_millis=run_input.now_millis,
            seed=seed,
        )


def export_frames(
    session: Session,
    *,
    now_millis: int,
    min_account_age_seconds: int,
    threshold: int,
    public: bool,
) -> dict[str, pd.DataFrame]:
    """X's four files (notes, ratings, noteStatusHistory, userEnrollment): exactly what a
    run at `now_millis` scores. `public` keeps only the status history of the notes in
    the files, so nothing of a removed note, an unpublished post or a suspended author
    remains; participant ids stand in for accounts in both."""
    run_input = read_input(
        session,
        now_millis=now_millis,
        min_account_age_seconds=min_account_age_seconds,
        threshold=threshold,
        fingerprint_value="-",
    )
    history = run_input.status_history
    if public:
        ids = pd.to_numeric(history["noteId"], errors="coerce")
        history = history[ids.isin(run_input.notes["noteId"])]
    return {
        "notes": run_input.notes,
        "ratings": run_input.ratings,
        "noteStatusHistory": history,
        "userEnrollment": run_input.enrollment,
    }


# -- writing -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Stored:
    """What a run changed: its record, the notes whose status changed, the posts whose
    shown notes changed (one "notes" event each), and the notes per final status."""

    run_id: int
    changes: int
    posts: int
    statuses: dict[str, int]


def store_results(
    session: Session,
    *,
    run_input: RunInput,
    result: ScoringResult,
    started_at: datetime,
    timings: dict[str, float],
    threshold: int,
) -> Stored:
    """Write a run's results in this (write) transaction; see docs/notes-service.md.

    A note's status is changed only from its stored value (a new note has
    NEEDS_MORE_RATINGS), and each change is a row of its public history. A note left out
    of the run (removed, its post no longer public, its author suspended) shows nothing:
    a status it had becomes NEEDS_MORE_RATINGS.
    """
    clock = time.perf_counter()
    now = from_millis(run_input.now_millis)
    run = NotesRun(
        started_at=started_at,
        now_millis=run_input.now_millis,
        fingerprint=run_input.fingerprint,
        notes=len(run_input.notes),
        ratings=len(run_input.ratings),
    )
    session.add(run)
    session.flush()
    changes, posts, emptied = _store_notes(
        session, run_input=run_input, result=result, run=run, now=now
    )
    _store_history(session, result=result, emptied=emptied, now_millis=run_input.now_millis)
    _store_participants(session, run_input=run_input, result=result, threshold=threshold, now=now)
    run.changed = changes
    spent = {**timings, "write": time.perf_counter() - clock}  # the commit follows
    run.timings = {name: round(seconds, 3) for name, seconds in spent.items()}
    run.finished_at = datetime.now(UTC)
    return Stored(run_id=run.id, changes=changes, posts=posts, statuses=result.status_counts())


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows at once: PostgreSQL takes them with COPY (executemany sends one
    statement per row), SQLite by executemany, which it runs in C."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    json_columns = {column.name for column in table.columns if isinstance(column.type, JSON)}
    driver: Any = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in json_columns else row[n] for n in names])


def _by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows grouped by their keys: one executemany per shape."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _float(value: float) -> float | None:
    return None if value != value else float(value)  # NaN: no value


def _store_notes(
    session: Session, *, run_input: RunInput, result: ScoringResult, run: NotesRun, now: datetime
) -> tuple[int, int, dict[int, str]]:
    """Statuses, status changes and events; returns the number of changes and of posts
    with an event, and the notes left out whose status was emptied (with why)."""
    scored = result.notes
    new: dict[int, dict[str, Any]] = {
        int(note_id): {
            "status": final,
            "core_status": core,
            "intercept": _float(intercept),
            "factor": _float(factor),
            "intercept_min": _float(low),
            "intercept_max": _float(high),
            "decided_by": decided_by,
            "rules": [rule for rule in rules.split(",") if rule],
            "scored_at": now,
        }
        for note_id, final, core, intercept, factor, low, high, decided_by, rules in zip(
            scored["noteId"].tolist(),
            scored["finalRatingStatus"].tolist(),
            scored["coreRatingStatus"].tolist(),
            scored["coreNoteIntercept"].tolist(),
            scored["coreNoteFactor1"].tolist(),
            scored["coreNoteInterceptMin"].tolist(),
            scored["coreNoteInterceptMax"].tolist(),
            scored["decidedBy"].tolist(),
            scored["rules"].tolist(),
            strict=True,
        )
    }
    # The notes as they are now (one may have been removed or deleted since the read).
    current = session.execute(
        select(Note.id, Note.status, Note.removed_at.is_not(None), Note.post_id)
    ).all()
    updates: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    posts: set[int] = set()
    emptied: dict[int, str] = {}
    for note_id, status, removed, post_id in current:
        values = new.get(note_id)
        why = run_input.left_out.get(note_id)
        if values is None and why is not None and status != NEEDS_MORE_RATINGS:
            values = {"status": NEEDS_MORE_RATINGS, "decided_by": why, "rules": [why]}
            emptied[note_id] = why
        if values is None:
            continue
        updates.append({"note_id": note_id, **values})
        if values["status"] != status:
            changed.append({"note_id": note_id, "status": values["status"], "at": now})
            if not removed and HELPFUL in (status, values["status"]):
                posts.add(post_id)
    # Each blog whose log gets an event is locked first, as every writer of a blog does.
    shown = session.scalars(select(Post).where(Post.id.in_(posts)).order_by(Post.id)).all()
    for blog in sorted({post.blog for post in shown}, key=lambda blog: blog.id):
        events.lock_blog(session, blog)
    for group in _by_keys(updates):
        table = TABLES["notes"]
        fields: dict[str, Any] = {n: bindparam(n) for n in group[0] if n != "note_id"}
        statement = update(table).where(table.c.id == bindparam("note_id")).values(fields)
        session.execute(statement, group)
    if changed:
        session.execute(
            insert(TABLES["note_status_changes"]), [{**c, "run_id": run.id} for c in changed]
        )
    # The statuses are written already (Core statements): each event's own flush would
    # only send it alone, so the events go out together at the commit.
    with session.no_autoflush:
        for post in shown:
            notes_changed(session, post=post)
    return len(changed), len(shown), emptied


def _store_history(
    session: Session, *, result: ScoringResult, emptied: dict[int, str], now_millis: int
) -> None:
    """Replace the engine's status history: its rows of every note, scored now or not
    (but not of a note deleted since the read). A note whose status was emptied because it
    left the run has no status there either: should it come back, it starts afresh and
    waits out its stabilization again."""
    existing = set(session.scalars(select(Note.id)).all())
    rows = []
    for row in result.status_history.to_dict("records"):
        note_id = int(row["noteId"])
        if note_id not in existing:
            continue
        if note_id in emptied:
            row["currentStatus"] = NEEDS_MORE_RATINGS
            row["currentDecidedBy"] = emptied[note_id]
            row["timestampMillisOfCurrentStatus"] = str(now_millis)
            row["timestampMillisOfMostRecentStatusChange"] = str(now_millis)
        rows.append({"note_id": note_id, "row": row})
    session.execute(delete(TABLES["note_status_history"]))
    if rows:
        _insert(session, TABLES["note_status_history"], rows)


def rating_impact(ratings: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Per rater participant: +1 for each rating, made before the note first had a status
    other than NEEDS_MORE_RATINGS, that matches the status it then earned, −1 for each
    that contradicts it. HELPFUL and SOMEWHAT_HELPFUL match Helpful, NOT_HELPFUL matches
    Not Helpful. A note's first status decides, so a later change does not rewrite the
    past; a rating changed after that first status does not count."""
    first = history.assign(noteId=pd.to_numeric(history["noteId"], errors="coerce"))
    first = first.dropna(subset=["noteId"]).drop_duplicates("noteId", keep="last")
    first = first.set_index(first["noteId"].astype(np.int64))
    note_ids = ratings["noteId"].to_numpy(dtype=np.int64)
    earned = first["firstNonNMRStatus"].reindex(note_ids).to_numpy(dtype=object)
    at = pd.to_numeric(first["timestampMillisOfFirstNonNMRStatus"], errors="coerce")
    earned_at = at.reindex(note_ids).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        before = ratings["createdAtMillis"].to_numpy(dtype=np.float64) < earned_at
    decided = before & ((earned == HELPFUL) | (earned == NOT_HELPFUL))
    helpful_ish = ratings["helpfulnessLevel"].to_numpy(dtype=object) != "NOT_HELPFUL"
    points = np.where(decided, np.where(helpful_ish == (earned == HELPFUL), 1, -1), 0)
    return pd.Series(points).groupby(ratings["raterParticipantId"].to_numpy()).sum()


@dataclass(frozen=True, kw_only=True)
class Standing:
    """A reader's enrollment (X's userEnrollment fields that the service keeps)."""

    state: str
    needed: int
    times_earned_out: int
    changed_at: datetime | None

    @staticmethod
    def new(threshold: int) -> Standing:
        return Standing(state="newUser", needed=threshold, times_earned_out=0, changed_at=None)


def standings(session: Session) -> dict[int, Standing]:
    """Every reader's stored enrollment, by user id."""
    rows = session.execute(
        select(
            NoteParticipant.user_id,
            NoteParticipant.enrollment_state,
            NoteParticipant.needed_to_earn_in,
            NoteParticipant.times_earned_out,
            NoteParticipant.state_changed_at,
        )
    )
    return {
        user_id: Standing(state=state, needed=needed, times_earned_out=times, changed_at=at)
        for user_id, state, needed, times, at in rows
    }


def next_standing(
    old: Standing,
    *,
    impact: int,
    lost: bool,
    recent_not_helpful: int,
    threshold: int,
    now: datetime,
) -> Standing:
    """X's enrollment states, one run's step. newUser → earnedIn at `threshold` rating
    impact. earnedIn ↔ atRisk: exactly WRITING_MAX_NOT_HELPFUL of the last 5 notes are
    Not Helpful (one more would lose writing). Writing is lost (earnedOutNoAcknowledge)
    when the engine says so (`lost`: more than that many) and the notes behind it count:
    after an earlier earn-out, only notes written since writing came back do. It comes
    back (earnedIn) at the impact of the earn-out plus EARN_BACK_STEP per earn-out."""

    def to(state: str, needed: int = threshold, times: int = old.times_earned_out) -> Standing:
        if state == old.state and needed == old.needed and times == old.times_earned_out:
            return old
        return Standing(state=state, needed=needed, times_earned_out=times, changed_at=now)

    if old.state in EARNED_OUT:
        return to("earnedIn") if impact >= old.needed else old
    if lost and recent_not_helpful > k.WRITING_MAX_NOT_HELPFUL:
        times = old.times_earned_out + 1
        needed = max(impact, threshold) + EARN_BACK_STEP * times
        return to("earnedOutNoAcknowledge", needed, times)
    if old.state == "newUser":
        return to("earnedIn") if impact >= threshold else to("newUser")
    at_risk = recent_not_helpful == k.WRITING_MAX_NOT_HELPFUL
    return to("atRisk" if at_risk else "earnedIn")


def _store_participants(
    session: Session,
    *,
    run_input: RunInput,
    result: ScoringResult,
    threshold: int,
    now: datetime,
) -> None:
    """Each participant's viewpoint (the final fit's), rating and writing impact and
    enrollment; readers who took no part in this run keep their row as it was."""
    raters = result.raters
    impact = rating_impact(run_input.ratings, result.status_history).to_dict()
    final = result.notes.set_index("noteId")["finalRatingStatus"]
    notes = pd.DataFrame(
        {
            "author": run_input.notes["noteAuthorParticipantId"].to_numpy(dtype=object),
            "created": run_input.notes["createdAtMillis"].to_numpy(dtype=np.int64),
            "status": final.reindex(run_input.notes["noteId"]).to_numpy(dtype=object),
        }
    ).sort_values(["author", "created"], ascending=[True, False])
    score = (notes["status"] == HELPFUL).astype(int) - (notes["status"] == NOT_HELPFUL).astype(int)
    writing = score.groupby(notes["author"]).sum().to_dict()
    # Each author's notes, newest first: a slice of these arrays.
    authors = notes["author"].to_numpy(dtype=object)
    created = notes["created"].to_numpy()
    bad = (notes["status"] == NOT_HELPFUL).to_numpy()
    starts = np.flatnonzero(np.r_[True, authors[1:] != authors[:-1]]).tolist()
    ends = [*starts[1:], len(authors)]
    written = {authors[a]: slice(a, b) for a, b in zip(starts, ends, strict=True) if a < b}
    stored = standings(session)
    readers = set(session.scalars(select(User.id).where(User.role == READER)).all())
    rows: list[dict[str, Any]] = []
    for participant, intercept, factor, lost in zip(
        raters["raterParticipantId"].tolist(),
        raters["coreRaterIntercept"].tolist(),
        raters["coreRaterFactor1"].tolist(),
        raters["writingAbilityLost"].tolist(),
        strict=True,
    ):
        user_id = run_input.users.get(participant)
        if user_id is None or user_id not in readers:
            continue
        old = stored.get(user_id) or Standing.new(threshold)
        # After an earn-out, the notes written before writing came back are behind them.
        since = millis(old.changed_at) if old.times_earned_out and old.changed_at else -1
        own = written.get(participant, slice(0, 0))
        recent = bad[own][created[own] > since][: k.WRITING_RECENT_NOTES]
        rater_impact = int(impact.get(participant, 0))
        standing = next_standing(
            old,
            impact=rater_impact,
            lost=bool(lost),
            recent_not_helpful=int(recent.sum()),
            threshold=threshold,
            now=now,
        )
        rows.append(
            {
                "user_id": user_id,
                "intercept": _float(intercept),
                "factor": _float(factor),
                "rating_impact": rater_impact,
                "writing_impact": int(writing.get(participant, 0)),
                "enrollment_state": standing.state,
                "needed_to_earn_in": standing.needed,
                "times_earned_out": standing.times_earned_out,
                "state_changed_at": standing.changed_at,
                "updated_at": now,
            }
        )
    table = TABLES["note_participants"]
    ids = [row["user_id"] for row in rows]
    for start in range(0, len(ids), CHUNK):
        session.execute(delete(table).where(table.c.user_id.in_(ids[start : start + CHUNK])))
    _insert(session, table, rows)
