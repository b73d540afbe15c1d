"""The reader pages in the blog's language: gettext catalogues read with Babel, CLDR dates,
and the strings the live script needs.

Templates call `_()`, `ngettext()` and `human()` as globals; what language they speak is
the one `speaking()` set for the render. A page speaks its blog's language, so a blog's live
fragments are rendered once for every reader (the fan-out encodes each event once). The
catalogues are the `.po` files under web/locale, compiled in memory on first use: there is
no build step, and a `.po` edit shows on the next start (`make messages` updates them).
"""

from __future__ import annotations

import gettext as gettext_module
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment
from markupsafe import Markup

from liveticker.domain import languages, times
from liveticker.exceptions import ValidationFailed

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"  # the msgids are English: an English page needs no catalogue


def catalogue_languages() -> list[str]:
    """The languages a catalogue ships for, the source language first."""
    found = sorted(path.name for path in LOCALE_DIR.iterdir() if (path / "LC_MESSAGES").is_dir())
    return [SOURCE_LANGUAGE, *(name for name in found if name != SOURCE_LANGUAGE)]


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def _translations(language: str) -> gettext_module.NullTranslations:
    path = catalogue_path(language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return gettext_module.NullTranslations()
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def _catalogue_for(tag: str) -> str:
    """The catalogue a tag reads: its own ("pt_BR"), its language's ("de" for "de-AT"), or
    the source language's."""
    parts = tag.split("-")
    candidates = ["_".join(parts[:2]), parts[0]] if len(parts) > 1 else [parts[0]]
    for candidate in candidates:
        if catalogue_path(candidate).exists():
            return candidate
    return SOURCE_LANGUAGE


@dataclass(frozen=True)
class Language:
    """One language as the pages speak it: the blog's tag, its direction, its strings."""

    tag: str
    direction: str
    locale: Locale
    catalogue: str  # which catalogue it reads ("de" for "de-AT")
    translations: gettext_module.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def human(self, when: datetime | str | None) -> str:
        """Date and time in UTC for readers without JavaScript, in the language's own way
        ("27 лист. 2026 р., 14:05 UTC"); the script shows the reader's local time instead."""
        if when is None:
            return ""
        moment = times.as_utc(when)
        date = format_skeleton("yMMMd", moment, tzinfo=UTC, locale=self.locale)
        clock = format_skeleton("Hm", moment, tzinfo=UTC, locale=self.locale)
        pattern = str(self.locale.datetime_formats.get("medium", "{1}, {0}"))
        return self.gettext("%(time)s UTC") % {"time": pattern.format(clock, date)}

    def plural_forms(self, singular: str, plural: str) -> dict[str, str]:
        """The message's text for each CLDR plural category of the language ("one", "few",
        "many", "other"), for a script that picks with Intl.PluralRules."""
        forms: dict[str, str] = {}
        for sample in range(200):  # every integer category shows up below 200
            forms.setdefault(
                str(self.locale.plural_form(sample)), self.ngettext(singular, plural, sample)
            )
        return forms

    @cached_property
    def script_json(self) -> Markup:
        """script_strings, made once per language (about 1.5 ms for Arabic's six forms, on
        every page otherwise), safe inside <script type="application/json">: no "<" there
        may open a tag or end the element."""
        return Markup(self.script_strings().replace("<", "\\u003c"))  # noqa: S704

    def script_strings(self) -> str:
        """The live script's strings as JSON, plurals by CLDR category ("one", "few",
        "many", "other") so the script picks with Intl.PluralRules; %(n)s is the count."""
        plurals = {key: self.plural_forms(*message) for key, message in SCRIPT_PLURALS.items()}
        strings = {key: self.gettext(message) for key, message in SCRIPT_STRINGS.items()}
        return json.dumps({"lang": self.tag, **strings, "plurals": plurals}, ensure_ascii=False)


# What liveticker.js says, looked up by key. Listed here so extraction finds them.
def _noop(message: str) -> str:
    return message


SCRIPT_STRINGS = {
    "share": _noop("Share"),
    "copyLink": _noop("Copy link"),
    "copyShort": _noop("Copy short link"),
    "copyEmbed": _noop("Copy embed code"),
    "shareVia": _noop("Share via…"),
    "copied": _noop("Copied"),
    "loading": _noop("Loading…"),
    "more": _noop("Show more posts"),
    "first": _noop("You have reached the first update."),
    "context": _noop("Readers added context to a post"),
    "keyPoints": _noop("What you need to know"),
    "ended": _noop("Coverage has ended"),
}


def plural_noop(singular: str, plural: str) -> tuple[str, str]:
    """Marks a message with a plural for extraction; a script gets it by plural_forms."""
    return singular, plural


SCRIPT_PLURALS = {
    "new": plural_noop("%(n)s new post", "%(n)s new posts"),
    "older": plural_noop("%(n)s older post loaded", "%(n)s older posts loaded"),
}


@cache
def language(tag: str) -> Language:
    """The Language of a blog's tag; an unknown tag reads English, left to right."""
    try:
        normal = languages.normalize(tag)
    except ValidationFailed:  # a row written before checks, or by hand: show the page anyway
        normal = SOURCE_LANGUAGE
    catalogue = _catalogue_for(normal)
    return Language(
        tag=normal,
        direction=languages.direction(normal),
        locale=Locale.parse(normal.replace("-", "_")),
        catalogue=catalogue,
        translations=_translations(catalogue),
    )


_speaking: ContextVar[Language | None] = ContextVar("liveticker_language", default=None)


def current() -> Language:
    spoken = _speaking.get()
    return spoken if spoken is not None else language(SOURCE_LANGUAGE)


@contextmanager
def speaking(tag: str) -> Iterator[Language]:
    """Renders inside speak `tag`'s language; the previous one comes back after."""
    token = _speaking.set(language(tag))
    try:
        yield current()
    finally:
        _speaking.reset(token)


def gettext(message: str) -> str:
    return current().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return current().ngettext(singular, plural, count)


def human(when: datetime | str | None) -> str:
    return current().human(when)


def script_strings() -> Markup:
    return current().script_json


def install(env: Environment) -> None:
    """Gives `env` the i18n extension and what every template may call: `_`, `ngettext`
    (new-style: `_("%(n)s posts", n=3)` formats and escapes), `human`, `script_strings`
    and `page_language()` for `lang` and `dir`."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(human=human, script_strings=script_strings, page_language=current)
