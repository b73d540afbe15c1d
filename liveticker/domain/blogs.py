"""Blogs: creating, retitling, going live, closing and reopening, and the key points.

Each change a reader can see appends an event to the blog's log (`domain.events`), which
also moves the blog's "last updated" time and its version (the page ETag).
"""

from __future__ import annotations

import re

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from liveticker.domain import audit, events, languages, permissions, revisions, teams
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import (
    SLUG_PATTERN,
    BlogCreate,
    BlogUpdate,
    CloseInput,
    KeyPointsInput,
)
from liveticker.domain.shortcodes import is_wellformed, unused_code
from liveticker.exceptions import Conflict, Misconfigured, NotFound, ValidationFailed
from liveticker.storage.models import Blog, utcnow

_SLUG = re.compile(SLUG_PATTERN)
DEFAULT_CLOSING_MESSAGE = "This blog has now been closed. Thank you for following our coverage."


def get_blog(session: Session, *, slug: str, actor: Actor | None) -> Blog:
    """The blog behind a slug, if the actor may see it; NotFound otherwise.

    Public blogs are seen by all; a draft blog only by admins and its team.
    """
    # A slug that could never exist is answered without a query (and without handing
    # the database bytes such as NUL that PostgreSQL refuses).
    if len(slug) > 80 or not _SLUG.match(slug):
        raise NotFound(f"no blog {slug[:80]!r}")
    blog = session.scalar(select(Blog).where(Blog.slug == slug))
    if blog is None or not permissions.can_see_blog(actor, blog):
        raise NotFound(f"no blog {slug!r}")
    public = blog.status in permissions.PUBLIC_BLOG_STATUSES
    staff = permissions.staff(actor)
    if not public and staff is not None and not teams.is_member(session, actor=staff, blog=blog):
        raise NotFound(f"no blog {slug!r}")
    return blog


def find_blog_by_code(session: Session, code: str) -> Blog | None:
    """The blog behind a short link, whatever its status (callers check who may see it)."""
    if not is_wellformed(code):
        return None
    return session.scalar(select(Blog).where(Blog.short_code == code))


def list_public_blogs(session: Session, *, limit: int = 50) -> list[Blog]:
    """Live blogs first, then closed ones, each most recently updated first."""
    live_first = case((Blog.status == "live", 0), else_=1)
    return list(
        session.scalars(
            select(Blog)
            .where(Blog.status.in_(permissions.PUBLIC_BLOG_STATUSES))
            .order_by(live_first, Blog.updated_at.desc(), Blog.id.desc())
            .limit(limit)
        )
    )


def public_translations(session: Session, *, blog: Blog) -> list[Blog]:
    """The blog's siblings in other languages that readers may see, in the order the desk
    named them: a draft sibling, even its slug, stays unseen until it is published."""
    wanted = [slug for slug in blog.translations if slug != blog.slug]
    if not wanted:
        return []
    found = {
        sibling.slug: sibling
        for sibling in session.scalars(select(Blog).where(Blog.slug.in_(wanted)))
        if permissions.can_see_blog(None, sibling)
    }
    return [found[slug] for slug in wanted if slug in found]


def create_blog(
    session: Session, *, actor: Actor | None, data: BlogCreate, default_language: str
) -> Blog:
    """A new draft blog (editors); it logs nothing until it is published.

    Its language is the one `data` names, else `default_language`: the site's
    LIVETICKER_DEFAULT_LANGUAGE, which the API, the desk and the CLI pass from settings.
    """
    actor = permissions.require_editor(actor)
    _not_its_own_translation(data.slug, data.translations)
    if session.scalar(select(Blog.id).where(Blog.slug == data.slug)) is not None:
        raise Conflict(f"a blog with slug {data.slug!r} exists already", field="slug")
    data = data.model_copy(update={"language": data.language or site_language(default_language)})
    now = utcnow()
    blog = Blog(
        slug=data.slug,
        short_code=unused_code(session),
        title=data.title,
        standfirst=data.standfirst,
        labels=list(data.labels),
        lead_image=data.lead_image.model_dump() if data.lead_image else None,
        key_points=[],
        status="draft",
        closing_message="",
        language=data.language,
        translations=list(data.translations),
        theme=data.theme,
        created_at=now,
        updated_at=now,
        version=1,
        created_by=actor.user_id,
    )
    session.add(blog)
    session.flush()
    if not actor.is_admin:  # admins work on every blog anyway
        teams.join(session, blog=blog, user_id=actor.user_id, added_by=actor.user_id)
    revisions.record(
        session, blog=blog, actor=actor, action="created", changes=data.model_dump(mode="json")
    )
    _audit(session, actor, "blog.create", blog, "")
    return blog


def update_blog(session: Session, *, actor: Actor | None, blog: Blog, data: BlogUpdate) -> Blog:
    """Change the blog's own fields; readers following it get the change live."""
    actor = permissions.require_editor(actor)
    teams.require_member(session, actor=actor, blog=blog)
    values = data.changes()
    if "lead_image" in values and data.lead_image is not None:
        values["lead_image"] = data.lead_image.model_dump()
    if "labels" in values:
        values["labels"] = list(data.labels or [])
    if "translations" in values:
        translations = list(data.translations or [])
        _not_its_own_translation(blog.slug, translations)
        values["translations"] = translations
    events.lock_blog(session, blog)
    changed = revisions.apply_changes(blog, values)
    if changed:
        events.blog_changed(session, blog=blog)
        revisions.record(session, blog=blog, actor=actor, action="edited", changes=changed)
        _audit(session, actor, "blog.update", blog, ", ".join(sorted(changed)))
    return blog


def set_key_points(
    session: Session, *, actor: Actor | None, blog: Blog, data: KeyPointsInput
) -> Blog:
    """Replace the key points as a whole; editors keep them current as the story moves."""
    actor = permissions.require_editor(actor)
    teams.require_member(session, actor=actor, blog=blog)
    events.lock_blog(session, blog)
    changed = revisions.apply_changes(blog, {"key_points": list(data.items)})
    if changed:
        events.key_points_changed(session, blog=blog)
        revisions.record(session, blog=blog, actor=actor, action="key_points", changes=changed)
    return blog


def key_points_html(blog: Blog) -> list[str]:
    """The key points rendered from Markdown to sanitized HTML."""
    return list(events.key_points_snapshot(blog)["items"])


def publish_blog(session: Session, *, actor: Actor | None, blog: Blog) -> Blog:
    """Make a draft blog live: it becomes public and starts its event log."""
    actor = permissions.require_editor(actor)
    teams.require_member(session, actor=actor, blog=blog)
    events.lock_blog(session, blog)
    if blog.status != "draft":
        raise Conflict(
            "only a draft blog can be published"
            + ("; reopen a closed blog instead" if blog.status == "closed" else "")
        )
    now = utcnow()
    blog.status = "live"
    blog.published_at = now
    blog.coverage_start = blog.coverage_start or now
    events.blog_changed(session, blog=blog, now=now)
    revisions.record(
        session, blog=blog, actor=actor, action="published", changes={"status": ["draft", "live"]}
    )
    _audit(session, actor, "blog.publish", blog, "")
    return blog


def close_blog(
    session: Session, *, actor: Actor | None, blog: Blog, data: CloseInput | None = None
) -> Blog:
    """End coverage: the blog stays public with its closing message, and takes no posts."""
    actor = permissions.require_editor(actor)
    teams.require_member(session, actor=actor, blog=blog)
    events.lock_blog(session, blog)
    if blog.status != "live":
        raise Conflict("only a live blog can be closed")
    now = utcnow()
    message = data.message if data and data.message else DEFAULT_CLOSING_MESSAGE
    changed = revisions.apply_changes(
        blog, {"status": "closed", "coverage_end": now, "closing_message": message}
    )
    events.blog_changed(session, blog=blog, now=now)
    revisions.record(session, blog=blog, actor=actor, action="closed", changes=changed)
    _audit(session, actor, "blog.close", blog, "")
    return blog


def reopen_blog(session: Session, *, actor: Actor | None, blog: Blog) -> Blog:
    """Make a closed blog live again."""
    actor = permissions.require_editor(actor)
    teams.require_member(session, actor=actor, blog=blog)
    events.lock_blog(session, blog)
    if blog.status != "closed":
        raise Conflict("only a closed blog can be reopened")
    changed = revisions.apply_changes(blog, {"status": "live", "coverage_end": None})
    events.blog_changed(session, blog=blog)
    revisions.record(session, blog=blog, actor=actor, action="reopened", changes=changed)
    _audit(session, actor, "blog.reopen", blog, "")
    return blog


def _not_its_own_translation(slug: str, translations: list[str]) -> None:
    if slug in translations:
        raise ValidationFailed(
            f"{slug!r} is this blog itself: translations are its siblings in other languages",
            field="translations",
        )


def site_language(tag: str) -> str:
    """The site's default language, checked: `serve` asks at start, so a bad setting is one
    line there, not a 500 at the first new blog."""
    try:
        return languages.normalize(tag)
    except ValidationFailed:
        # The operator's setting, not the client's input: a 500 that says what to fix.
        raise Misconfigured(
            f"LIVETICKER_DEFAULT_LANGUAGE {tag!r} is not a language tag this site knows"
        ) from None


def _audit(session: Session, actor: Actor, action: str, blog: Blog, reason: str) -> None:
    audit.record(
        session, actor=actor, action=action, target=f"blog:{blog.slug}", reason=reason, blog=blog
    )
