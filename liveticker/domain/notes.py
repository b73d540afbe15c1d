"""Community notes: readers write context on published posts and rate each other's notes.

Readers' accounts write and rate; staff do neither and cannot set a status: a note's
status is only ever what the last scoring run (`domain.notes_run`) decided. What the public
sees of a note is its text once it is rated Helpful; signed-in readers also see the notes
that need ratings (to rate them), and an author their own. An admin may remove a note for
legal reasons: its text and sources are erased at once, and its page says it was removed
and why.

A note that readers see under a post is part of the blog's live log: a change of what is
shown under a post is an event (kind "notes", entity "post:N/notes", so the post's removal
takes it along).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liveticker.domain import audit, events, permissions, readers
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import MAX_ROW_ID, NoteCreate, RatingInput
from liveticker.domain.markdown import render_plain
from liveticker.domain.ratelimit import limit_rows
from liveticker.exceptions import Conflict, Forbidden, NotFound
from liveticker.storage.models import (
    Blog,
    Note,
    NoteParticipant,
    NoteRating,
    NoteStatusChange,
    Post,
    User,
    utcnow,
)

HELPFUL = "CURRENTLY_RATED_HELPFUL"
NOT_HELPFUL = "CURRENTLY_RATED_NOT_HELPFUL"
NEEDS_MORE_RATINGS = "NEEDS_MORE_RATINGS"
NOTES = "notes"  # the event kind of what is shown under a post
MAX_ID = MAX_ROW_ID  # a larger id is no note (PostgreSQL would refuse to look)
NEEDS_HELP_CANDIDATES = 500  # recent notes weighed for one reader's "Needs your help"


def notes_entity(post_id: int) -> str:
    """Under the post's entity, so that the post's removal takes its notes along."""
    return f"{events.post_entity(post_id)}/notes"


def _public_post(post: Post) -> bool:
    return post.status == "published" and post.blog.status in permissions.PUBLIC_BLOG_STATUSES


def get_note(session: Session, *, note_id: int, actor: Actor | None) -> Note:
    """The note, if the asker may see it: the public a Helpful or removed note, readers
    and staff any note on a public post, an admin any note."""
    note = session.get(Note, note_id) if 0 < note_id < MAX_ID else None
    if note is None or not can_see(note, actor):
        raise NotFound(f"no note {note_id}")
    return note


def can_see(note: Note, actor: Actor | None) -> bool:
    if actor is not None and actor.is_admin:
        return True
    if not _public_post(note.post):
        return False
    if actor is None:
        return note.status == HELPFUL or note.removed_at is not None
    return True


def write_note(
    session: Session,
    *,
    actor: Actor | None,
    post: Post,
    data: NoteCreate,
    threshold: int,
    per_day: int,
    now: datetime | None = None,
) -> Note:
    """A reader's note on a published post: one per author and post, once they may write."""
    reader = readers.require_reader(actor)
    now = now or utcnow()
    if not _public_post(post):
        raise NotFound(f"no post {post.id}")
    user = session.get(User, reader.user_id)
    assert user is not None  # the actor was just authenticated
    status = readers.writing_status(session, user=user, threshold=threshold)
    if not status.can_write:
        why = (
            "your recent notes were mostly rated Not Helpful; rate others' notes to earn "
            "writing back"
            if status.earned_out
            else "writing notes is earned by rating"
        )
        raise Forbidden(
            f"{why}: your rating impact is {status.rating_impact}, writing needs {status.needed}"
        )
    limit_rows(
        session,
        when=Note.created_at,
        where=Note.author_id == reader.user_id,
        limit=per_day,
        window=timedelta(days=1),
        now=now,
        message=f"at most {per_day} notes in 24 hours; try again later",
    )
    if session.scalar(
        select(Note.id).where(Note.post_id == post.id, Note.author_id == reader.user_id)
    ):
        raise Conflict("you have written a note on this post already")
    note = Note(
        post_id=post.id,
        blog_id=post.blog_id,
        author_id=reader.user_id,
        classification=data.classification,
        reasons=list(data.reasons),
        text=data.text,
        sources=list(data.sources),
        created_at=now,
    )
    session.add(note)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same author's note, written a moment ago
        raise Conflict("you have written a note on this post already") from None
    return note


def delete_note(session: Session, *, actor: Actor | None, note: Note) -> None:
    """Its author takes a note back, while it has never had a status."""
    reader = readers.require_reader(actor)
    if note.author_id != reader.user_id:
        raise Forbidden("only its author deletes a note")
    ever_rated = session.scalar(
        select(NoteStatusChange.id).where(
            NoteStatusChange.note_id == note.id, NoteStatusChange.status != NEEDS_MORE_RATINGS
        )
    )
    if note.status != NEEDS_MORE_RATINGS or ever_rated is not None:
        raise Conflict("a note that has had a status stays, for the record")
    session.delete(note)


def rate_note(
    session: Session,
    *,
    actor: Actor | None,
    note: Note,
    data: RatingInput,
    per_hour: int,
    now: datetime | None = None,
) -> NoteRating:
    """A reader's rating; a new one replaces their old one. Not of their own note."""
    reader = readers.require_reader(actor)
    now = now or utcnow()
    if note.author_id == reader.user_id:
        raise Forbidden("you cannot rate your own note")
    if note.removed_at is not None:
        raise Conflict("this note was removed")
    limit_rows(
        session,
        when=NoteRating.updated_at,
        where=NoteRating.rater_id == reader.user_id,
        limit=per_hour,
        window=timedelta(hours=1),
        now=now,
        message=f"at most {per_hour} ratings an hour; try again later",
    )
    rating = session.get(NoteRating, (note.id, reader.user_id))
    if rating is None:
        rating = NoteRating(note_id=note.id, rater_id=reader.user_id, created_at=now)
        session.add(rating)
    rating.helpfulness = data.helpfulness
    rating.tags = list(data.tags)
    rating.updated_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same reader's rating, sent twice at once
        raise Conflict("your rating of this note changed meanwhile; send it again") from None
    return rating


def my_rating(session: Session, *, actor: Actor | None, note: Note) -> NoteRating | None:
    if actor is None or not actor.is_reader:
        return None
    return session.get(NoteRating, (note.id, actor.user_id))


def post_notes(session: Session, *, post: Post, actor: Actor | None) -> list[Note]:
    """A post's notes the asker may see: Helpful ones first, then newest first."""
    if not _public_post(post) and not (actor is not None and actor.is_admin):
        raise NotFound(f"no post {post.id}")
    notes = session.scalars(
        select(Note).where(Note.post_id == post.id).order_by(Note.created_at.desc(), Note.id)
    ).all()
    admin = actor is not None and actor.is_admin
    visible = [
        note
        for note in notes
        if can_see(note, actor) and (note.removed_at is None or admin)  # its page says why
    ]
    return sorted(visible, key=lambda note: note.status != HELPFUL)


def shown_notes(session: Session, *, post_ids: list[int]) -> dict[int, list[Note]]:
    """The notes readers see under each post (rated Helpful, not removed), oldest first."""
    if not post_ids:
        return {}
    rows = session.scalars(
        select(Note)
        .where(Note.post_id.in_(post_ids), Note.status == HELPFUL, Note.removed_at.is_(None))
        .order_by(Note.created_at, Note.id)
    )
    shown: dict[int, list[Note]] = defaultdict(list)
    for note in rows:
        shown[note.post_id].append(note)
    return shown


def note_snapshot(note: Note) -> dict[str, Any]:
    """What the page shows of a Helpful note (never its author)."""
    return {
        "id": note.id,
        "classification": note.classification,
        "text_html": render_plain(note.text),
        "sources": list(note.sources),
    }


def notes_snapshot(session: Session, *, post: Post) -> dict[str, Any]:
    shown = shown_notes(session, post_ids=[post.id]).get(post.id, [])
    snapshot = [note_snapshot(note) for note in shown]
    return {"post_id": post.id, "language": post.blog.language, "notes": snapshot}


def notes_changed(session: Session, *, post: Post, now: datetime | None = None) -> None:
    """Log what readers now see under the post (nothing, if the post is not out)."""
    if post.status != "published":
        return
    events.record(
        session,
        blog=post.blog,
        kind=NOTES,
        data=notes_snapshot(session, post=post),
        entity=notes_entity(post.id),
        now=now,
    )


def remove_note(
    session: Session, *, actor: Actor | None, note: Note, reason: str, now: datetime | None = None
) -> Note:
    """An admin removes a note for legal reasons: text and sources erased, reason kept."""
    admin = permissions.require_admin(actor)
    if note.removed_at is not None:
        raise Conflict("this note was removed already")
    now = now or utcnow()
    was_shown = note.status == HELPFUL
    note.text = ""
    note.sources = []
    note.removed_at = now
    note.removed_reason = reason
    note.removed_by = admin.user_id
    session.execute(delete(NoteRating).where(NoteRating.note_id == note.id))
    audit.record(
        session,
        actor=admin,
        action="notes.remove",
        target=f"note:{note.id}",
        reason=reason,
        blog=note.post.blog,
        now=now,
    )
    session.flush()
    if was_shown:
        notes_changed(session, post=note.post, now=now)
    return note


@dataclass(frozen=True)
class Sides:
    """A note's ratings by the raters' viewpoint from the last run (factor < 0, > 0, or
    not yet known): how many found it helpful (or somewhat) and not helpful."""

    helpful: dict[str, int]
    not_helpful: dict[str, int]


def rating_sides(session: Session, *, note: Note) -> Sides:
    rows = session.execute(
        select(NoteRating.helpfulness, NoteParticipant.factor)
        .outerjoin(NoteParticipant, NoteParticipant.user_id == NoteRating.rater_id)
        .where(NoteRating.note_id == note.id)
    ).all()
    helpful = {"negative": 0, "positive": 0, "unknown": 0}
    not_helpful = dict(helpful)
    for level, factor in rows:
        side = "unknown" if factor is None else ("negative" if factor < 0 else "positive")
        (not_helpful if level == "NOT_HELPFUL" else helpful)[side] += 1
    return Sides(helpful=helpful, not_helpful=not_helpful)


PLOTTED_NOTES = 2000  # the newest of a blog's notes in its plot


def scored_notes(session: Session, *, actor: Actor | None, blog: Blog) -> list[Note]:
    """The blog's notes as the last scoring run placed them (intercept and factor), for
    the admins' notes plot: the newest PLOTTED_NOTES."""
    permissions.require_admin(actor)
    return list(
        session.scalars(
            select(Note)
            .where(Note.blog_id == blog.id, Note.intercept.is_not(None), Note.factor.is_not(None))
            .order_by(Note.id.desc())
            .limit(PLOTTED_NOTES)
        )
    )


def status_history(session: Session, *, note: Note) -> list[NoteStatusChange]:
    return list(
        session.scalars(
            select(NoteStatusChange)
            .where(NoteStatusChange.note_id == note.id)
            .order_by(NoteStatusChange.at, NoteStatusChange.id)
        )
    )


def needs_your_help(session: Session, *, actor: Actor | None, limit: int = 20) -> list[Note]:
    """Notes waiting for ratings that this reader has not rated (nor written), on public
    posts; first those whose raters so far lean the other way from this reader, whose
    rating therefore decides most. Without a viewpoint yet: the least rated first."""
    reader = readers.require_reader(actor)
    rated = select(NoteRating.note_id).where(NoteRating.rater_id == reader.user_id)
    candidates = [
        note
        for note in session.scalars(
            select(Note)
            .where(
                Note.status == NEEDS_MORE_RATINGS,
                Note.removed_at.is_(None),
                Note.author_id != reader.user_id,
                Note.id.not_in(rated),
            )
            .order_by(Note.created_at.desc())
            .limit(NEEDS_HELP_CANDIDATES)
        )
        if _public_post(note.post)
    ]
    if not candidates:
        return []
    ids = [note.id for note in candidates]
    leaning: dict[int, float] = dict(
        session.execute(
            select(NoteRating.note_id, func.avg(NoteParticipant.factor))
            .join(NoteParticipant, NoteParticipant.user_id == NoteRating.rater_id)
            .where(NoteRating.note_id.in_(ids), NoteParticipant.factor.is_not(None))
            .group_by(NoteRating.note_id)
        ).all()
    )
    counts: dict[int, int] = dict(
        session.execute(
            select(NoteRating.note_id, func.count())
            .where(NoteRating.note_id.in_(ids))
            .group_by(NoteRating.note_id)
        ).all()
    )
    me = session.get(NoteParticipant, reader.user_id)
    mine = me.factor if me is not None else None

    def priority(note: Note) -> tuple[float, int]:
        lean = leaning.get(note.id)
        # Opposite signs make the product negative: those notes first, the most opposite
        # first; notes without rated raters next; the fewest ratings break ties.
        opposition = (mine * float(lean)) if mine is not None and lean is not None else 0.0
        return (opposition, int(counts.get(note.id, 0)))

    return sorted(candidates, key=priority)[:limit]
