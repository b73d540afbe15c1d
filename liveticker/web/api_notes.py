"""The JSON API of community notes under /api/v1: readers' accounts, notes, ratings.

Thin routes over `domain.readers` and `domain.notes`, with the same error format and
rules as the rest of the API; a reader signs up here and gets a token from /api/v1/tokens
as staff do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, StrictBool

from liveticker.domain import accounts, blogs, notes, permissions, posts, readers
from liveticker.domain.inputs import NoteCreate, NoteRemoval, RatingInput, ReaderSignUp
from liveticker.exceptions import Unauthorized
from liveticker.storage.models import Note, User
from liveticker.web.api import ERRORS, PostId
from liveticker.web.deps import AppServices, DbSession, MaybeActor, Writer
from liveticker.web.schemas import (
    NoteDetailOut,
    NoteOut,
    RatingOut,
    ReaderOut,
    SidesOut,
    StatusChangeOut,
)
from liveticker.web.services import Services

router = APIRouter(prefix="/api/v1")
NoteId = Annotated[int, "the note's numeric id"]


class WritingGrant(BaseModel):
    granted: StrictBool


def reader_out(session: DbSession, services: Services, user: User) -> ReaderOut:
    threshold = services.settings.notes_writing_impact
    status = readers.writing_status(session, user=user, threshold=threshold)
    return ReaderOut(
        alias=user.username,
        can_write=status.can_write,
        rating_impact=status.rating_impact,
        writing_needs=status.needed,
        earned_out=status.earned_out,
    )


@router.post(
    "/readers", status_code=201, response_model=ReaderOut, responses=ERRORS, tags=["notes"]
)
def sign_up(
    request: Request, session: DbSession, services: AppServices, data: ReaderSignUp
) -> ReaderOut:
    """A reader's account for writing and rating notes; then POST /api/v1/tokens."""
    address = request.client.host if request.client else "unknown"
    per_hour = services.settings.signup_rate_per_hour
    user = readers.sign_up(session, data=data, address=address, per_hour=per_hour)
    return reader_out(session, services, user)


@router.get("/readers/me", response_model=ReaderOut, responses=ERRORS, tags=["notes"])
def me(session: DbSession, services: AppServices, actor: MaybeActor) -> ReaderOut:
    reader = readers.require_reader(actor)
    user = session.get(User, reader.user_id)
    if user is None:
        raise Unauthorized("sign in again")
    return reader_out(session, services, user)


@router.put("/readers/{alias}/writing", response_model=ReaderOut, responses=ERRORS, tags=["notes"])
def grant_writing(
    session: DbSession, services: AppServices, actor: Writer, alias: str, data: WritingGrant
) -> ReaderOut:
    """An admin lets a reader write notes before they earn it, or takes that back."""
    user = accounts.get_user(session, alias)
    readers.grant_writing(session, actor=actor, user=user, granted=data.granted)
    return reader_out(session, services, user)


def _detail(session: DbSession, note: Note, actor: accounts.Actor | None) -> NoteDetailOut:
    base = NoteOut.of(note, asker=actor, rating=notes.my_rating(session, actor=actor, note=note))
    sides = notes.rating_sides(session, note=note)
    return NoteDetailOut(
        **base.model_dump(),
        helpful_by_side=SidesOut(**sides.helpful),
        not_helpful_by_side=SidesOut(**sides.not_helpful),
        history=[
            StatusChangeOut(status=change.status, at=change.at)
            for change in notes.status_history(session, note=note)
        ],
    )


@router.post(
    "/blogs/{slug}/posts/{post_id}/notes",
    status_code=201,
    response_model=NoteOut,
    responses=ERRORS,
    tags=["notes"],
)
def write_note(
    session: DbSession,
    services: AppServices,
    actor: Writer,
    slug: str,
    post_id: PostId,
    data: NoteCreate,
) -> NoteOut:
    """A reader's note on a published post (one per reader and post), once they may write."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    settings = services.settings
    note = notes.write_note(
        session,
        actor=actor,
        post=post,
        data=data,
        threshold=settings.notes_writing_impact,
        per_day=settings.notes_per_day,
    )
    return NoteOut.of(note, asker=actor)


@router.get(
    "/blogs/{slug}/posts/{post_id}/notes",
    response_model=list[NoteOut],
    responses=ERRORS,
    tags=["notes"],
)
def post_notes(session: DbSession, actor: MaybeActor, slug: str, post_id: PostId) -> list[NoteOut]:
    """The post's notes: to everyone those rated Helpful; to signed-in readers also those
    that need ratings."""
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    post = posts.get_post(session, blog=blog, post_id=post_id, actor=actor)
    return [
        NoteOut.of(note, asker=actor, rating=notes.my_rating(session, actor=actor, note=note))
        for note in notes.post_notes(session, post=post, actor=actor)
    ]


@router.get("/notes/needs-help", response_model=list[NoteOut], responses=ERRORS, tags=["notes"])
def needs_your_help(
    session: DbSession,
    actor: MaybeActor,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[NoteOut]:
    """Notes that need ratings, those whose raters so far lean the other way from you first."""
    return [
        NoteOut.of(note, asker=actor)
        for note in notes.needs_your_help(session, actor=actor, limit=limit)
    ]


@router.get("/notes/{note_id}", response_model=NoteDetailOut, responses=ERRORS, tags=["notes"])
def get_note(session: DbSession, actor: MaybeActor, note_id: NoteId) -> NoteDetailOut:
    """A note with its status, how it was decided, its ratings by side and its history."""
    return _detail(session, notes.get_note(session, note_id=note_id, actor=actor), actor)


@router.delete("/notes/{note_id}", status_code=204, responses=ERRORS, tags=["notes"])
def delete_note(session: DbSession, actor: Writer, note_id: NoteId) -> Response:
    """Its author takes a note back, while it has never had a status."""
    note = notes.get_note(session, note_id=note_id, actor=actor)
    notes.delete_note(session, actor=actor, note=note)
    return Response(status_code=204)


@router.put("/notes/{note_id}/rating", response_model=RatingOut, responses=ERRORS, tags=["notes"])
def rate_note(
    session: DbSession, services: AppServices, actor: Writer, note_id: NoteId, data: RatingInput
) -> RatingOut:
    """Rate a note (a new rating replaces your old one); not your own."""
    readers.require_reader(actor)
    note = notes.get_note(session, note_id=note_id, actor=actor)
    rating = notes.rate_note(
        session, actor=actor, note=note, data=data, per_hour=services.settings.ratings_per_hour
    )
    return RatingOut.of(rating)


@router.post("/notes/{note_id}/removal", response_model=NoteOut, responses=ERRORS, tags=["notes"])
def remove_note(session: DbSession, actor: Writer, note_id: NoteId, data: NoteRemoval) -> NoteOut:
    """An admin removes a note for legal reasons; its page says so, with the reason."""
    permissions.require_admin(actor)
    note = notes.get_note(session, note_id=note_id, actor=actor)
    return NoteOut.of(notes.remove_note(session, actor=actor, note=note, reason=data.reason))
