"""A post's history for the desk: each revision as a readable diff, and restoring one.

Revisions record `{field: [old, new]}` (a post's first, "created", its starting values).
Text fields are shown as a word-level diff (difflib, paragraph by paragraph first, so a
long body stays cheap), other fields as old → new. The content a post had after a
revision is found by replaying its revisions up to that one; restoring it is an edit
through `posts.update_post`, so it is checked, recorded and sent to readers like any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liveticker.domain import permissions, posts, teams
from liveticker.domain.accounts import Actor
from liveticker.domain.inputs import MAX_ROW_ID, PostUpdate
from liveticker.exceptions import Conflict, NotFound
from liveticker.storage.models import Post, Revision

# Fields shown word by word; the rest are shown whole, old → new.
TEXT_FIELDS = frozenset({"headline", "body", "review_comment"})
# What a restore brings back: the post's content, never its status, pin or schedule.
CONTENT_FIELDS = ("headline", "body", "images", "social")
# A revision's note beside its changes: why the server changed the post, a purge's reason,
# which revision a restore brought back.
NOTE = "reason"
CREATED = "created"

Op = Literal["equal", "delete", "insert"]
Segment = tuple[Op, str]
# Words, runs of white space, single punctuation marks: "rising." ends in a word and a stop.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any  # None in a post's first revision
    new: Any
    # Text fields: the diff as segments; the "equal" and "delete" ones spell `old`, the
    # "equal" and "insert" ones `new`. None for other fields.
    words: list[Segment] | None


@dataclass(frozen=True)
class RevisionDiff:
    revision: Revision
    changes: list[FieldChange]
    note: str  # the revision's reason, if it has one


def revision_diffs(session: Session, *, actor: Actor | None, post: Post) -> list[RevisionDiff]:
    """The post's revisions, oldest first, each with what it changed, for the blog's
    editors and the post's author. A purged post's history stays erased: who and when only
    (and the purge's reason)."""
    erased = post.status == posts.PURGED
    return [
        RevisionDiff(
            revision=revision,
            changes=[] if erased else _field_changes(revision),
            note=str(revision.changes.get(NOTE, "")),
        )
        for revision in posts.post_revisions(session, actor=actor, post=post)
    ]


def word_diff(old: str, new: str) -> list[Segment]:
    """The change from `old` to `new` as ("equal" | "delete" | "insert", text) segments:
    paragraphs that changed are diffed word by word, and each run of changes is one
    deletion followed by one insertion."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces: list[tuple[bool, str, str]] = []  # (unchanged?, old text, new text)
    for op, i1, i2, j1, j2 in _opcodes(old_lines, new_lines):
        before, after = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if op == "replace":
            old_words, new_words = _TOKEN.findall(before), _TOKEN.findall(after)
            for _, a1, a2, b1, b2 in _opcodes(old_words, new_words):
                old_part, new_part = "".join(old_words[a1:a2]), "".join(new_words[b1:b2])
                pieces.append((old_part == new_part, old_part, new_part))
        else:
            pieces.append((op == "equal", before, after))
    return _segments(pieces)


def content_at(session: Session, *, post: Post, revision: Revision) -> dict[str, Any]:
    """The post's content fields as they were right after `revision`, by replaying its
    history from the first revision."""
    content: dict[str, Any] = {}
    replayed = session.scalars(
        select(Revision)
        .where(Revision.post_id == post.id, Revision.id <= revision.id)
        .order_by(Revision.id)
    )
    for earlier in replayed:
        if earlier.action == CREATED:
            content = {"headline": None, "body": "", "images": [], "social": None}
            content |= {f: v for f, v in earlier.changes.items() if f in CONTENT_FIELDS}
            continue
        for field in CONTENT_FIELDS:
            change = earlier.changes.get(field)
            if isinstance(change, list) and len(change) == 2:
                content[field] = change[1]
    return content


def restore_revision(
    session: Session, *, actor: Actor | None, post: Post, revision_id: int
) -> Post:
    """Give the post back its headline, body, images and quoted post as of an earlier
    revision, recorded as a new revision ("restored"). Editors on the team restore any
    post, contributors their own drafts; a deleted or purged post is not restored."""
    staff = permissions.require_staff(actor)
    teams.require_member(session, actor=staff, blog=post.blog)
    permissions.require_post_editable(staff, post)
    if post.status in ("deleted", posts.PURGED):
        raise Conflict(f"a {post.status} post cannot be restored")
    revision = session.get(Revision, revision_id) if 0 < revision_id < MAX_ROW_ID else None
    if revision is None or revision.post_id != post.id:
        raise NotFound(f"no revision {revision_id} of post {post.id}")
    try:
        data = PostUpdate.model_validate(content_at(session, post=post, revision=revision))
    except ValidationError as exc:
        # Written under older limits, or its history is incomplete: refuse, change nothing.
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise Conflict(
            f"revision {revision.id} cannot be restored: {where} {problem['msg']}"
        ) from None
    return posts.update_post(
        session,
        actor=staff,
        post=post,
        data=data,
        action="restored",
        reason=f"restored revision {revision.id}",
    )


def _field_changes(revision: Revision) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for field, value in revision.changes.items():
        if field == NOTE:
            continue
        if revision.action == CREATED:
            if value in (None, "", [], False):
                continue  # a first revision shows what the post started with, not defaults
            old, new = None, value
        elif isinstance(value, list) and len(value) == 2:
            old, new = value
        else:
            continue
        changes.append(FieldChange(field=field, old=old, new=new, words=_words(field, old, new)))
    return changes


def _words(field: str, old: Any, new: Any) -> list[Segment] | None:
    if field not in TEXT_FIELDS:
        return None
    if not isinstance(old, str | None) or not isinstance(new, str | None):
        return None
    return word_diff(old or "", new or "")


def _opcodes(a: Sequence[str], b: Sequence[str]) -> Sequence[tuple[str, int, int, int, int]]:
    # With difflib's "autojunk", frequent tokens (spaces, "the") in long texts do not start
    # a match but still extend one: the diff reads the same and a long body costs
    # milliseconds, not seconds.
    return SequenceMatcher(None, a, b).get_opcodes()


def _segments(pieces: list[tuple[bool, str, str]]) -> list[Segment]:
    segments: list[Segment] = []
    removed: list[str] = []
    added: list[str] = []

    runs: tuple[tuple[Op, list[str]], ...] = (("delete", removed), ("insert", added))

    def flush() -> None:
        for op, parts in runs:
            text = "".join(parts)
            if text:
                segments.append((op, text))
            parts.clear()

    for index, (same, before, after) in enumerate(pieces):
        # A lone space between two changes reads better inside them: "quick brown" →
        # "slow red" rather than "quick" → "slow", " ", "brown" → "red".
        between = (
            (removed or added)
            and before.isspace()
            and index + 1 < len(pieces)
            and not pieces[index + 1][0]
        )
        if same and not between:
            flush()
            if segments and segments[-1][0] == "equal":
                segments[-1] = ("equal", segments[-1][1] + before)
            elif before:
                segments.append(("equal", before))
        else:
            removed.append(before)
            added.append(after)
    flush()
    return segments
