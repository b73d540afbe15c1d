"""Markdown rendering: the constructs journalists use, and the XSS vectors readers might try.

XSS checks parse the output and assert on its structure, so they hold whatever harmless
form the sanitizer chooses (escaped text, dropped tag, link without href).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from liveticker.domain.markdown import plain_text, render_markdown, render_plain

ALLOWED_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "rel"}, "ol": {"start"}}
SAFE_SCHEMES = {"http", "https", "mailto"}
# Browsers ignore these anywhere in a URL, so `java\tscript:` is still javascript:.
URL_NOISE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
DANGEROUS_TAG = re.compile(
    r"<\s*/?\s*(script|iframe|svg|math|img|object|embed|style|meta|base|form|link|"
    r"body|details|video|audio|marquee|input|template|noscript|xmp|textarea)\b",
    re.IGNORECASE,
)


class ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    collector = ElementCollector()
    collector.feed(html)
    collector.close()
    return collector.elements


def assert_safe_html(html: str) -> None:
    assert not DANGEROUS_TAG.search(html), html
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, html
        for name, value in attrs.items():
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), html
            assert not name.startswith("on"), html
            assert name != "style", html
            if name == "href":
                scheme = SCHEME.match(URL_NOISE.sub("", value).lower())
                assert scheme is None or scheme.group(1) in SAFE_SCHEMES, html
        if tag == "a":
            assert {"noopener", "noreferrer"} <= set((attrs.get("rel") or "").split()), html


# --- constructs journalists use ------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("Hello", "<p>Hello</p>\n", id="paragraph"),
        pytest.param("One\n\nTwo", "<p>One</p>\n<p>Two</p>\n", id="two-paragraphs"),
        pytest.param("one\ntwo", "<p>one<br>\ntwo</p>\n", id="newline-is-line-break"),
        pytest.param("one  \ntwo", "<p>one<br>\ntwo</p>\n", id="hard-break"),
        pytest.param("*a* _b_", "<p><em>a</em> <em>b</em></p>\n", id="emphasis"),
        pytest.param("**a** __b__", "<p><strong>a</strong> <strong>b</strong></p>\n", id="strong"),
        pytest.param(
            "[Quelle](https://example.org/a)",
            '<p><a href="https://example.org/a" rel="noopener noreferrer">Quelle</a></p>\n',
            id="link",
        ),
        pytest.param(
            '[Quelle](https://example.org "Titel")',
            '<p><a href="https://example.org" title="Titel" rel="noopener noreferrer">'
            "Quelle</a></p>\n",
            id="link-title",
        ),
        pytest.param(
            "[Archiv](/p/abc2345)",
            '<p><a href="/p/abc2345" rel="noopener noreferrer">Archiv</a></p>\n',
            id="relative-link",
        ),
        pytest.param(
            "<https://example.org>",
            '<p><a href="https://example.org" rel="noopener noreferrer">https://example.org</a>'
            "</p>\n",
            id="autolink",
        ),
        pytest.param(
            "<desk@example.org>",
            '<p><a href="mailto:desk@example.org" rel="noopener noreferrer">desk@example.org</a>'
            "</p>\n",
            id="email-autolink",
        ),
        pytest.param("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n", id="bullet-list"),
        pytest.param("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n", id="ordered-list"),
        pytest.param("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>\n', id="start"),
        pytest.param("> Zitat", "<blockquote>\n<p>Zitat</p>\n</blockquote>\n", id="blockquote"),
        pytest.param("`a < b`", "<p><code>a &lt; b</code></p>\n", id="inline-code"),
        pytest.param("    x = 1", "<pre><code>x = 1\n</code></pre>\n", id="indented-code"),
        pytest.param("```python\nx = 1\n```", "<pre><code>x = 1\n</code></pre>\n", id="fence"),
    ],
)
def test_allowed_constructs(source: str, expected: str) -> None:
    assert render_markdown(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("# Eilmeldung", id="atx-h1"),
        pytest.param("### Eilmeldung", id="atx-h3"),
        pytest.param("Eilmeldung\n==========", id="setext-h1"),
        pytest.param("Eilmeldung\n----------", id="setext-h2"),
    ],
)
def test_headings_render_as_paragraphs(source: str) -> None:
    html = render_markdown(source)
    assert {tag for tag, _ in elements(html)} <= {"p", "br"}
    assert not re.search(r"<h\d", html)
    assert "Eilmeldung" in html


def test_thematic_break_stays_text() -> None:
    assert render_markdown("---") == "<p>---</p>\n"


def test_image_renders_as_its_alt_text() -> None:
    html = render_markdown("![Feuerwehr am Hafen](https://example.org/foto.jpg)")
    assert html == "<p>Feuerwehr am Hafen</p>\n"


def test_image_alt_text_is_escaped() -> None:
    html = render_markdown('![<b onclick="x">alt</b>](https://example.org/a.png)')
    assert "<img" not in html
    assert "<b" not in html
    assert_safe_html(html)


def test_raw_html_is_escaped() -> None:
    assert render_markdown("<b>fett</b>") == "<p>&lt;b&gt;fett&lt;/b&gt;</p>\n"
    assert render_markdown("<div>\nblock\n</div>") == (
        "<p>&lt;div&gt;<br>\nblock<br>\n&lt;/div&gt;</p>\n"
    )


def test_tables_are_not_rendered() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<table" not in html
    assert_safe_html(html)


def test_every_link_gets_rel_noopener() -> None:
    html = render_markdown("[a](https://a.example) and <https://b.example> and [c](/x)")
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert len(links) == 3
    assert all(attrs["rel"] == "noopener noreferrer" for attrs in links)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("a\x00b", id="nul"),
        pytest.param("a\ud800b", id="lone-surrogate"),
        pytest.param("a\x01\x1b[31mb\x7f\x85", id="control-chars"),
        pytest.param("a\r\nb\rc", id="carriage-returns"),
        pytest.param("", id="empty"),
        pytest.param("\x00\ud800", id="only-garbage"),
    ],
)
def test_invalid_input_does_not_raise(source: str) -> None:
    html = render_markdown(source)
    text = plain_text(source)
    assert "\x00" not in html + text
    assert not re.search(r"[\ud800-\udfff\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", html + text)


def test_control_characters_are_stripped_not_replaced() -> None:
    assert render_markdown("Ham\x00burg") == "<p>Hamburg</p>\n"
    assert plain_text("Ham\x00burg\ud800") == "Hamburg"


# --- plain text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("[Quelle](https://example.org)", "Quelle", id="link"),
        pytest.param("[Quelle][1]\n\n[1]: https://example.org", "Quelle", id="reference-link"),
        pytest.param("*a* **b** `c`", "a b c", id="emphasis-and-code"),
        pytest.param("# Titel\n\nText", "# Titel Text", id="heading-stays-text"),
        pytest.param("- eins\n- zwei\n\n> drei", "eins zwei drei", id="blocks"),
        pytest.param("  viel   \n\n\n  Platz\t hier ", "viel Platz hier", id="whitespace"),
        pytest.param("![Foto vom Hafen](https://example.org/a.jpg)", "Foto vom Hafen", id="image"),
        pytest.param("Brand &amp; Rauch", "Brand & Rauch", id="entity"),
        pytest.param("<b>fett</b> und <!-- kommentar -->", "fett und", id="raw-html-dropped"),
        pytest.param("a < b and 3<4", "a < b and 3<4", id="lone-less-than"),
    ],
)
def test_plain_text(source: str, expected: str) -> None:
    assert plain_text(source) == expected


def test_plain_text_truncates_at_word_boundary() -> None:
    assert plain_text("Die Feuerwehr ist am Hafen", limit=16) == "Die Feuerwehr…"
    assert plain_text("Die Feuerwehr ist am Hafen", limit=14) == "Die Feuerwehr…"


def test_plain_text_within_limit_is_untouched() -> None:
    assert plain_text("Die Feuerwehr", limit=13) == "Die Feuerwehr"


def test_plain_text_cuts_one_long_word() -> None:
    assert plain_text("Donaudampfschifffahrt", limit=6) == "Donau…"


def test_plain_text_never_exceeds_limit() -> None:
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod"
    for limit in range(1, len(text) + 2):
        assert len(plain_text(text, limit=limit)) <= limit


def test_plain_text_rejects_nonpositive_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        plain_text("x", limit=0)


# --- hostile input ---------------------------------------------------------------------

XSS_VECTORS = [
    # script tags
    pytest.param("<script>alert(1)</script>", id="script"),
    pytest.param("<ScRiPt>alert(1)</sCrIpT>", id="script-mixed-case"),
    pytest.param("<script\n>alert(1)</script\n>", id="script-split-lines"),
    pytest.param("<scr<script>ipt>alert(1)</scr</script>ipt>", id="script-nested"),
    pytest.param("<script src=//evil.example/x.js></script>", id="script-src"),
    pytest.param("<<script>alert(1);//<</script>", id="script-double-open"),
    pytest.param("<script/xss src=//evil.example></script>", id="script-slash-attr"),
    pytest.param("\\<script>alert(1)\\</script>", id="script-escaped-brackets"),
    pytest.param("`x`<script>alert(1)</script>", id="script-after-code"),
    # event handlers
    pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
    pytest.param("<IMG SRC=x OnErRoR=alert(1)>", id="img-onerror-case"),
    pytest.param('<img src="x" onerror="&#97;lert(1)">', id="img-onerror-entity"),
    pytest.param("<svg onload=alert(1)>", id="svg-onload"),
    pytest.param("<svg/onload=alert(1)>", id="svg-slash-onload"),
    pytest.param("<body onload=alert(1)>", id="body-onload"),
    pytest.param("<iframe onload=alert(1)></iframe>", id="iframe-onload"),
    pytest.param("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    pytest.param("<video><source onerror=alert(1)></video>", id="video-source-onerror"),
    pytest.param("<audio src=x onerror=alert(1)>", id="audio-onerror"),
    pytest.param("<marquee onstart=alert(1)>x</marquee>", id="marquee-onstart"),
    pytest.param("<input autofocus onfocus=alert(1)>", id="input-autofocus"),
    pytest.param('<a href="https://ok.example" onmouseover="alert(1)">x</a>', id="a-onmouseover"),
    pytest.param("<p onclick=alert(1)>x</p>", id="allowed-tag-onclick"),
    # javascript: URLs in HTML
    pytest.param('<a href="javascript:alert(1)">x</a>', id="html-javascript"),
    pytest.param('<a href="JaVaScRiPt:alert(1)">x</a>', id="html-javascript-case"),
    pytest.param('<a href="&#106;avascript:alert(1)">x</a>', id="html-decimal-entity"),
    pytest.param('<a href="&#x6A;avascript:alert(1)">x</a>', id="html-hex-entity"),
    pytest.param('<a href="&#0000106avascript:alert(1)">x</a>', id="html-padded-entity"),
    pytest.param('<a href="java\tscript:alert(1)">x</a>', id="html-tab-in-scheme"),
    pytest.param('<a href="java&#x09;script:alert(1)">x</a>', id="html-tab-entity"),
    pytest.param('<a href=" &#14; javascript:alert(1)">x</a>', id="html-leading-junk"),
    pytest.param('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', id="html-data-uri"),
    pytest.param('<a href="vbscript:msgbox(1)">x</a>', id="html-vbscript"),
    # embedding
    pytest.param("<iframe src=javascript:alert(1)></iframe>", id="iframe-javascript"),
    pytest.param('<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">', id="iframe-srcdoc"),
    pytest.param('<object data="javascript:alert(1)"></object>', id="object"),
    pytest.param('<embed src="data:image/svg+xml;base64,PHN2Zz4=">', id="embed"),
    pytest.param("<svg><script>alert(1)</script></svg>", id="svg-script"),
    pytest.param('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', id="svg-a"),
    pytest.param(
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", id="math-mglyph"
    ),
    pytest.param('<math href="javascript:alert(1)">x</math>', id="math-href"),
    # styles
    pytest.param("<style>body{background:url(javascript:alert(1))}</style>", id="style-tag"),
    pytest.param('<p style="width:expression(alert(1))">x</p>', id="style-expression"),
    pytest.param('<a style="background:url(javascript:alert(1))">x</a>', id="style-url"),
    # document-level tags
    pytest.param('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta"),
    pytest.param('<base href="javascript:alert(1)//">', id="base-href"),
    pytest.param('<form action="javascript:alert(1)"><button>x</button></form>', id="form"),
    pytest.param('<link rel="import" href="https://evil.example/x.html">', id="link-import"),
    # mutation XSS
    pytest.param(
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">', id="noscript-mxss"
    ),
    pytest.param(
        "<template><style></template><img src=x onerror=alert(1)></style>", id="template-mxss"
    ),
    pytest.param('<xmp><p title="</xmp><img src=x onerror=alert(1)>">', id="xmp-mxss"),
    pytest.param('<textarea><p title="</textarea><img src onerror=alert(1)>">', id="textarea"),
    pytest.param("<!--<img src=--><img src=x onerror=alert(1)//>", id="comment-breakout"),
    # Markdown links
    pytest.param("[x](javascript:alert(1))", id="md-javascript"),
    pytest.param("[x](JAVASCRIPT:alert(1))", id="md-javascript-upper"),
    pytest.param("[x]( javascript:alert(1))", id="md-javascript-leading-space"),
    pytest.param("[x](&#x6A;avascript:alert(1))", id="md-hex-entity"),
    pytest.param("[x](&#106;avascript:alert(1))", id="md-decimal-entity"),
    pytest.param("[x](java%0ascript:alert(1))", id="md-percent-newline"),
    pytest.param("[x](<javascript:alert(1)>)", id="md-angle-destination"),
    pytest.param("[x](java\tscript:alert(1))", id="md-tab-in-scheme"),
    pytest.param("[x](data:text/html;base64,PHNjcmlwdD4=)", id="md-data-uri"),
    pytest.param("[x](vbscript:msgbox(1))", id="md-vbscript"),
    pytest.param("[x](file:///etc/passwd)", id="md-file"),
    pytest.param("![x](javascript:alert(1))", id="md-image-javascript"),
    pytest.param('![x" onerror="alert(1)](https://a.example/x.png)', id="md-image-alt-breakout"),
    pytest.param("![x](data:image/svg+xml;base64,PHN2Zz4=)", id="md-image-data"),
    pytest.param("<javascript:alert(1)>", id="md-autolink-javascript"),
    pytest.param("<JaVaScRiPt:alert(1)>", id="md-autolink-mixed-case"),
    pytest.param("<vbscript:msgbox(1)>", id="md-autolink-vbscript"),
    pytest.param("[x][r]\n\n[r]: javascript:alert(1)", id="md-reference-javascript"),
    pytest.param('[x][r]\n\n[r]: https://a.example "a\\" onclick=\\"x"', id="md-reference-title"),
    pytest.param('[x](http://a "onmouseover=alert(1)")', id="md-title-handler"),
    pytest.param("[x](http://a 'x\" onmouseover=\"alert(1)')", id="md-title-quote-breakout"),
    pytest.param('[x](http://a"onmouseover="alert(1))', id="md-href-breakout"),
    pytest.param("[x](http://a'onmouseover='alert(1))", id="md-href-single-quote"),
    pytest.param("[x](http://a><script>alert(1)</script>)", id="md-href-tag"),
    pytest.param("[<img src=x onerror=alert(1)>](https://a.example)", id="md-link-text-html"),
    pytest.param("[x](https://a.example)<img src=x onerror=alert(1)>", id="md-link-then-html"),
    pytest.param("```\n</code></pre><script>alert(1)</script>\n```", id="md-fence-breakout"),
    pytest.param('```"><script>alert(1)</script>\nx\n```', id="md-fence-info"),
    pytest.param("`<script>alert(1)</script>`", id="md-inline-code"),
    pytest.param("> <script>alert(1)</script>\n- <img src=x onerror=alert(1)>", id="md-nested"),
    # unicode and zero-width tricks
    pytest.param("[x](java\u200bscript:alert(1))", id="zero-width-space"),
    pytest.param("[x](\ufeffjavascript:alert(1))", id="bom-prefix"),
    pytest.param("[x](javascript\uff1aalert(1))", id="fullwidth-colon"),
    pytest.param("\uff1cscript\uff1ealert(1)\uff1c/script\uff1e", id="fullwidth-brackets"),
    pytest.param("<scr\x00ipt>alert(1)</scr\x00ipt>", id="nul-in-tag"),
    pytest.param("[x](java\x00script:alert(1))", id="nul-in-scheme"),
    pytest.param('<a href="javascript\u2028:alert(1)">x</a>', id="line-separator"),
    pytest.param("\u202e<script>alert(1)</script>", id="bidi-override"),
]


@pytest.mark.parametrize("source", XSS_VECTORS)
def test_xss_vector_renders_harmless_html(source: str) -> None:
    assert_safe_html(render_markdown(source))


@pytest.mark.parametrize("source", XSS_VECTORS)
def test_xss_vector_plain_text_has_no_tags(source: str) -> None:
    assert not re.search(r"<[^\W\d_]", plain_text(source))


@pytest.mark.parametrize("source", XSS_VECTORS)
def test_xss_vector_in_a_note_renders_harmless_html(source: str) -> None:
    assert_safe_html(render_plain(source))


def test_a_note_is_plain_text_with_its_addresses_linked() -> None:
    html = render_plain(
        "**Not bold**. See https://example.org/report?a=1&b=2.\n"
        "And https://en.wikipedia.org/wiki/Dam_(disambiguation) too"
    )
    assert html == (
        "<p>**Not bold**. See "
        '<a href="https://example.org/report?a=1&amp;b=2" rel="nofollow ugc noopener noreferrer">'
        "https://example.org/report?a=1&amp;b=2</a>.<br>\n"
        "And "
        '<a href="https://en.wikipedia.org/wiki/Dam_(disambiguation)"'
        ' rel="nofollow ugc noopener noreferrer">'
        "https://en.wikipedia.org/wiki/Dam_(disambiguation)</a> too</p>"
    )
    assert render_plain('javascript:alert(1) "<i>x</i>"') == (
        '<p>javascript:alert(1) "&lt;i&gt;x&lt;/i&gt;"</p>'
    )


@pytest.mark.parametrize(
    "source",
    [
        "word " * 200,
        "a" * 400,
        "**Bold** start, then [a link](https://example.org) and more words " * 10,
        "short",
        "x " * 149 + "yy " * 30,
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 50, 110, 280, 300])
def test_shortening_a_stored_summary_equals_cutting_the_whole_text(source: str, limit: int) -> None:
    from liveticker.domain.markdown import SUMMARY_LIMIT, shorten

    assert shorten(plain_text(source, limit=SUMMARY_LIMIT), limit) == plain_text(
        source, limit=limit
    )
