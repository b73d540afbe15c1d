"""Community notes where readers meet them: a note's page (how it was decided, the rating
form), a post's notes (the writing form), "Needs your help", and a blog's notes plot for
admins. Thin routes over domain.notes and domain.readers, as the JSON API is; every form
posts and redirects, so all of it works without JavaScript.

These pages differ per reader, so they are private (no-store) while the blog page, which
links to them, stays public and cached.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from liveticker.domain import blogs, notes, posts, readers
from liveticker.domain.inputs import (
    HELPFULNESS_LEVELS,
    MISLEADING,
    MISLEADING_REASONS,
    NOT_MISLEADING,
    NOT_MISLEADING_REASONS,
    NoteCreate,
    RatingInput,
)
from liveticker.domain.markdown import render_plain
from liveticker.domain.sessions import SignedIn
from liveticker.exceptions import LivetickerError, ValidationFailed
from liveticker.storage.models import Note, Post, User
from liveticker.web import seo
from liveticker.web.deps import (
    CSRF_FIELD,
    AnyUser,
    AnyWriter,
    AppServices,
    DbSession,
    MaybeSignedIn,
)
from liveticker.web.desk import MAX_FIELD, PRIVATE_HEADERS
from liveticker.web.notes_explain import explain, plot
from liveticker.web.pages import ASSET_VERSION, TIME_HELPERS

router = APIRouter(include_in_schema=False)

# What a redirect after a successful form may announce: fixed texts, never user input.
DONE = {
    "rated": "Thank you: your rating is saved. You can change it at any time.",
    "written": "Your note is saved. Other readers rate it now; it is shown under the post "
    "once people who usually disagree both find it helpful.",
    "deleted": "Your note is deleted.",
}
REASONS = {MISLEADING: MISLEADING_REASONS, NOT_MISLEADING: NOT_MISLEADING_REASONS}


def _render(
    request: Request,
    services: AppServices,
    template: str,
    context: dict[str, Any],
    *,
    me: SignedIn | None,
    status: int = 200,
) -> Response:
    full = {
        "site_name": services.settings.site_name,
        "asset_version": ASSET_VERSION,
        **TIME_HELPERS,
        "me": me,
        "csrf_field": CSRF_FIELD,
        "done": DONE.get(request.query_params.get("done", "")),
        "error": None,
        "form": {},
        **context,
    }
    return services.templates.TemplateResponse(
        request, template, full, status_code=status, headers=PRIVATE_HEADERS
    )


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=PRIVATE_HEADERS)


def _one(form: dict[str, list[str]], name: str) -> str:
    """A field that is sent once (the last, if a client sent more)."""
    return (form.get(name) or [""])[-1]


async def _form(request: Request) -> dict[str, list[str]]:
    """Every posted value of every field (checkboxes repeat a name), as text."""
    fields: dict[str, list[str]] = {}
    async with request.form() as form:
        for name, value in form.multi_items():
            if isinstance(value, str):
                if len(value) > MAX_FIELD:
                    raise ValidationFailed(f"at most {MAX_FIELD} characters", field=name)
                fields.setdefault(name, []).append(value)
    return fields


def _problem(exc: ValidationError, *, rule_field: str) -> ValidationFailed:
    """The first problem of a form's validation, named after its field, in a reader's words;
    a rule across fields (the model's own) is put at `rule_field`, or at the sources."""
    first = exc.errors()[0]
    location = first["loc"]
    message = str(first["msg"]).removeprefix("Value error, ")
    field = str(location[0]) if location else ("sources" if "source" in message else rule_field)
    if field in ("reasons", "tags") and first["type"] == "too_short":
        message = "tick at least one reason"
    elif message.startswith("reasons for "):
        message = "tick reasons from the list under the answer you chose"
    elif message.startswith("tag "):
        message = (
            "tick what made it helpful for Helpful, what made it not helpful for Not helpful "
            "(either for Somewhat helpful)"
        )
    elif field == "sources" and len(location) > 1:
        message = f"link {int(location[1]) + 1}: {message}"
    return ValidationFailed(message, field=field)


# -- the pages ------------------------------------------------------------------------------


def _note_page(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn | None,
    note: Note,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    actor = me.actor if me is not None else None
    history = notes.status_history(session, note=note)
    rating = notes.my_rating(session, actor=actor, note=note)
    form = {"helpfulness": [rating.helpfulness], "tags": list(rating.tags)} if rating else {}
    context = {
        "note": note,
        "text_html": render_plain(note.text) if note.text else "",
        "post": note.post,
        "title": seo.post_title(note.post),
        "why": explain(note),
        "sides": notes.rating_sides(session, note=note),
        "history": history,
        "rating": rating,
        "deletable": (
            actor is not None
            and actor.user_id == note.author_id
            and note.removed_at is None
            and all(change.status == notes.NEEDS_MORE_RATINGS for change in history)
            and note.status == notes.NEEDS_MORE_RATINGS
        ),
        "form": form,
        **extra,
    }
    return _render(request, services, "notes/note.html", context, me=me, status=status)


@router.get("/notes/needs-help")
def needs_help(
    request: Request, session: DbSession, services: AppServices, me: AnyUser
) -> Response:
    waiting = notes.needs_your_help(session, actor=me.actor, limit=30)
    context = {
        "notes": waiting,
        "titles": {note.id: seo.post_title(note.post) for note in waiting},
        "writing": _writing(session, services, me),
    }
    return _render(request, services, "notes/needs_help.html", context, me=me)


def _writing(session: DbSession, services: AppServices, me: SignedIn) -> readers.WritingStatus:
    """How far a signed-in reader is from writing notes (or that they may)."""
    user = session.get(User, me.actor.user_id)
    assert user is not None  # the session was just resolved
    threshold = services.settings.notes_writing_impact
    return readers.writing_status(session, user=user, threshold=threshold)


@router.get("/notes/{note_id:row_id}")
def note_page(
    request: Request, session: DbSession, services: AppServices, me: MaybeSignedIn, note_id: int
) -> Response:
    actor = me.actor if me is not None else None
    note = notes.get_note(session, note_id=note_id, actor=actor)
    return _note_page(request, session, services, me, note)


@router.post("/notes/{note_id:row_id}/rating")
async def rate(
    request: Request, session: DbSession, services: AppServices, me: AnyWriter, note_id: int
) -> Response:
    note = notes.get_note(session, note_id=note_id, actor=me.actor)
    form = await _form(request)
    try:
        helpfulness = _one(form, "helpfulness")
        if helpfulness not in HELPFULNESS_LEVELS:
            raise ValidationFailed(
                "choose Helpful, Somewhat helpful or Not helpful", field="helpfulness"
            )
        try:
            data = RatingInput.model_validate(
                {"helpfulness": helpfulness, "tags": form.get("tags", [])}
            )
        except ValidationError as exc:
            raise _problem(exc, rule_field="tags") from None
        with session.begin_nested():  # a refused rating leaves nothing behind
            notes.rate_note(
                session,
                actor=me.actor,
                note=note,
                data=data,
                per_hour=services.settings.ratings_per_hour,
            )
    except LivetickerError as exc:
        return _note_page(
            request, session, services, me, note, status=exc.status_code, error=exc, form=form
        )
    return _redirect(f"/notes/{note.id}?done=rated#rate")


@router.post("/notes/{note_id:row_id}/delete")
def delete(session: DbSession, me: AnyWriter, note_id: int) -> Response:
    note = notes.get_note(session, note_id=note_id, actor=me.actor)
    post = note.post
    notes.delete_note(session, actor=me.actor, note=note)
    return _redirect(f"{seo.post_path(post)}/notes?done=deleted")


def _post_of(session: DbSession, me: SignedIn | None, slug: str, post_id: int) -> Post:
    actor = me.actor if me is not None else None
    blog = blogs.get_blog(session, slug=slug, actor=actor)
    return posts.get_post(session, blog=blog, post_id=post_id, actor=actor)


def _post_notes_page(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: SignedIn | None,
    post: Post,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    actor = me.actor if me is not None else None
    listed = notes.post_notes(session, post=post, actor=actor)
    reader = actor is not None and actor.is_reader

    def mine(note: Note) -> bool:
        return actor is not None and note.author_id == actor.user_id

    context = {
        "post": post,
        "title": seo.post_title(post),
        "notes": listed,
        "mine": next((note for note in listed if mine(note)), None),
        "writing": _writing(session, services, me) if reader and me is not None else None,
        "reasons": REASONS,
        **extra,
    }
    return _render(request, services, "notes/post_notes.html", context, me=me, status=status)


@router.get("/blogs/{slug}/posts/{post_id:row_id}/notes")
def post_notes(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: MaybeSignedIn,
    slug: str,
    post_id: int,
) -> Response:
    post = _post_of(session, me, slug, post_id)
    return _post_notes_page(request, session, services, me, post)


@router.post("/blogs/{slug}/posts/{post_id:row_id}/notes")
async def write(
    request: Request,
    session: DbSession,
    services: AppServices,
    me: AnyWriter,
    slug: str,
    post_id: int,
) -> Response:
    post = _post_of(session, me, slug, post_id)
    form = await _form(request)
    settings = services.settings
    try:
        classification = _one(form, "classification")
        if classification not in REASONS:
            raise ValidationFailed("choose whether the post is misleading", field="classification")
        try:
            data = NoteCreate.model_validate(
                {
                    "classification": classification,
                    "reasons": form.get("reasons", []),
                    "text": _one(form, "text"),
                    "sources": _one(form, "sources").split(),  # one a line
                }
            )
        except ValidationError as exc:
            raise _problem(exc, rule_field="reasons") from None
        with session.begin_nested():  # a refused note leaves nothing behind
            note = notes.write_note(
                session,
                actor=me.actor,
                post=post,
                data=data,
                threshold=settings.notes_writing_impact,
                per_day=settings.notes_per_day,
            )
    except LivetickerError as exc:
        return _post_notes_page(
            request, session, services, me, post, status=exc.status_code, error=exc, form=form
        )
    return _redirect(f"/notes/{note.id}?done=written")


@router.get("/blogs/{slug}/notes/plot")
def notes_plot(
    request: Request, session: DbSession, services: AppServices, me: AnyUser, slug: str
) -> Response:
    blog = blogs.get_blog(session, slug=slug, actor=me.actor)
    scored = notes.scored_notes(session, actor=me.actor, blog=blog)
    context = {"blog": blog, "plot": plot(scored), "notes": scored}
    return _render(request, services, "notes/plot.html", context, me=me)
