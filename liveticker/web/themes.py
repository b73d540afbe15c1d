"""A newsroom's own look without forking the templates: site name, logo, colours, fonts,
header and footer links and an extra stylesheet, per theme, from LIVETICKER_THEMES_FILE.

Every value is checked at start against a safe shape (colours, font names, same-site or
https URLs), so nothing in the file can inject CSS or markup, and each scheme's text must
reach WCAG AA contrast. A theme's colours and fonts are served as CSS custom properties at
/themes/<name>.<digest>.css (cached for a year: the digest changes with the content), after
liveticker.css; a look identical to liveticker.css's own :root needs no request at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from liveticker.exceptions import Misconfigured, NotFound
from liveticker.web.services import services_of

router = APIRouter(include_in_schema=False)

SETTING = "LIVETICKER_THEMES_FILE"
CSS_CACHE = "public, max-age=31536000, immutable"
STALE_CSS_CACHE = "public, max-age=300"  # an old page's link after the file changed

# The JSON names of the colours and the custom properties of liveticker.css they set.
COLOURS = {
    "accent": "--accent",
    "on-accent": "--on-accent",
    "link": "--link",
    "background": "--bg",
    "text": "--fg",
    "muted": "--muted",
    "line": "--line",
    "soft": "--soft",
    "masthead": "--masthead",
    "on-masthead": "--on-masthead",
}
FONTS = {"font_stack": "--font", "heading_font_stack": "--heading-font"}
# (text, on): pairs read as text, each at least AA_CONTRAST in both schemes.
TEXT_PAIRS = [
    ("text", "background"),
    ("muted", "background"),
    ("link", "background"),
    ("accent", "background"),
    ("text", "soft"),
    ("muted", "soft"),
    ("accent", "soft"),  # the time of a key event
    ("link", "soft"),
    ("on-accent", "accent"),
    ("on-masthead", "masthead"),
]
AA_CONTRAST = 4.5
THEME_KEYS = {
    "extends",
    "site_name",
    "logo",
    "colors",
    *FONTS,
    "header_links",
    "footer_links",
    "extra_stylesheet",
}
MAX_LINKS = 8

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
HEX = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
FUNCTION = re.compile(r"(rgba?|hsla?)\(([0-9.%deg,/ ]{1,60})\)")
FONT_NAME = (
    r"""(?:[A-Za-z][A-Za-z0-9-]*(?: [A-Za-z0-9-]+)*|"[A-Za-z0-9 -]{1,40}"|'[A-Za-z0-9 -]{1,40}')"""
)
FONT_STACK = re.compile(rf"{FONT_NAME}(?: ?, ?{FONT_NAME}){{0,11}}")
# A path on this site (never "//host", which is another host) or an https URL, of the
# characters a URL needs and none that could end an attribute or a CSS string.
SITE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9._~!$&*+,;=:@%/?#-]{0,300}")
HTTPS_URL = re.compile(
    r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&*+,;=:@%/?#-]*)?"
)
HTTP_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&*+,;=:@%/?#-]*)?"
)


@dataclass(frozen=True)
class Link:
    label: str  # the newsroom's own words, shown as they are (escaped)
    url: str


@dataclass(frozen=True)
class Theme:
    name: str
    site_name: str = ""  # "": the site's (LIVETICKER_SITE_NAME)
    logo: str = ""  # shown in place of the name, with the name as its alt text
    light: Mapping[str, str] = field(default_factory=dict)
    dark: Mapping[str, str] = field(default_factory=dict)
    font_stack: str = ""
    heading_font_stack: str = ""
    header_links: tuple[Link, ...] = ()
    footer_links: tuple[Link, ...] = ()
    extra_stylesheet: str = ""  # a path on this site (CSP: style-src 'self')
    css: str = ""  # what differs from liveticker.css; "" needs no request
    digest: str = ""

    @property
    def stylesheet(self) -> str:
        """The URL of the theme's CSS, or "" when liveticker.css is all it needs."""
        return f"/themes/{self.name}.{self.digest}.css" if self.css else ""


DEFAULT = Theme(
    name="default",
    # The values of liveticker.css's :root (a test keeps them equal).
    light={
        "accent": "#b3001b",
        "on-accent": "#ffffff",
        "link": "#0b57d0",
        "background": "#ffffff",
        "text": "#1a1a1a",
        "muted": "#595959",
        "line": "#d9d9d9",
        "soft": "#f3f4f6",
        "masthead": "#ffffff",
        "on-masthead": "#1a1a1a",
    },
    dark={
        "accent": "#ff6b7d",
        "on-accent": "#121212",
        "link": "#8ab4f8",
        "background": "#121212",
        "text": "#ececec",
        "muted": "#a6a6a6",
        "line": "#3a3a3a",
        "soft": "#1f1f1f",
        "masthead": "#1c1c1c",
        "on-masthead": "#ececec",
    },
    font_stack='system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif',
    heading_font_stack='system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif',
)
# A broadcaster's live desk: a dark masthead with the name in white, a strong red, serif
# headlines over a sans-serif text.
NIGHT_DESK = replace(
    DEFAULT,
    name="night-desk",
    light={
        "accent": "#c8102e",
        "on-accent": "#ffffff",
        "link": "#0a4ea3",
        "background": "#ffffff",
        "text": "#14171c",
        "muted": "#545b66",
        "line": "#d5d8dd",
        "soft": "#f0f2f5",
        "masthead": "#0f1b2d",
        "on-masthead": "#ffffff",
    },
    dark={
        "accent": "#ff5c70",
        "on-accent": "#0b0f14",
        "link": "#86b7ff",
        "background": "#0b0f14",
        "text": "#e8eaed",
        "muted": "#a3acb9",
        "line": "#2c333d",
        "soft": "#151b23",
        "masthead": "#050a12",
        "on-masthead": "#ffffff",
    },
    heading_font_stack='Georgia,"Noto Serif","DejaVu Serif","Times New Roman",serif',
)
BUILT_IN = {theme.name: theme for theme in (DEFAULT, NIGHT_DESK)}


class Themes:
    """The site's looks by name; `default` is that of blogs without one, the index and the
    error pages. An unknown name (a theme since taken out of the file) is the default."""

    def __init__(self, themes: Mapping[str, Theme], *, default: str = "default") -> None:
        self._themes = {name: _finished(theme) for name, theme in themes.items()}
        self.default = self._themes[default]
        self.digest = hashlib.sha256(
            "".join(theme.digest for theme in self._themes.values()).encode()
        ).hexdigest()[:12]

    def get(self, name: str) -> Theme:
        return self._themes.get(name) or self.default

    def find(self, name: str) -> Theme | None:
        return self._themes.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._themes)


def load(path: str) -> Themes:
    """The built-in looks and those of the file at `path` ("": none); Misconfigured with
    one line saying what to fix when the file cannot be used."""
    if not path:
        return Themes(BUILT_IN)
    where = f"{SETTING}: {path}"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise Misconfigured(f"{where}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise Misconfigured(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise Misconfigured(
            f"{where}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    try:
        return parse(data)
    except ValueError as exc:
        raise Misconfigured(f"{where}: {exc}") from None


def parse(data: Any) -> Themes:
    """Themes from the file's JSON; ValueError naming the first problem."""
    if not isinstance(data, dict):
        raise ValueError('must hold a JSON object: {"default": ..., "themes": {...}}')
    _no_unknown(data, {"default", "themes"}, "the file")
    given = data.get("themes", {})
    if not isinstance(given, dict):
        raise ValueError('"themes" must be an object of themes by name')
    themes = dict(BUILT_IN)
    for name, spec in given.items():
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"theme name {name!r}: lower-case letters, digits and '-', at most 40")
        if name in BUILT_IN:
            raise ValueError(f"theme {name!r} is built in: give yours another name")
        try:
            themes[name] = _theme(name, spec, themes)
        except ValueError as exc:
            raise ValueError(f"theme {name!r}: {exc}") from None
    default = data.get("default", "default")
    if not isinstance(default, str) or default not in themes:
        raise ValueError(f'"default": no theme named {default!r}')
    return Themes(themes, default=default)


def _theme(name: str, spec: Any, known: Mapping[str, Theme]) -> Theme:
    if not isinstance(spec, dict):
        raise ValueError("must be an object")
    _no_unknown(spec, THEME_KEYS, "a theme")
    base_name = spec.get("extends", "default")
    base = known.get(base_name) if isinstance(base_name, str) else None
    if base is None:
        raise ValueError(f'"extends": no theme named {base_name!r} above it')
    changes: dict[str, Any] = {"name": name}
    for key in ("site_name", "logo", *FONTS, "extra_stylesheet"):
        if key in spec:
            changes[key] = _checked(key, spec[key])
    colours = spec.get("colors", {})
    if not isinstance(colours, dict):
        raise ValueError('"colors" must be an object: {"light": {...}, "dark": {...}}')
    _no_unknown(colours, {"light", "dark"}, '"colors"')
    for scheme in ("light", "dark"):
        given = colours.get(scheme, {})
        if not isinstance(given, dict):
            raise ValueError(f"colors.{scheme} must be an object of colours by name")
        _no_unknown(given, set(COLOURS), f"colors.{scheme}")
        changes[scheme] = {
            **getattr(base, scheme),
            **{key: _colour(f"colors.{scheme}.{key}", value) for key, value in given.items()},
        }
    for key in ("header_links", "footer_links"):
        if key in spec:
            changes[key] = _links(key, spec[key])
    theme = replace(base, **changes)
    check_contrast(theme)
    return theme


def _no_unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(
            f"unknown key {unknown[0]!r} in {where} (known: {', '.join(sorted(allowed))})"
        )


def _checked(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be text')
    if key == "site_name":
        if not value.strip() or len(value) > 80:
            raise ValueError('"site_name" must be 1 to 80 characters')
        return value.strip()
    if key in FONTS:
        if len(value) > 300 or not FONT_STACK.fullmatch(value):
            raise ValueError(
                f'"{key}": {value!r} is not a list of font names (Georgia, "Noto Serif", serif)'
            )
        return value
    if key == "logo":
        if not (SITE_PATH.fullmatch(value) or HTTPS_URL.fullmatch(value)):
            raise ValueError(f'"logo": {value!r} is neither a path on this site nor an https URL')
        return value
    if not SITE_PATH.fullmatch(value):  # extra_stylesheet: CSP allows styles of this site only
        raise ValueError(
            f'"extra_stylesheet": {value!r} is not a path on this site (/media/look.css); '
            "the pages' Content-Security-Policy allows no stylesheet from another host"
        )
    return value


def _colour(where: str, value: Any) -> str:
    if isinstance(value, str) and (HEX.fullmatch(value) or FUNCTION.fullmatch(value)):
        return value
    raise ValueError(
        f"{where}: {value!r} is not a colour of the form #rgb, #rrggbb, rgb() or hsl()"
    )


def _links(key: str, value: Any) -> tuple[Link, ...]:
    if not isinstance(value, list) or len(value) > MAX_LINKS:
        raise ValueError(f'"{key}" must be a list of at most {MAX_LINKS} links')
    links = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"label", "url"}:
            raise ValueError(f'{key}[{n}] must be {{"label": ..., "url": ...}}')
        label, url = item["label"], item["url"]
        if not isinstance(label, str) or not 0 < len(label.strip()) <= 60:
            raise ValueError(f"{key}[{n}].label must be 1 to 60 characters")
        if not isinstance(url, str) or not (SITE_PATH.fullmatch(url) or HTTP_URL.fullmatch(url)):
            raise ValueError(
                f"{key}[{n}].url: {url!r} is neither a path on this site nor an http(s) URL"
            )
        links.append(Link(label=label.strip(), url=url))
    return tuple(links)


def check_contrast(theme: Theme) -> None:
    """ValueError when a pair of TEXT_PAIRS falls below WCAG AA in either scheme."""
    for scheme in ("light", "dark"):
        colours = getattr(theme, scheme)
        for text, on in TEXT_PAIRS:
            ratio = contrast(colours[text], colours[on])
            if ratio is not None and ratio < AA_CONTRAST:
                raise ValueError(
                    f"{scheme}: {text} {colours[text]} on {on} {colours[on]} has a contrast of "
                    f"{ratio:.2f}:1, below WCAG AA ({AA_CONTRAST}:1)"
                )


def contrast(first: str, second: str) -> float | None:
    """WCAG contrast ratio of two opaque colours; None when one is (partly) transparent."""
    a, b = _rgb(first), _rgb(second)
    if a is None or b is None:
        return None
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rgb(colour: str) -> tuple[float, float, float] | None:
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 8 and digits[6:].lower() != "ff":
            return None
        return (int(digits[0:2], 16) / 255, int(digits[2:4], 16) / 255, int(digits[4:6], 16) / 255)
    match = FUNCTION.fullmatch(colour)
    if match is None:
        return None
    parts = [p for p in re.split(r"[ ,/]+", match.group(2).strip()) if p]
    if len(parts) == 4 and _number(parts[3], 1) < 1:
        return None
    if len(parts) < 3:
        raise ValueError(f"{colour!r} needs three components")
    if match.group(1).startswith("rgb"):
        r, g, b = (_number(p, 255) for p in parts[:3])
        return (r, g, b)
    hue = float(parts[0].removesuffix("deg")) % 360
    sat, lig = _number(parts[1], 100), _number(parts[2], 100)
    k = [(n + hue / 30) % 12 for n in (0, 8, 4)]
    a = sat * min(lig, 1 - lig)
    r, g, b = (lig - a * max(-1, min(x - 3, 9 - x, 1)) for x in k)
    return (r, g, b)


def _number(text: str, scale: float) -> float:
    """A component as 0..1: "50%" is 0.5, "128" of 255 is 0.5."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text) / scale
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    return max(0.0, min(1.0, value))


def _luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _finished(theme: Theme) -> Theme:
    """The theme with its CSS (what differs from liveticker.css) and its digest."""
    light = _declarations(theme.light, DEFAULT.light)
    for key, prop in FONTS.items():
        if getattr(theme, key) != getattr(DEFAULT, key):
            light.append(f"{prop}:{getattr(theme, key)}")
    dark = _declarations(theme.dark, DEFAULT.dark)
    css = f":root{{{';'.join(light)}}}\n" if light else ""
    if dark:
        css += f"@media (prefers-color-scheme:dark){{:root{{{';'.join(dark)}}}}}\n"
    content = json.dumps(
        [theme.name, theme.site_name, theme.logo, theme.extra_stylesheet, css]
        + [[link.label, link.url] for link in theme.header_links + theme.footer_links],
        ensure_ascii=False,
    )
    return replace(theme, css=css, digest=hashlib.sha256(content.encode()).hexdigest()[:12])


def _declarations(colours: Mapping[str, str], defaults: Mapping[str, str]) -> list[str]:
    return [f"{COLOURS[key]}:{value}" for key, value in colours.items() if value != defaults[key]]


@router.api_route("/themes/{name}.{digest}.css", methods=["GET", "HEAD"])
def theme_css(request: Request, name: str, digest: str) -> Response:
    """A theme's custom properties; a page from before the file changed gets today's,
    briefly cached, rather than an unstyled page."""
    theme = services_of(request).themes.find(name)
    if theme is None or not theme.css:
        raise NotFound("there is no such theme")
    cache = CSS_CACHE if digest == theme.digest else STALE_CSS_CACHE
    return Response(theme.css, media_type="text/css", headers={"Cache-Control": cache})
