"""Pages in the blog's language: lang and dir, translated strings and dates, the live
fragments, the script's words, the error and index pages, and links between translations."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from liveticker.settings import Settings
from liveticker.web import i18n
from liveticker.web.app import create_app
from tests.web.test_pages import get_page


def _arabic(text: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" for char in text)


def test_an_arabic_blog_reads_right_to_left_in_arabic(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("idris-ar", title="العاصفة إدريس: مباشر", language="ar")
    make_post("idris-ar", "ارتفع منسوب النهر.", headline="فيضان", key_event=True)
    response, tree = get_page(client, "/blogs/idris-ar")
    html = tree.find("html")
    assert html is not None
    assert (html.get("lang"), html.get("dir")) == ("ar", "rtl")
    arabic = i18n.language("ar")
    assert arabic.gettext("Key event") != "Key event"
    assert arabic.gettext("Key event") in response.text
    assert arabic.gettext("Skip to content") in response.text
    time = tree.find("time")
    assert time is not None
    assert _arabic(time.text)  # the month's name, in Arabic
    strings = tree.by_id("lt-strings")
    assert strings is not None
    data = json.loads(strings.text)
    assert data["lang"] == "ar"
    assert set(data["plurals"]["new"]) == {"zero", "one", "two", "few", "many", "other"}


def test_live_fragments_speak_the_blogs_language(
    client: TestClient, make_blog: Any, make_post: Any
) -> None:
    make_blog("sturm", title="Sturm: live", language="de")
    make_blog("storm", title="Storm: live")
    versions = {}
    for slug in ("sturm", "storm"):  # the page's version: its stream continues from there
        feed = get_page(client, f"/blogs/{slug}")[1].find(role="feed")
        assert feed is not None
        versions[slug] = feed.get("data-version")
    make_post("sturm", "Das Wasser steigt.", key_event=True)
    make_post("storm", "Water is rising.", key_event=True)
    german = i18n.language("de").gettext("Key event")
    assert german != "Key event"
    for slug, badge in (("sturm", german), ("storm", "Key event")):
        after = {"after": versions[slug]}
        changes = client.get(f"/api/v1/blogs/{slug}/changes", params=after).json()
        events = changes["events"]
        fragments = [event["data"]["html"] for event in events if event["event"] == "post"]
        assert fragments, slug
        assert all(badge in html for html in fragments), (slug, fragments)


def test_index_and_error_pages_speak_the_default_language(settings: Settings) -> None:
    app = create_app(Settings(**{**settings.__dict__, "default_language": "uk"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        ukrainian = i18n.language("uk")
        index = client.get("/")
        assert index.status_code == 200
        assert '<html lang="uk" dir="ltr">' in index.text
        assert ukrainian.gettext("Live blogs") in index.text
        missing = client.get("/blogs/no-such-blog", headers={"Accept": "text/html"})
        assert missing.status_code == 404
        assert ukrainian.gettext("Page not found") in missing.text
        assert ukrainian.gettext("Page not found") != "Page not found"
        # The application's own message is English, and marked so inside the page.
        assert 'lang="en" dir="ltr"' in missing.text


def test_a_new_blog_takes_the_default_language(settings: Settings, editor: Any) -> None:
    app = create_app(Settings(**{**settings.__dict__, "default_language": "fa"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post(
            "/api/v1/blogs", json={"slug": "toofan", "title": "توفان"}, headers=editor.headers
        )
        assert created.status_code == 201, created.text
        assert created.json()["language"] == "fa"


def test_translations_are_linked_with_hreflang_and_for_readers(
    client: TestClient, make_blog: Any, editor: Any
) -> None:
    make_blog("storm", title="Storm: live", translations=["sturm", "idris-ar", "secret"])
    make_blog("sturm", title="Sturm: live", language="de", translations=["storm"])
    make_blog("idris-ar", title="العاصفة", language="ar")
    make_blog("secret", title="Not yet", language="fr", live=False)  # a draft
    response, tree = get_page(client, "/blogs/storm")
    links = {
        node.get("hreflang"): node.get("href")
        for node in tree.iter()
        if node.tag == "link" and node.get("rel") == "alternate" and node.get("hreflang")
    }
    assert links == {
        "en": "http://testserver/blogs/storm",
        "de": "http://testserver/blogs/sturm",
        "ar": "http://testserver/blogs/idris-ar",
    }
    assert "secret" not in response.text  # a draft sibling: not even its slug
    switcher = tree.find("nav", **{"class": "languages"})
    assert switcher is not None
    names = [(a.get("lang"), a.text) for a in switcher.find_all("a")]
    assert names == [("de", "Deutsch"), ("ar", "العربية")]
    # Publishing the draft sibling changes the page, so its validator changes too.
    etag = response.headers["etag"]
    assert client.get("/blogs/storm", headers={"If-None-Match": etag}).status_code == 304
    published = client.post("/api/v1/blogs/secret/publish", headers=editor.headers)
    assert published.status_code == 200, published.text
    again = client.get("/blogs/storm", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert 'hreflang="fr"' in again.text


def test_a_blog_without_translations_has_no_hreflang(client: TestClient, make_blog: Any) -> None:
    make_blog("storm")
    response, tree = get_page(client, "/blogs/storm")
    assert "hreflang" not in response.text
    assert tree.find("nav", **{"class": "languages"}) is None
