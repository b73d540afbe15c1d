"""A blog's language: a BCP 47 tag ("ar", "de-AT", "pt-BR"), checked and written the one
way, with the direction its script runs in.

The reader pages speak it (web/i18n.py); here are only the rules the API, the desk and the
CLI share, so a tag is accepted or refused the same way everywhere.
"""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError

from liveticker.exceptions import ValidationFailed

MAX_TAG_LENGTH = 35  # RFC 5646's longest tag a registry will hand out


@cache
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def normalize(tag: str, *, field: str = "language") -> str:
    """The tag in its canonical case ("pt-BR", "zh-Hant"), or ValidationFailed naming
    `field` when no CLDR locale answers to it."""
    raw = tag.strip() if isinstance(tag, str) else ""
    if not raw or len(raw) > MAX_TAG_LENGTH or not raw.replace("-", "").isalnum():
        raise ValidationFailed(
            f"{field} must be a language tag such as en, de-AT or ar", field=field
        )
    locale = _locale(raw)
    if locale is None:
        raise ValidationFailed(f"{field} {raw!r} is not a language we know", field=field)
    parts = [locale.language]
    if locale.script:
        parts.append(locale.script)
    if locale.territory:
        parts.append(locale.territory)
    return "-".join(parts)


def direction(tag: str) -> str:
    """ "rtl" for Arabic, Persian, Hebrew, Urdu and the like, else "ltr"."""
    locale = _locale(tag)
    return "rtl" if locale is not None and locale.text_direction == "rtl" else "ltr"


def native_name(tag: str) -> str:
    """The language's own name for itself ("Deutsch", "العربية"), for menus and links."""
    locale = _locale(tag)
    name = locale.get_display_name(locale) if locale is not None else None
    return name or tag


def N_(message: str) -> str:
    """Marks an English text for the catalogues where it is written (a code's label, a fixed
    message); the page that shows it translates it then, in its own language. The name is
    gettext's for this, which extraction (pybabel's default keywords) looks for."""
    return message
