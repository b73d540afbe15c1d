"""The database schema: accounts, blogs, posts and their revisions.

Rich values that are always read and written whole (labels, key points, images, the quoted
social post) are JSON columns: they travel with their row and their revisions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from liveticker.storage.types import UTCDateTime

# Explicit constraint names so Alembic migrations are the same on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Readers only. The stable pseudonymous id of their notes and ratings in the scorer
    # and the public data (never the alias); an admin may let them write notes before
    # they earn it; a digest of the address they signed up from, to limit sign-ups.
    participant_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    writing_granted: Mapped[bool] = mapped_column(Boolean, default=False)
    signup_key: Mapped[str | None] = mapped_column(String(64), index=True, default=None)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token: tokens are 256-bit random, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")


class LoginSession(Base):
    """A signed-in browser: the cookie holds a random id whose SHA-256 is stored here.

    Shared by the desk and, later, readers' accounts. `csrf_token` is this session's token
    for state-changing forms and fetches (checked on the server, never in a cookie).
    """

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    user: Mapped[User] = relationship(lazy="joined")


class Blog(Base):
    __tablename__ = "blogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    short_code: Mapped[str] = mapped_column(String(8), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    standfirst: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[list[Any]] = mapped_column(default=list)
    lead_image: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    key_points: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(8), default="draft", index=True)
    closing_message: Mapped[str] = mapped_column(Text, default="")
    # BCP 47 tag its page speaks (web/i18n.py); sibling blogs' slugs in other languages,
    # linked by hreflang; the name of its look among the site's themes ("" = the default).
    language: Mapped[str] = mapped_column(String(35), default="en")
    translations: Mapped[list[Any]] = mapped_column(default=list)
    theme: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    coverage_start: Mapped[datetime | None] = mapped_column(default=None)
    coverage_end: Mapped[datetime | None] = mapped_column(default=None)
    # Bumped by every change a reader can see; equals the id of the blog's newest event,
    # so a page rendered at version V continues its live stream after V.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_stream", "blog_id", "status", "published_at", "id"),
        # At most one pinned post per blog, enforced by the database as well as the domain.
        # A pinned draft is only an intention: it takes the pin when it is published.
        Index(
            "uq_posts_one_pinned",
            "blog_id",
            unique=True,
            sqlite_where=text("pinned AND status = 'published'"),
            postgresql_where=text("pinned AND status = 'published'"),
        ),
        # The scheduler's question every second: which scheduled posts are due?
        Index("ix_posts_due", "status", "publish_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"))
    short_code: Mapped[str] = mapped_column(String(8), unique=True)
    headline: Mapped[str | None] = mapped_column(String(200), default=None)
    body: Mapped[str] = mapped_column(Text)
    # Rendered once at write time so a page view never runs the Markdown renderer.
    body_html: Mapped[str] = mapped_column(Text)
    # The body as plain text, cut to markdown.SUMMARY_LIMIT: the pages' titles,
    # descriptions and JSON-LD excerpts, derived at write time like body_html.
    summary: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[Any]] = mapped_column(default=list)
    social: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # draft, submitted (for review: submitted_at is set), scheduled (publish_at is set),
    # published, deleted (soft: kept for the record) or purged (content erased).
    status: Mapped[str] = mapped_column(String(10), default="draft")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    key_event: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the server publishes a scheduled post; set exactly while status is "scheduled".
    publish_at: Mapped[datetime | None] = mapped_column(default=None)
    # When it joined the review queue; set exactly while status is "submitted".
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    # Why an editor returned it to its author; kept while it is a draft, cleared when it
    # is submitted again, published or scheduled.
    review_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    delete_reason: Mapped[str] = mapped_column(Text, default="")

    blog: Mapped[Blog] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")


class Revision(Base):
    """One change to a blog or a post: who, when, which action, and each field's old/new."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True, default=None
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(20))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")


class Event(Base):
    """One change a reader can see, in the blog's log: what live delivery sends and replays.

    `seq` increases by one per blog (from the blog's going live) and equals the blog's
    version after the change. `data` is a snapshot of what changed, taken in the same
    transaction as the change itself. `entity` names what the event shows ("post:12",
    "blog", "key-points"): a later event for the same entity empties this one (kind
    "superseded", no data), so the log holds the present, never the past.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("blog_id", "seq", name="uq_events_blog_seq"),
        Index("ix_events_entity", "blog_id", "entity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(80), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """An admin action taken for legal or safety reasons: who, when, what, and why.

    Kept apart from revisions, which belong to what they describe: a purge erases a post's
    revisions, and this record of the purge is what remains.
    """

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(40))
    # What it acted on, as "post:12" / "blog:3": a name that outlives the row it names.
    target: Mapped[str] = mapped_column(String(80))
    blog_id: Mapped[int | None] = mapped_column(
        ForeignKey("blogs.id", ondelete="SET NULL"), index=True, default=None
    )
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")


class BlogMember(Base):
    """A member of a blog's team: staff act only on the blogs they are members of (admins
    on every blog)."""

    __tablename__ = "blog_members"

    blog_id: Mapped[int] = mapped_column(
        ForeignKey("blogs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", foreign_keys=[user_id])


class Media(Base):
    """An uploaded image: who uploaded it, when, and the files stored for it.

    The upload itself is never kept: `renditions` are the re-encoded files, narrowest
    first (`{"file", "width", "height", "bytes"}`, `file` relative to the media folder);
    `width` and `height` are those of the largest, which pages use as the image's size.
    """

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # random; in every file's name
    format: Mapped[str] = mapped_column(String(8))  # of the stored files: jpeg, png, webp
    source_format: Mapped[str] = mapped_column(String(8))  # of the upload (a gif is kept as png)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)  # of the upload
    renditions: Mapped[list[Any]] = mapped_column(default=list)
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LivePresence(Base):
    """How many readers follow a blog's live stream on one server process, as that process
    last reported it. Each process reports at every heartbeat and withdraws when it stops;
    the report of a process killed outright ages out. The desk adds up the fresh ones."""

    __tablename__ = "live_presence"

    process: Mapped[str] = mapped_column(String(64), primary_key=True)
    blog_id: Mapped[int] = mapped_column(
        ForeignKey("blogs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    readers: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Note(Base):
    """A reader's community note on a published post, and its status from the last run.

    `status` is the final status readers see (X's names); the other scored fields are the
    last run's, for the note's page. An admin's legal removal erases the text and sources
    and keeps the reason, which the note's page shows in their place.
    """

    __tablename__ = "notes"
    __table_args__ = (
        UniqueConstraint("post_id", "author_id"),  # one note per author per post
        Index("ix_notes_blog_status", "blog_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    classification: Mapped[str] = mapped_column(String(48))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    text: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(32), default="NEEDS_MORE_RATINGS")
    core_status: Mapped[str] = mapped_column(String(32), default="")
    intercept: Mapped[float | None] = mapped_column(Float, default=None)
    factor: Mapped[float | None] = mapped_column(Float, default=None)
    intercept_min: Mapped[float | None] = mapped_column(Float, default=None)
    intercept_max: Mapped[float | None] = mapped_column(Float, default=None)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    rules: Mapped[list[Any]] = mapped_column(default=list)
    scored_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_reason: Mapped[str] = mapped_column(Text, default="")
    removed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    post: Mapped[Post] = relationship(lazy="joined")


class NoteRating(Base):
    """One reader's rating of one note; a new rating replaces the old."""

    __tablename__ = "note_ratings"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    rater_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    helpfulness: Mapped[str] = mapped_column(String(20))  # HELPFUL, SOMEWHAT_HELPFUL, NOT_HELPFUL
    tags: Mapped[list[Any]] = mapped_column(default=list)  # X's tag column names
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoteStatusChange(Base):
    """A note's final status as each scoring run changed it: the note's public history."""

    __tablename__ = "note_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)


class NoteHistory(Base):
    """The engine's own status history of a note (X's noteStatusHistory row), which the
    next run reads: first statuses, locks, stabilization times."""

    __tablename__ = "note_status_history"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    row: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NoteParticipant(Base):
    """A reader as the last scoring run saw them: their viewpoint, their rating impact and
    whether they may write (X's enrollment)."""

    __tablename__ = "note_participants"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    intercept: Mapped[float | None] = mapped_column(Float, default=None)
    factor: Mapped[float | None] = mapped_column(Float, default=None)
    rating_impact: Mapped[int] = mapped_column(Integer, default=0)
    writing_impact: Mapped[int] = mapped_column(Integer, default=0)
    enrollment_state: Mapped[str] = mapped_column(String(32), default="newUser")
    needed_to_earn_in: Mapped[int] = mapped_column(Integer, default=5)
    times_earned_out: Mapped[int] = mapped_column(Integer, default=0)
    state_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotesRun(Base):
    """One scoring run of the service: when, on what, and what it changed."""

    __tablename__ = "notes_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    now_millis: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Lease(Base):
    """A named job that one process or host at a time may run (the notes scorer): held
    until `expires_at`, renewed while running, taken over once expired."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
