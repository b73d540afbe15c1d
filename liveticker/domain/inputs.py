"""What a client may send to create or change blogs and posts, with every limit in one place.

These pydantic models are the request bodies of the JSON API and the arguments of the
domain functions, so the API, the CLI and the demo validate exactly alike. Unknown fields
are rejected and types are strict: a number where text belongs is an error, not coerced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

# The bounds the command line's options need too; defined without pydantic for its start.
from liveticker.domain.constants import MAX_AUDIT_ENTRIES as MAX_AUDIT_ENTRIES
from liveticker.domain.constants import MAX_ROW_ID as MAX_ROW_ID
from liveticker.domain.languages import MAX_TAG_LENGTH, normalize
from liveticker.exceptions import ValidationFailed

# Control characters other than tab and newline have no place in editorial text and some
# (NUL) are rejected by PostgreSQL; refusing them here keeps the two databases alike.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG = re.compile(SLUG_PATTERN)
_THEME = re.compile(r"[a-z0-9-]{1,40}")
# Credentials in URLs ("https://trusted@evil") are a phishing trick; no caller needs them.
_ABSOLUTE_URL = re.compile(r"^https?://[^/\\?#@]+(?:[/?#][^\\]*)?$", re.IGNORECASE)
HANDLE_PATTERN = r"^@?[A-Za-z0-9_.]{1,50}$"

# Limits of what clients send as query parameters and command options; the limits of
# request bodies are on the models below.
MAX_REASON = 500  # characters of a deletion's or a purge's reason
MAX_PAGE = 100  # posts in one page of a listing
MAX_CHANGES = 100  # events in one polling answer
MAX_CURSOR = 64  # characters of a paging cursor
MAX_EVENT_ID = 2**53  # event ids, as JSON numbers stay exact
MAX_IMAGE_SIDE = 65_535  # pixels of an image's width or height (JPEG's largest)
MAX_SRCSET = 8  # files of one image's srcset
# How far ahead a post may be scheduled: a live blog plans hours or days ahead, and a
# year typed wrong ("2062") should be refused rather than wait for decades.
MAX_SCHEDULE_AHEAD = timedelta(days=366)


def _clean_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value.strip()


def _clean_line(value: str) -> str:
    value = _clean_text(value)
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line")
    return value


def _nonempty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _check_url(value: str) -> str:
    """Absolute http(s) URLs, or paths on this site; nothing a browser would execute."""
    value = value.strip()
    if any(ch.isspace() for ch in value) or _CONTROL.search(value):
        raise ValueError("must not contain spaces or control characters")
    # Browsers read "/\\host" like "//host": a path must not start with either.
    if value.startswith("/") and not value.startswith(("//", "/\\")) and "\\" not in value:
        return value
    if _ABSOLUTE_URL.match(value):
        return value
    raise ValueError("must be an http:// or https:// URL, or a path starting with /")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone, e.g. 2026-11-27T09:30:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last datetime in UTC
        raise ValueError("is out of range") from None


Line = Annotated[StrictStr, AfterValidator(_clean_line)]
Text = Annotated[StrictStr, AfterValidator(_clean_text)]
Url = Annotated[StrictStr, Field(max_length=2000), AfterValidator(_check_url)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def describe_problem(error: Mapping[str, Any], *, sourced: bool) -> tuple[str | None, str]:
    """One pydantic error as (field, message) in words a newsroom's operator reads.

    The API and the CLI both say it this way. With `sourced`, `loc` starts with where
    the value came from (FastAPI's body, query, path), which is not part of the field's
    name; a field may itself be called "body".
    """
    loc = [str(part) for part in error.get("loc", ())]
    if sourced and loc:
        loc = loc[1:]
    field = ".".join(loc) or None
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    given = error.get("input")
    unit = "characters" if isinstance(given, str) else "items"
    if kind == "missing":
        message = "this field is required"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "too_long":
        length = f", not {len(given)}" if isinstance(given, str | list) else ""
        message = f"at most {ctx.get('max_length')} {unit}{length}"
    elif kind == "too_short":
        message = f"at least {ctx.get('min_length')} {unit}"
    elif kind in ("string_type", "str_type"):
        message = "must be text (a JSON string)"
    elif kind in ("int_type", "int_parsing"):
        message = "must be a whole number"
    elif kind in ("bool_type", "bool_parsing"):
        message = "must be true or false"
    elif kind in ("list_type", "tuple_type"):
        message = "must be a list"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "must be a JSON object"
    elif kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
    else:
        message = str(error.get("msg", "invalid value"))
    return field, message


def describe_problems(
    errors: Sequence[Mapping[str, Any]], *, sourced: bool = False
) -> tuple[str | None, str]:
    """The first problem as "field: message", and how many more there are."""
    first = errors[0] if errors else None
    field, message = describe_problem(first, sourced=sourced) if first else (None, "invalid input")
    text = f"{field}: {message}" if field else message
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return field, text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=50_000)


class Patch(Strict):
    """A partial update: absent fields stay as they are; null clears only what may be empty."""

    required_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        for name in self.model_fields_set & self.required_fields:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the client sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def _no_comma(value: str) -> str:
    if "," in value:
        raise ValueError("must not contain a comma (commas separate the files of a srcset)")
    return value


Pixels = Annotated[StrictInt, Field(ge=1, le=MAX_IMAGE_SIDE)]


class SourceInput(Strict):
    """One file of an image's srcset: the same picture, `width` pixels wide."""

    url: Annotated[Url, AfterValidator(_no_comma)]
    width: Pixels


class ImageInput(Strict):
    """An image of a post or a blog. `width`, `height` (of `url`) and `srcset` are what
    POST /api/v1/media answers: with them, pages reserve the image's space before it loads."""

    url: Url
    alt: Annotated[Line, Field(max_length=300), AfterValidator(_nonempty)]
    caption: Annotated[Text, Field(max_length=500)] = ""
    credit: Annotated[Line, Field(max_length=200)] = ""
    width: Pixels | None = None
    height: Pixels | None = None
    srcset: Annotated[list[SourceInput], Field(max_length=MAX_SRCSET)] = []

    @model_validator(mode="after")
    def _whole_size(self) -> ImageInput:
        if (self.width is None) != (self.height is None):
            raise ValueError("width and height go together: send both or neither")
        widths = [source.width for source in self.srcset]
        if len(set(widths)) != len(widths):
            raise ValueError("the files of a srcset must differ in width")
        return self

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """What posts and blogs store: an image without a size stays as it always was."""
        data: dict[str, Any] = handler(self)
        for name in ("width", "height", "srcset"):
            if not data.get(name):
                data.pop(name, None)
        return data


class SocialInput(Strict):
    """A quoted social-media post, shown as a card; nothing is fetched from the network."""

    url: Url
    author_name: Annotated[Line, Field(max_length=100), AfterValidator(_nonempty)]
    handle: Annotated[Line, Field(max_length=51, pattern=HANDLE_PATTERN)]
    text: Annotated[Text, Field(max_length=1000), AfterValidator(_nonempty)]
    posted_at: AwareDatetime | None = None

    def normalized(self) -> dict[str, object]:
        data = self.model_dump(mode="json")
        data["handle"] = self.handle.lstrip("@")
        return data


Label = Annotated[Line, Field(max_length=40), AfterValidator(_nonempty)]
KeyPoint = Annotated[Text, Field(max_length=600), AfterValidator(_nonempty)]
MAX_TRANSLATIONS = 20  # sibling blogs in other languages one blog links


def _language(value: str) -> str:
    try:
        return normalize(value, field="language")
    except ValidationFailed as exc:
        # The error is reported under the field's name already ("language: ...").
        raise ValueError(exc.message.removeprefix("language ")) from None


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"{value[:80]!r} is not a blog's address: lowercase letters and digits, "
            "with single dashes between them"
        )
    return value


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("each blog at most once")
    return values


def _theme(value: str) -> str:
    if value and not _THEME.fullmatch(value):
        raise ValueError(
            "must be a theme's name (lowercase letters, digits and dashes), or empty for the "
            "site's default look"
        )
    return value


# A BCP 47 tag, written the one way (languages.normalize): "pt-br" is stored as "pt-BR".
Language = Annotated[StrictStr, Field(max_length=MAX_TAG_LENGTH), AfterValidator(_language)]
# Sibling blogs by slug. A slug may name a blog that does not exist yet or is a draft, so
# two desks can link each other in either order; pages link only the public ones.
Translations = Annotated[
    list[Annotated[StrictStr, Field(max_length=80), AfterValidator(_slug)]],
    Field(max_length=MAX_TRANSLATIONS),
    AfterValidator(_distinct),
]
# The name of a look among the site's themes; "" is the default look.
Theme = Annotated[StrictStr, Field(max_length=40), AfterValidator(_theme)]


class BlogCreate(Strict):
    slug: Annotated[StrictStr, Field(min_length=1, max_length=80, pattern=SLUG_PATTERN)]
    title: Annotated[Line, Field(max_length=200), AfterValidator(_nonempty)]
    standfirst: Annotated[Text, Field(max_length=600)] = ""
    labels: Annotated[list[Label], Field(max_length=6)] = []
    lead_image: ImageInput | None = None
    # None: the site's LIVETICKER_DEFAULT_LANGUAGE (blogs.create_blog is given it).
    language: Language | None = None
    translations: Translations = []
    theme: Theme = ""


class BlogUpdate(Patch):
    required_fields: ClassVar[frozenset[str]] = frozenset(
        {"title", "standfirst", "labels", "closing_message", "language", "translations", "theme"}
    )
    title: Annotated[Line, Field(max_length=200), AfterValidator(_nonempty)] | None = None
    standfirst: Annotated[Text, Field(max_length=600)] | None = None
    labels: Annotated[list[Label], Field(max_length=6)] | None = None
    lead_image: ImageInput | None = None
    closing_message: Annotated[Text, Field(max_length=500)] | None = None
    language: Language | None = None
    translations: Translations | None = None
    theme: Theme | None = None


class KeyPointsInput(Strict):
    items: Annotated[list[KeyPoint], Field(max_length=12)]


class CloseInput(Strict):
    message: Annotated[Text, Field(max_length=500)] | None = None


PostStatus = Literal["published", "draft"]
# A new post may also go straight to its blog's review queue; an existing draft is
# submitted with its own call (domain.review.submit_post), which checks who may.
NewPostStatus = Literal["published", "draft", "submitted"]


def _publish_at_alone(value: datetime | None, info: ValidationInfo) -> datetime | None:
    # "publish_at" schedules the post, which is a status of its own: with "status" beside
    # it the request would say two things at once.
    if value is not None and info.data.get("status") is not None:
        raise ValueError("a post with publish_at is scheduled: leave out status")
    return value


class PostCreate(Strict):
    headline: Annotated[Line, Field(max_length=200)] | None = None
    body: Annotated[Text, Field(max_length=20_000), AfterValidator(_nonempty)]
    images: Annotated[list[ImageInput], Field(max_length=10)] = []
    social: SocialInput | None = None
    pinned: StrictBool = False
    key_event: StrictBool = False
    # None: published when the author may publish, a draft otherwise.
    status: NewPostStatus | None = None
    # A future time: scheduled, and published by the server then (editors only).
    publish_at: AwareDatetime | None = None

    _check_publish_at = field_validator("publish_at")(_publish_at_alone)


class PostUpdate(Patch):
    required_fields: ClassVar[frozenset[str]] = frozenset(
        {"body", "images", "pinned", "key_event", "status"}
    )
    headline: Annotated[Line, Field(max_length=200)] | None = None
    body: Annotated[Text, Field(max_length=20_000), AfterValidator(_nonempty)] | None = None
    images: Annotated[list[ImageInput], Field(max_length=10)] | None = None
    social: SocialInput | None = None
    pinned: StrictBool | None = None
    key_event: StrictBool | None = None
    status: PostStatus | None = None
    # A future time (re)schedules the post; null cancels a schedule (back to a draft).
    publish_at: AwareDatetime | None = None
    # The post's `updated_at` when the editor started: an edit saved over a newer one
    # (someone else's) is refused with 409 instead of silently overwriting it.
    based_on: AwareDatetime | None = None

    _check_publish_at = field_validator("publish_at")(_publish_at_alone)


class DeleteInput(Strict):
    reason: Annotated[Text, Field(max_length=MAX_REASON)] = ""


class ReturnInput(Strict):
    """An editor sends a submitted post back to its author: the comment says what to change."""

    comment: Annotated[Text, Field(max_length=2000), AfterValidator(_nonempty)]


class PurgeInput(Strict):
    """A legal takedown: the reason is the one thing that remains, so it is required."""

    reason: Annotated[Line, Field(max_length=MAX_REASON), AfterValidator(_nonempty)]


class MemberInput(Strict):
    username: Annotated[Line, Field(max_length=40), AfterValidator(_nonempty)]


class LoginInput(Strict):
    username: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=1000)]
    label: Annotated[Line, Field(max_length=80)] = ""


# -- community notes ---------------------------------------------------------------------

MAX_NOTE_TEXT = 280  # characters, as on X
MAX_NOTE_SOURCES = 5
# X's note form: what the writer says about the post, and why (its TSV reason columns).
MISLEADING = "MISINFORMED_OR_POTENTIALLY_MISLEADING"
NOT_MISLEADING = "NOT_MISLEADING"
MISLEADING_REASONS = (
    "misleadingFactualError",
    "misleadingManipulatedMedia",
    "misleadingOutdatedInformation",
    "misleadingMissingImportantContext",
    "misleadingUnverifiedClaimAsFact",
    "misleadingSatire",
    "misleadingOther",
)
NOT_MISLEADING_REASONS = (
    "notMisleadingFactuallyCorrect",
    "notMisleadingOutdatedButNotWhenWritten",
    "notMisleadingClearlySatire",
    "notMisleadingPersonalOpinion",
    "notMisleadingOther",
)
HELPFULNESS_LEVELS = ("HELPFUL", "SOMEWHAT_HELPFUL", "NOT_HELPFUL")


def _absolute_url(value: str) -> str:
    value = _check_url(value)
    if value.startswith("/"):
        raise ValueError("must be a full address, starting with https:// or http://")
    return value


class ReaderSignUp(Strict):
    """A reader's account: an alias (never shown next to a note) and a password."""

    alias: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    password: Annotated[StrictStr, Field(min_length=1, max_length=1000)]


class NoteCreate(Strict):
    classification: Literal["MISINFORMED_OR_POTENTIALLY_MISLEADING", "NOT_MISLEADING"]
    reasons: Annotated[list[StrictStr], Field(min_length=1, max_length=7)]
    text: Annotated[Text, Field(max_length=MAX_NOTE_TEXT), AfterValidator(_nonempty)]
    sources: Annotated[
        list[Annotated[Url, AfterValidator(_absolute_url)]], Field(max_length=MAX_NOTE_SOURCES)
    ] = []

    @model_validator(mode="after")
    def _form_rules(self) -> NoteCreate:
        allowed = (
            MISLEADING_REASONS if self.classification == MISLEADING else NOT_MISLEADING_REASONS
        )
        wrong = [reason for reason in self.reasons if reason not in allowed]
        if wrong:
            raise ValueError(
                f"reasons for {self.classification} are {', '.join(allowed)}; not {wrong[0]!r}"
            )
        if len(set(self.reasons)) != len(self.reasons):
            raise ValueError("each reason at most once")
        if self.classification == MISLEADING and not self.sources:
            raise ValueError("a note that calls a post misleading needs at least one source link")
        return self


class RatingInput(Strict):
    helpfulness: Literal["HELPFUL", "SOMEWHAT_HELPFUL", "NOT_HELPFUL"]
    tags: Annotated[list[StrictStr], Field(max_length=22)] = []

    @model_validator(mode="after")
    def _tags_fit(self) -> RatingInput:
        from liveticker.scoring.data import HELPFUL_TAGS, NOT_HELPFUL_TAGS

        allowed: tuple[str, ...] = ()
        if self.helpfulness != "NOT_HELPFUL":
            allowed += HELPFUL_TAGS
        if self.helpfulness != "HELPFUL":
            allowed += NOT_HELPFUL_TAGS
        wrong = [tag for tag in self.tags if tag not in allowed]
        if wrong:
            raise ValueError(f"tag {wrong[0]!r} does not go with a {self.helpfulness} rating")
        if len(set(self.tags)) != len(self.tags):
            raise ValueError("each tag at most once")
        return self


class NoteRemoval(Strict):
    """An admin's legal removal of a note: the reason is what stays, so it is required."""

    reason: Annotated[Line, Field(max_length=MAX_REASON), AfterValidator(_nonempty)]
