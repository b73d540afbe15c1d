"""Community notes where readers meet them: a note's page (how it was decided, the rating
form), a post's notes (the writing form), "Needs your help", and a blog's notes plot for
admins. Thin routes over domain.notes and domain.readers, as the JSON API is; every form
posts and redirects, so all of it works without JavaScript.

These pages differ per reader, so they are private (no-store) while the blog page, which
links to them, stays public and cached. Each speaks its blog's language (web/i18n.py), its
form errors too; "Needs your help", across blogs, the site's default language.
"""

from __future__ import annotations

import json
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
from liveticker.domain.languages import N_
from liveticker.domain.markdown import render_plain
from liveticker.domain.sessions import SignedIn
from liveticker.exceptions import LivetickerError, ValidationFailed
from liveticker.storage.models import Note, Post, User
from liveticker.web import i18n, seo
from liveticker.web.deps import (
    CSRF_FIELD,
    AnyUser,
    AnyWriter,
    AppServices,
    DbSession,
    MaybeSignedIn,
)
from liveticker.web.desk import MAX_FIELD, PRIVATE_HEADERS
from liveticker.web.notes_explain import explain, label, plot, status_text
from liveticker.web.pages import ASSET_VERSION, TIME_HELPERS

router = APIRouter(include_in_schema=False)

# What a redirect after a successful form may announce: fixed texts, never user input.
DONE = {
    "rated": N_("Thank you: your rating is saved. You can change it at any time."),
    "written": N_(
        "Your note is saved. Other readers rate it now; it is shown under the post "
        "once people who usually disagree both find it helpful."
    ),
    "deleted": N_("Your note is deleted."),
}
REASONS = {MISLEADING: MISLEADING_REASONS, NOT_MISLEADING: NOT_MISLEADING_REASONS}


def _render(
    request: Request,
    services: AppServices,
    template: str,
    context: dict[str, Any],
    *,
    me: SignedIn | None,
    language: str,
    status: int = 200,
) -> Response:
    """The page in `language`: its blog's (or, for admins' pages, English)."""
    done = DONE.get(request.query_params.get("done", ""))
    with i18n.speaking(language):
        full = {
            "site_name": services.settings.site_name,
            "asset_version": ASSET_VERSION,
            **TIME_HELPERS,
            "label": label,
            "status_text": status_text,
            "count_strings": _count_strings,  # called as the page renders, in its language
            "me": me,
            "csrf_field": CSRF_FIELD,
            "done": i18n.gettext(done) if done else None,
            "error": None,
            "form": {},
            **context,
        }
        return services.templates.TemplateResponse(
            request, template, full, status_code=status, headers=PRIVATE_HEADERS
        )


def _count_strings() -> str:
    """The note form's character count in the page's language, for note-form.js: each
    plural form by CLDR category ("one", "few", "other"), %(n)s the count, as JSON with the
    language whose categories they are."""
    language = i18n.current()
    forms: dict[str, dict[str, str]] = {"left": {}, "over": {}}
    messages = {
        "left": i18n._plural_noop("%(n)s character left.", "%(n)s characters left."),
        "over": i18n._plural_noop("%(n)s character too many.", "%(n)s characters too many."),
    }
    for sample in range(200):
        category = str(language.locale.plural_form(sample))
        for key, (singular, plural) in messages.items():
            forms[key].setdefault(category, language.ngettext(singular, plural, sample))
    return json.dumps({"lang": language.tag, **forms}, ensure_ascii=False)


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=PRIVATE_HEADERS)


def _one(form: dict[str, list[str]], name: str) -> str:
    """A field that is sent once (the last, if a client sent more)."""
    return (form.get(name) or [""])[-1]


async def _form(request: Request, *, language: str) -> dict[str, list[str]]:
    """Every posted value of every field (checkboxes repeat a name), as text."""
    fields: dict[str, list[str]] = {}
    async with request.form() as form:
        for name, value in form.multi_items():
            if isinstance(value, str):
                if len(value) > MAX_FIELD:
                    with i18n.speaking(language):
                        message = i18n.ngettext(
                            "at most %(n)s character", "at most %(n)s characters", MAX_FIELD
                        )
                    raise ValidationFailed(message % {"n": MAX_FIELD}, field=name)
                fields.setdefault(name, []).append(value)
    return fields


def _rating(form: dict[str, list[str]], *, language: str) -> RatingInput:
    """The rating form's answer, or ValidationFailed in the page's language."""
    with i18n.speaking(language):
        helpfulness = _one(form, "helpfulness")
        if helpfulness not in HELPFULNESS_LEVELS:
            message = i18n.gettext("choose Helpful, Somewhat helpful or Not helpful")
            raise ValidationFailed(message, field="helpfulness")
        try:
            return RatingInput.model_validate(
                {"helpfulness": helpfulness, "tags": form.get("tags", [])}
            )
        except ValidationError as exc:
            raise _problem(exc, rule_field="tags") from None


def _note_input(form: dict[str, list[str]], *, language: str) -> NoteCreate:
    """The note form's note, or ValidationFailed in the page's language."""
    with i18n.speaking(language):
        classification = _one(form, "classification")
        if classification not in REASONS:
            message = i18n.gettext("choose whether the post is misleading")
            raise ValidationFailed(message, field="classification")
        try:
            return NoteCreate.model_validate(
                {
                    "classification": classification,
                    "reasons": form.get("reasons", []),
                    "text": _one(form, "text"),
                    "sources": _one(form, "sources").split(),  # one a line
                }
            )
        except ValidationError as exc:
            raise _problem(exc, rule_field="reasons") from None


def _problem(exc: ValidationError, *, rule_field: str) -> ValidationFailed:
    """The first problem of a form's validation, named after its field, in a reader's words
    (pydantic's own messages stay English); a rule across fields (the model's own) is put at
    `rule_field`, or at the sources."""
    first = exc.errors()[0]
    location = first["loc"]
    message = str(first["msg"]).removeprefix("Value error, ")
    field = str(location[0]) if location else ("sources" if "source" in message else rule_field)
    if field in ("reasons", "tags") and first["type"] == "too_short":
        message = i18n.gettext("tick at least one reason")
    elif message.startswith("reasons for "):
        message = i18n.gettext("tick reasons from the list under the answer you chose")
    elif message.startswith("tag "):
        message = i18n.gettext(
            "tick what made it helpful for Helpful, what made it not helpful for Not helpful "
            "(either for Somewhat helpful)"
        )
    elif field == "sources" and len(location) > 1:
        number = int(location[1]) + 1
        message = i18n.gettext("link %(n)s: %(problem)s") % {"n": number, "problem": message}
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
    language = note.post.blog.language
    history = notes.status_history(session, note=note)
    rating = notes.my_rating(session, actor=actor, note=note)
    form = {"helpfulness": [rating.helpfulness], "tags": list(rating.tags)} if rating else {}
    with i18n.speaking(language):
        why = explain(note)
    context = {
        "note": note,
        "text_html": render_plain(note.text) if note.text else "",
        "post": note.post,
        "title": seo.post_title(note.post),
        "why": why,
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
    return _render(
        request, services, "notes/note.html", context, me=me, language=language, status=status
    )


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
    language = services.settings.default_language  # its notes are from any blog
    return _render(request, services, "notes/needs_help.html", context, me=me, language=language)


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
    language = note.post.blog.language
    form = await _form(request, language=language)
    try:
        data = _rating(form, language=language)
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
    language = post.blog.language
    return _render(
        request, services, "notes/post_notes.html", context, me=me, language=language, status=status
    )


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
    language = post.blog.language
    form = await _form(request, language=language)
    settings = services.settings
    try:
        data = _note_input(form, language=language)
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
    # For admins, as the desk is: in English (its numbers, from notes_explain, too).
    language = i18n.SOURCE_LANGUAGE
    return _render(request, services, "notes/plot.html", context, me=me, language=language)
