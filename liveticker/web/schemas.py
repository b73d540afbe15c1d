"""What the JSON API returns, built from the ORM rows (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from liveticker.domain.accounts import Actor
from liveticker.domain.blogs import key_points_html
from liveticker.domain.history import FieldChange, RevisionDiff
from liveticker.domain.markdown import render_plain
from liveticker.domain.media import Library
from liveticker.domain.review import Queue
from liveticker.storage.models import (
    AuditEntry,
    Blog,
    Media,
    Note,
    NoteRating,
    Post,
    Revision,
    User,
)


class SourceOut(BaseModel):
    url: str
    width: int


class ImageOut(BaseModel):
    url: str
    alt: str
    caption: str = ""
    credit: str = ""
    width: int | None = None
    height: int | None = None
    srcset: list[SourceOut] = []


class MediaOut(BaseModel):
    """An uploaded image: with `alt` (and a caption and credit) added, an image of a post."""

    url: str
    width: int
    height: int
    srcset: list[SourceOut]

    @classmethod
    def of(cls, media: Media, library: Library) -> MediaOut:
        files = media.renditions
        return cls(
            url=library.url_of(files[-1]["file"]),
            width=media.width,
            height=media.height,
            srcset=[SourceOut(url=library.url_of(f["file"]), width=f["width"]) for f in files],
        )


class SocialOut(BaseModel):
    url: str
    author_name: str
    handle: str
    text: str
    posted_at: datetime | None = None


class BlogOut(BaseModel):
    slug: str
    short_code: str
    short_url: str
    url: str
    title: str
    standfirst: str
    labels: list[str]
    lead_image: ImageOut | None
    key_points: list[str]
    key_points_html: list[str]
    status: str
    closing_message: str
    language: str
    translations: list[str]
    theme: str
    created_at: datetime
    published_at: datetime | None
    updated_at: datetime
    coverage_start: datetime | None
    coverage_end: datetime | None
    version: int

    @classmethod
    def of(cls, blog: Blog) -> BlogOut:
        return cls(
            slug=blog.slug,
            short_code=blog.short_code,
            short_url=f"/p/{blog.short_code}",
            url=f"/blogs/{blog.slug}",
            title=blog.title,
            standfirst=blog.standfirst,
            labels=list(blog.labels),
            lead_image=ImageOut(**blog.lead_image) if blog.lead_image else None,
            key_points=list(blog.key_points),
            key_points_html=key_points_html(blog),
            status=blog.status,
            closing_message=blog.closing_message,
            language=blog.language,
            translations=list(blog.translations),
            theme=blog.theme,
            created_at=blog.created_at,
            published_at=blog.published_at,
            updated_at=blog.updated_at,
            coverage_start=blog.coverage_start,
            coverage_end=blog.coverage_end,
            version=blog.version,
        )


class AuthorOut(BaseModel):
    username: str
    display_name: str


class PostOut(BaseModel):
    id: int
    blog: str
    short_code: str
    short_url: str
    url: str
    headline: str | None
    body: str
    body_html: str
    images: list[ImageOut]
    social: SocialOut | None
    author: AuthorOut | None
    status: str
    pinned: bool
    key_event: bool
    created_at: datetime
    published_at: datetime | None
    publish_at: datetime | None  # when the server publishes it (scheduled posts only)
    submitted_at: datetime | None  # when it joined the review queue (submitted posts only)
    review_comment: str  # why an editor returned it (a returned draft only; else "")
    updated_at: datetime
    deleted_at: datetime | None = None
    delete_reason: str | None = None

    @classmethod
    def of(cls, post: Post) -> PostOut:
        deleted = post.status in ("deleted", "purged")
        return cls(
            id=post.id,
            blog=post.blog.slug,
            short_code=post.short_code,
            short_url=f"/p/{post.short_code}",
            url=f"/blogs/{post.blog.slug}/posts/{post.id}",
            headline=post.headline,
            body=post.body,
            body_html=post.body_html,
            images=[ImageOut(**image) for image in post.images],
            social=SocialOut(**post.social) if post.social else None,
            author=AuthorOut(username=post.author.username, display_name=post.author.display_name)
            if post.author
            else None,
            status=post.status,
            pinned=post.pinned,
            key_event=post.key_event,
            created_at=post.created_at,
            published_at=post.published_at,
            publish_at=post.publish_at,
            submitted_at=post.submitted_at,
            review_comment=post.review_comment,
            updated_at=post.updated_at,
            deleted_at=post.deleted_at if deleted else None,
            delete_reason=post.delete_reason if deleted else None,
        )


class PostPage(BaseModel):
    posts: list[PostOut]
    next_cursor: str | None


class RevisionOut(BaseModel):
    id: int
    action: str
    user: str | None
    created_at: datetime
    changes: dict[str, Any]

    @classmethod
    def of(cls, revision: Revision) -> RevisionOut:
        return cls(
            id=revision.id,
            action=revision.action,
            user=revision.user.username if revision.user else None,
            created_at=revision.created_at,
            changes=revision.changes,
        )


class FieldChangeOut(BaseModel):
    field: str
    old: Any
    new: Any
    # Text fields, word by word: "equal" and "delete" segments spell the old text,
    # "equal" and "insert" ones the new. Null for other fields.
    words: list[tuple[Literal["equal", "delete", "insert"], str]] | None

    @classmethod
    def of(cls, change: FieldChange) -> FieldChangeOut:
        return cls(field=change.field, old=change.old, new=change.new, words=change.words)


class RevisionDiffOut(BaseModel):
    id: int
    action: str
    user: str | None
    created_at: datetime
    note: str
    changes: list[FieldChangeOut]

    @classmethod
    def of(cls, diff: RevisionDiff) -> RevisionDiffOut:
        revision = diff.revision
        return cls(
            id=revision.id,
            action=revision.action,
            user=revision.user.username if revision.user else None,
            created_at=revision.created_at,
            note=diff.note,
            changes=[FieldChangeOut.of(change) for change in diff.changes],
        )


class ReviewQueueOut(BaseModel):
    count: int
    oldest_submitted_at: datetime | None

    @classmethod
    def of(cls, queue: Queue) -> ReviewQueueOut:
        return cls(count=queue.count, oldest_submitted_at=queue.oldest_submitted_at)


class MemberOut(BaseModel):
    username: str
    display_name: str
    role: str

    @classmethod
    def of(cls, user: User) -> MemberOut:
        return cls(username=user.username, display_name=user.display_name, role=user.role)


class AuditEntryOut(BaseModel):
    id: int
    action: str
    target: str
    user: str | None
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            action=entry.action,
            target=entry.target,
            user=entry.user.username if entry.user else None,
            reason=entry.reason,
            created_at=entry.created_at,
        )


class TokenOut(BaseModel):
    token: str
    username: str
    role: str


class ChangeOut(BaseModel):
    id: int
    event: str
    data: dict[str, Any]


class ChangesOut(BaseModel):
    head: int
    reload: bool
    events: list[ChangeOut]


class StatusOut(BaseModel):
    version: str
    worker: int
    live_readers: int
    live_blogs: int


# -- community notes ---------------------------------------------------------------------


class ReaderOut(BaseModel):
    """A reader's own account: whether they may write notes yet, and how far from it."""

    alias: str
    can_write: bool
    rating_impact: int
    writing_needs: int  # the rating impact that unlocks writing
    earned_out: bool  # lost writing after notes rated Not Helpful; earn it back by rating


class NoteScoringOut(BaseModel):
    """How the last scoring run saw the note (for its author and staff in listings)."""

    core_status: str
    intercept: float | None
    factor: float | None
    intercept_min: float | None
    intercept_max: float | None
    decided_by: str
    rules: list[str]
    scored_at: datetime | None

    @classmethod
    def of(cls, note: Note) -> NoteScoringOut:
        return cls(
            core_status=note.core_status,
            intercept=note.intercept,
            factor=note.factor,
            intercept_min=note.intercept_min,
            intercept_max=note.intercept_max,
            decided_by=note.decided_by,
            rules=[str(rule) for rule in note.rules],
            scored_at=note.scored_at,
        )


class RatingOut(BaseModel):
    note_id: int
    helpfulness: Literal["HELPFUL", "SOMEWHAT_HELPFUL", "NOT_HELPFUL"]
    tags: list[str]
    updated_at: datetime

    @classmethod
    def of(cls, rating: NoteRating) -> RatingOut:
        return cls(
            note_id=rating.note_id,
            helpfulness=rating.helpfulness,
            tags=list(rating.tags),
            updated_at=rating.updated_at,
        )


class NoteOut(BaseModel):
    id: int
    url: str  # the note's page
    blog: str
    post_id: int
    classification: str
    reasons: list[str]
    text: str  # empty once removed
    text_html: str
    sources: list[str]
    status: str  # the final status readers see: CURRENTLY_RATED_HELPFUL shows under the post
    created_at: datetime
    removed: bool
    removed_reason: str | None
    mine: bool  # written by the asker
    my_rating: RatingOut | None
    scoring: NoteScoringOut | None  # the author's and staff's

    @classmethod
    def of(
        cls, note: Note, *, asker: Actor | None = None, rating: NoteRating | None = None
    ) -> NoteOut:
        mine = asker is not None and asker.user_id == note.author_id
        insider = mine or (asker is not None and asker.is_staff)
        return cls(
            id=note.id,
            url=f"/notes/{note.id}",
            blog=note.post.blog.slug,
            post_id=note.post_id,
            classification=note.classification,
            reasons=list(note.reasons),
            text=note.text,
            text_html=render_plain(note.text) if note.text else "",
            sources=list(note.sources),
            status=note.status,
            created_at=note.created_at,
            removed=note.removed_at is not None,
            removed_reason=note.removed_reason if note.removed_at is not None else None,
            mine=mine,
            my_rating=RatingOut.of(rating) if rating is not None else None,
            scoring=NoteScoringOut.of(note) if insider else None,
        )


class SidesOut(BaseModel):
    """Ratings by the raters' viewpoint from the last run: negative or positive factor,
    or not known yet (new raters)."""

    negative: int
    positive: int
    unknown: int


class StatusChangeOut(BaseModel):
    status: str
    at: datetime


class NoteDetailOut(NoteOut):
    """A note with how it was decided: the scoring, its ratings by side, its history."""

    helpful_by_side: SidesOut
    not_helpful_by_side: SidesOut
    history: list[StatusChangeOut]
