"""Markdown for posts and key points: sanitized HTML for the page, plain text for metadata.

The source may come from anonymous readers (community notes), so it is treated as hostile:
raw HTML is never passed through, and the HTML is cleaned again against a small allow-list.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

# Control characters other than tab and newline, C1 controls included, and lone surrogates,
# which nh3 (Rust) cannot even receive.
_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
# Tags and comments typed as text; in plain text they would be live markup wherever a
# consumer forgets to escape (JSON-LD inside <script> is the classic case).
_TAG_LIKE = re.compile(r"<(?:!--|[/!?]?[^\W\d_])[^<>]*>")
_TAG_START = re.compile(r"<(?=[/!?]|[^\W\d_])")


def _image_as_alt_text(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """Pictures come through their own field with required alt text; here only the alt stays."""
    alt = renderer.renderInlineAsText(tokens[idx].children or [], options, env)
    return nh3.escape(alt)


# `breaks`: journalists write in a plain textarea and expect Enter to start a new line.
_md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
# Headings would break the page's heading order, and <hr> is not in the allow-list:
# without their rules the same source reads as ordinary text.
_md.disable(["heading", "lheading", "hr", "html_block", "html_inline"])
_md.add_render_rule("image", _image_as_alt_text)

_cleaner = nh3.Cleaner(
    tags={"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre"},
    clean_content_tags={"script", "style"},
    attributes={"a": {"href", "title"}, "ol": {"start"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
)


def _clean_source(source: str) -> str:
    return _UNSAFE_CHARS.sub("", source.replace("\r\n", "\n").replace("\r", "\n"))


def render_markdown(source: str) -> str:
    """Sanitized HTML for a post body or a key point."""
    return _cleaner.clean(_md.render(_clean_source(source)))


def _inline_text(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(_inline_text(token.children or []))
    return "".join(parts)


# The longest plain-text excerpt any page needs (the meta description); posts store
# theirs at write time, since parsing Markdown costs up to a second for a hostile
# 20,000-character body and a page view must never pay that.
SUMMARY_LIMIT = 300


def plain_text(source: str, *, limit: int | None = None) -> str:
    """The words of the Markdown on one line, for meta descriptions, Open Graph and JSON-LD.

    Over `limit` characters the text is cut at a word boundary and ends in "…", which
    counts towards the limit.
    """
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    blocks: list[str] = []
    for token in _md.parse(_clean_source(source)):
        if token.type == "inline":
            blocks.append(_inline_text(token.children or []))
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content)
    text = _TAG_LIKE.sub(" ", " ".join(blocks))
    text = _TAG_START.sub("< ", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return text if limit is None else shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    """Plain text cut to `limit` characters at a word boundary, ending in "…".

    Shortening an excerpt made with a larger limit gives what shortening the whole text
    would: the characters up to the smaller limit are the same.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():
        # A single word longer than the limit is cut mid-word rather than dropped.
        cut = cut.rpartition(" ")[0] or cut
    return cut.rstrip(" ,;:") + "…"


_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""  # punctuation that ends a sentence, not the address
_note_cleaner = nh3.Cleaner(
    tags={"p", "br", "a"},
    attributes={"a": {"href"}},
    url_schemes={"http", "https"},
    link_rel="nofollow ugc noopener noreferrer",  # readers' links earn nothing from us
)


def render_plain(source: str) -> str:
    """Sanitized HTML for a reader's plain text (a community note): every character as
    typed, line breaks kept, web addresses turned into links, nothing else."""
    text = _clean_source(source)
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0)
        while url and url[-1] in _TRAILING:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break  # a balanced parenthesis is part of the address (Wikipedia's)
            url = url[:-1]
        parts.append(html.escape(text[last : match.start()]))
        href = html.escape(url)
        parts.append(f'<a href="{href}">{href}</a>')
        last = match.start() + len(url)
    parts.append(html.escape(text[last:]))
    marked = "".join(parts).replace("\n", "<br>\n")
    return _note_cleaner.clean(f"<p>{marked}</p>")
