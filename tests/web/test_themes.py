"""A newsroom's looks: the themes file checked at start, the CSS route and its caching,
hostile values refused, the masthead and footer links escaped, the ETag per look."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import update

from liveticker.cli import main
from liveticker.exceptions import Misconfigured
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Blog
from liveticker.web import assets, themes
from liveticker.web.app import create_app
from tests.web.htmltree import parse

STATIC = Path(themes.__file__).parent / "static"

HARBOUR: dict[str, Any] = {
    "extends": "night-desk",
    "site_name": "Harbour <Gazette>",
    "logo": "/static/demo/harbour-morning.svg",
    "colors": {"light": {"accent": "#005f73"}, "dark": {"accent": "hsl(190, 60%, 60%)"}},
    "font_stack": '"Source Sans 3", system-ui, sans-serif',
    "header_links": [{"label": "News & <b>more</b>", "url": "https://harbour.example/news"}],
    "footer_links": [
        {"label": "Contact", "url": "/contact"},
        {"label": "<script>alert(1)</script>", "url": "https://harbour.example/c?a=1&b=2"},
    ],
    "extra_stylesheet": "/static/extra.css",
}


def write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "themes.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url,
        write_rate_per_minute=10_000,
        themes_file=write(tmp_path, {"themes": {"harbour": HARBOUR}}),
    )


def set_theme(database: Database, slug: str, theme: str) -> None:
    with database.transaction() as session:
        session.execute(update(Blog).where(Blog.slug == slug).values(theme=theme))


# ---- The file: each mistake is one line naming the setting, the file and the problem. ----

WRONG: list[tuple[Any, str]] = [
    ('{"themes": {\n  "a": }', ":2:8: not valid JSON (Expecting value)"),
    ([], "must hold a JSON object"),
    ({"themes": {}, "colours": {}}, "unknown key 'colours' in the file"),
    ({"themes": {"a": {"colour": {}}}}, "theme 'a': unknown key 'colour' in a theme"),
    ({"themes": {"Big Name": {}}}, "theme name 'Big Name'"),
    ({"themes": {"default": {}}}, "theme 'default' is built in"),
    ({"default": "nope", "themes": {}}, "\"default\": no theme named 'nope'"),
    ({"themes": {"a": {"extends": "b"}, "b": {}}}, "\"extends\": no theme named 'b' above it"),
    ({"themes": {"a": {"colors": {"light": {"acent": "#fff"}}}}}, "unknown key 'acent'"),
    ({"themes": {"a": {"colors": {"dim": {}}}}}, "unknown key 'dim' in \"colors\""),
    ({"themes": {"a": {"colors": {"light": {"accent": "teal"}}}}}, "'teal' is not a colour"),
    (
        {"themes": {"a": {"colors": {"light": {"text": "#eeeeee"}}}}},
        "light: text #eeeeee on background #ffffff has a contrast of 1.16:1, below WCAG AA",
    ),
    (
        {"themes": {"a": {"colors": {"dark": {"on-masthead": "#333"}}}}},
        "dark: on-masthead #333 on masthead #1c1c1c",
    ),
    ({"themes": {"a": {"site_name": "  "}}}, '"site_name" must be 1 to 80 characters'),
    ({"themes": {"a": {"header_links": [{"label": "x"}]}}}, 'header_links[1] must be {"label"'),
    ({"themes": {"a": {"footer_links": [{"label": "", "url": "/"}]}}}, "footer_links[1].label"),
    ({"themes": {"a": {"header_links": [{"label": "x", "url": "/"}] * 9}}}, "at most 8 links"),
]

# What an attacker (or a slip) could put in the file to reach the CSS or the markup.
HOSTILE: list[tuple[str, Any]] = [
    ("colors", {"light": {"accent": "#fff;}body{display:none"}}),
    ("colors", {"light": {"accent": "red"}}),
    ("colors", {"light": {"accent": "rgb(1,2,3);--x:url(//evil.example/x)"}}),
    ("colors", {"dark": {"link": "var(--x)"}}),
    ("colors", {"dark": {"link": "expression(alert(1))"}}),
    ("colors", {"dark": {"link": 12}}),
    ("font_stack", "Arial;}body{background:url(https://evil.example/)"),
    ("font_stack", 'Arial, "x\\"y"'),
    ("heading_font_stack", "serif</style><script>"),
    ("logo", "javascript:alert(1)"),
    ("logo", "http://insecure.example/logo.png"),
    ("logo", '/static/a.svg" onerror="alert(1)'),
    ("logo", "//evil.example/logo.png"),
    ("extra_stylesheet", "https://cdn.example/look.css"),
    ("extra_stylesheet", "//cdn.example/look.css"),
    ("extra_stylesheet", "/\\cdn.example/look.css"),
    ("header_links", [{"label": "x", "url": "javascript:alert(1)"}]),
    ("footer_links", [{"label": "x", "url": "data:text/html,<script>alert(1)</script>"}]),
    ("footer_links", [{"label": "x", "url": '/a" onclick="alert(1)'}]),
]


@pytest.mark.parametrize(("data", "expected"), WRONG)
def test_a_wrong_themes_file_is_one_clear_line(tmp_path: Path, data: Any, expected: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(Misconfigured) as caught:
        themes.load(path)
    message = caught.value.message
    assert message.startswith(f"LIVETICKER_THEMES_FILE: {path}")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(("key", "value"), HOSTILE)
def test_hostile_values_are_refused(tmp_path: Path, key: str, value: Any) -> None:
    with pytest.raises(Misconfigured, match=f"theme 'a': .*{key}"):
        themes.load(write(tmp_path, {"themes": {"a": {key: value}}}))


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(Misconfigured, match="cannot read it"):
        themes.load(str(tmp_path / "missing.json"))
    (tmp_path / "themes.json").write_bytes(b'{"themes": {"caf\xe9": {}}}')
    with pytest.raises(Misconfigured, match="not UTF-8 text"):
        themes.load(str(tmp_path / "themes.json"))


def test_serve_stops_at_a_bad_themes_file_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", f"sqlite:///{tmp_path}/lt.db")
    path = write(tmp_path, {"themes": {"a": {"colors": {"light": {"accent": "#fff;}"}}}}})
    monkeypatch.setenv("LIVETICKER_THEMES_FILE", path)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: LIVETICKER_THEMES_FILE: {path}: theme 'a': colors.light.accent: '#fff;}}' "
        "is not a colour of the form #rgb, #rrggbb, rgb() or hsl()"
    ]
    assert not (tmp_path / "lt.db").exists()  # stopped before touching the database


def test_serve_stops_at_a_bad_default_language_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", f"sqlite:///{tmp_path}/lt.db")
    monkeypatch.setenv("LIVETICKER_DEFAULT_LANGUAGE", "klingon")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: LIVETICKER_DEFAULT_LANGUAGE 'klingon' is not a language tag this site knows"
    ]
    assert not (tmp_path / "lt.db").exists()


def test_a_good_file_extends_and_names_the_site_default(tmp_path: Path) -> None:
    loaded = themes.load(write(tmp_path, {"default": "harbour", "themes": {"harbour": HARBOUR}}))
    harbour = loaded.get("harbour")
    assert loaded.default is harbour
    assert loaded.get("gone-from-the-file") is harbour  # a removed theme: the site's look
    assert loaded.names == ["default", "harbour", "night-desk"]
    # Inherited from night-desk, with the accents changed one by one.
    assert harbour.light["masthead"] == themes.NIGHT_DESK.light["masthead"]
    assert harbour.light["accent"] == "#005f73"
    assert harbour.heading_font_stack == themes.NIGHT_DESK.heading_font_stack
    assert "--accent:#005f73" in harbour.css
    assert "--accent:hsl(190, 60%, 60%)" in harbour.css.split("@media")[1]
    assert harbour.stylesheet == f"/themes/harbour.{harbour.digest}.css"


# ---- The built-in looks. ----


def test_liveticker_css_is_the_default_theme() -> None:
    """The default look needs no stylesheet of its own only while liveticker.css holds it."""
    css = (STATIC / "liveticker.css").read_text(encoding="utf-8")
    light, dark = re.findall(r":root\{([^}]*)\}", css)[:2]
    for block, colours in ((light, themes.DEFAULT.light), (dark, themes.DEFAULT.dark)):
        declared = dict(part.split(":", 1) for part in block.split(";"))
        for key, value in colours.items():
            assert _long_hex(declared[themes.COLOURS[key]]) == value, key
    assert themes.load("").default.stylesheet == ""


def _long_hex(value: str) -> str:
    return "#" + "".join(c * 2 for c in value[1:]) if len(value) == 4 else value


@pytest.mark.parametrize("theme", list(themes.BUILT_IN.values()), ids=list(themes.BUILT_IN))
def test_built_in_themes_reach_wcag_aa(theme: themes.Theme) -> None:
    themes.check_contrast(theme)
    for scheme in ("light", "dark"):
        colours = getattr(theme, scheme)
        for text, on in themes.TEXT_PAIRS:
            ratio = themes.contrast(colours[text], colours[on])
            assert ratio is not None
            assert ratio >= 4.5, (scheme, text, on, ratio)


def test_contrast_follows_wcag() -> None:
    assert themes.contrast("#000", "#fff") == pytest.approx(21)
    assert themes.contrast("#777", "#fff") == pytest.approx(4.48, abs=0.01)
    assert themes.contrast("rgb(119 119 119)", "hsl(0, 0%, 100%)") == pytest.approx(4.48, abs=0.01)
    assert themes.contrast("hsl(120deg 100% 25%)", "#fff") == pytest.approx(
        themes.contrast("#008000", "#fff"), abs=0.05
    )
    assert themes.contrast("#0008", "#fff") is None  # transparent: depends on what is below


# ---- The pages and the CSS route. ----


def test_a_blog_wears_its_theme(
    client: TestClient, database: Database, make_blog: Any, make_post: Any
) -> None:
    make_blog("port", title="Port strike")
    make_post("port", "Ferries stopped.", headline="Ferries stop")
    set_theme(database, "port", "harbour")
    page = client.get("/blogs/port")
    tree = parse(page.text)
    sheets = [link.get("href") for link in tree.find_all("link", rel="stylesheet")]
    harbour = client.app.state.services.themes.get("harbour")  # type: ignore[attr-defined]
    assert sheets[0] == f"/static/{assets.MANIFEST.path('liveticker.css')}"
    assert sheets[1:] == [harbour.stylesheet, "/static/extra.css"]
    # The site's name is the theme's, escaped: in the logo's alt text, the title, the footer.
    header = tree.find("header")
    assert header is not None
    logo = header.find("img")
    assert logo is not None
    assert logo.get("src") == "/static/demo/harbour-morning.svg"
    assert logo.get("alt") == "Harbour <Gazette>"
    assert "Harbour &lt;Gazette&gt;" in page.text
    assert "<Gazette>" not in page.text
    assert tree.find("title").text.endswith("Harbour <Gazette>")  # type: ignore[union-attr]
    # The newsroom's links, their labels shown as written and escaped.
    links = [(a.text, a.get("href")) for a in header.find_all("a")]
    assert links[1:] == [("News & <b>more</b>", "https://harbour.example/news")]
    footer = tree.find("footer", **{"class": "site-footer"})
    assert footer is not None
    assert [(a.text, a.get("href")) for a in footer.find_all("a")] == [
        ("Contact", "/contact"),
        ("<script>alert(1)</script>", "https://harbour.example/c?a=1&b=2"),
    ]
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'href="https://harbour.example/c?a=1&amp;b=2"' in page.text


def test_the_default_look_adds_no_request(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("plain")
    make_post("plain")
    for path in ("/blogs/plain", "/"):
        tree = parse(client.get(path).text)
        assert len(tree.find_all("link", rel="stylesheet")) == 1
        header = tree.find("header")
        assert header is not None
        assert header.find("img") is None
        assert header.text.strip() == "Liveticker"
    error = client.get("/blogs/no-such-blog")
    assert error.status_code == 404
    assert "/themes/" not in error.text


def test_the_theme_css_route(client: TestClient) -> None:
    looks = client.app.state.services.themes  # type: ignore[attr-defined]
    night = looks.get("night-desk")
    response = client.get(night.stylesheet)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.text == night.css
    assert "--masthead:#0f1b2d" in response.text
    assert "--heading-font:Georgia" in response.text
    # A page cached from before the file changed: today's look, briefly cached.
    stale = client.get("/themes/night-desk.0123456789ab.css")
    assert stale.status_code == 200
    assert stale.text == night.css
    assert stale.headers["cache-control"] == "public, max-age=300"
    assert client.head(night.stylesheet).status_code == 200
    for missing in ("/themes/nope.0123456789ab.css", "/themes/default.0123456789ab.css"):
        assert client.get(missing).status_code == 404
    # Nothing the file gave is executable as CSS beyond custom properties.
    harbour = looks.get("harbour").css
    assert re.fullmatch(
        r"(:root\{[^{}]*\}\n)?(@media \(prefers-color-scheme:dark\)\{:root\{[^{}]*\}\}\n)?", harbour
    )


def test_the_etag_changes_with_the_theme(
    client: TestClient, database: Database, settings: Settings, make_blog: Any, tmp_path: Path
) -> None:
    make_blog("port")
    etags = [client.get("/blogs/port").headers["etag"]]
    set_theme(database, "port", "night-desk")
    etags.append(client.get("/blogs/port").headers["etag"])
    assert client.get("/blogs/port", headers={"If-None-Match": etags[0]}).status_code == 200
    assert client.get("/blogs/port", headers={"If-None-Match": etags[1]}).status_code == 304
    set_theme(database, "port", "harbour")
    etags.append(client.get("/blogs/port").headers["etag"])
    # The same blog and theme name, but the file changed the theme's links: a new page.
    changed = {**HARBOUR, "footer_links": [{"label": "Contact us", "url": "/contact"}]}
    (tmp_path / "other").mkdir()
    path = write(tmp_path / "other", {"themes": {"harbour": changed}})
    other = Settings(database_url=database.url, themes_file=path)
    with TestClient(create_app(other, database=database)) as second:
        etags.append(second.get("/blogs/port").headers["etag"])
        assert "Contact us" in second.get("/blogs/port").text
    assert len(set(etags)) == 4, etags
    post_etag = client.get("/blogs/port").headers["etag"]
    assert post_etag == etags[2]  # and stays put while nothing changes
