"""Domain rules in isolation: inputs, cursors, short codes, rate limits, settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from liveticker.domain import posts, shortcodes
from liveticker.domain.inputs import BlogCreate, ImageInput, PostCreate, PostUpdate, SocialInput
from liveticker.domain.ratelimit import RateLimiter
from liveticker.exceptions import InvalidCursor, RateLimited
from liveticker.settings import Settings, documented_settings
from liveticker.storage.models import Post


@pytest.mark.parametrize("slug", ["storm", "storm-2026", "a", "x1-y2-z3"])
def test_good_slugs(slug: str) -> None:
    assert BlogCreate(slug=slug, title="T").slug == slug


@pytest.mark.parametrize(
    "slug", ["", "Storm", "storm_2026", "-storm", "storm-", "sto--rm", "a" * 81, "ünï", "a/b"]
)
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(ValidationError):
        BlogCreate(slug=slug, title="T")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a.jpg",
        "http://example.org",
        "/static/demo/a.svg",
        "HTTPS://EXAMPLE.ORG/x",
    ],
)
def test_good_image_urls(url: str) -> None:
    assert ImageInput(url=url, alt="x").url == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:image/svg+xml,<svg/onload=alert(1)>",
        "//evil.example/x",
        "https://",
        "https://a b",
        "ftp://example.org/x",
        "vbscript:x",
        "relative/path.jpg",
        "https://user@evil.example",
        "/\\evil.example",
    ],
)
def test_bad_image_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        ImageInput(url=url, alt="x")


def test_text_fields_reject_control_characters_and_trim() -> None:
    with pytest.raises(ValidationError):
        PostCreate(body="a\x00b")
    with pytest.raises(ValidationError):
        PostCreate(body="x", headline="two\nlines")
    assert PostCreate(body="  text  ").body == "text"
    with pytest.raises(ValidationError):
        PostCreate(body="   ")


def test_types_are_strict() -> None:
    with pytest.raises(ValidationError):
        PostCreate.model_validate({"body": 5})
    with pytest.raises(ValidationError):
        PostCreate.model_validate({"body": "x", "pinned": "yes"})
    with pytest.raises(ValidationError):
        PostCreate.model_validate({"body": "x", "pinned": 1})


def test_social_handle_normalized_and_time_needs_zone() -> None:
    social = SocialInput(url="https://example.org/1", author_name="A", handle="@abc_1", text="t")
    assert social.normalized()["handle"] == "abc_1"
    with pytest.raises(ValidationError):
        SocialInput(
            url="https://example.org/1",
            author_name="A",
            handle="abc",
            text="t",
            posted_at=datetime(2026, 1, 1),
        )
    with pytest.raises(ValidationError):
        SocialInput(url="https://example.org/1", author_name="A", handle="a b", text="t")


def test_patch_tracks_only_sent_fields() -> None:
    patch = PostUpdate.model_validate({"headline": None, "key_event": True})
    assert patch.changes() == {"headline": None, "key_event": True}
    with pytest.raises(ValidationError):
        PostUpdate.model_validate({"status": None})


def test_cursor_round_trip_is_exact_to_the_microsecond() -> None:
    # Times whose float timestamps round badly must still come back exactly.
    for micro in (0, 1, 131045, 999999, 700001):
        when = datetime(2026, 11, 27, 7, 10, 45, micro, tzinfo=UTC)
        post = Post(id=42, published_at=when)
        assert posts.decode_cursor(posts.encode_cursor(post)) == (when, 42)


@pytest.mark.parametrize("cursor", ["", "x", "MTow", "LTE6LTE", "A" * 65, "bm9udW1iZXI6MQ", "%%%%"])
def test_bad_cursors(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        posts.decode_cursor(cursor)


def test_short_codes_are_unambiguous_and_varied() -> None:
    codes = {shortcodes.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert shortcodes.is_wellformed(code)
        assert not set(code) & set("01ilo")
    assert not shortcodes.is_wellformed("abc")
    assert not shortcodes.is_wellformed("abcde0")


def test_rate_limiter_refills_over_time() -> None:
    limiter = RateLimiter(per_minute=3)
    for _ in range(3):
        limiter.hit("k", now=100.0)
    with pytest.raises(RateLimited) as caught:
        limiter.hit("k", now=100.0)
    assert caught.value.retry_after == 20
    limiter.hit("other", now=100.0)  # keys are independent
    limiter.hit("k", now=121.0)  # one token back after 20 s


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(per_minute=5, max_keys=100)
    for n in range(1000):
        limiter.hit(f"key{n}", now=float(n))
    assert len(limiter._buckets) == 100


def test_settings_from_environment_with_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite")
    env = {"LIVETICKER_PORT": "9000", "LIVETICKER_DATABASE_URL": "postgresql://x/y"}
    settings = Settings.from_env(env)
    assert settings.port == 9000
    assert settings.database_url == "postgresql://x/y"
    with pytest.raises(ValueError, match="LIVETICKER_PORT"):
        Settings.from_env({"LIVETICKER_PORT": "eighty"})


def test_every_setting_is_documented() -> None:
    with open("README.md", encoding="utf-8") as handle:
        readme = handle.read()
    for variable, _default, description in documented_settings():
        assert description, variable
        assert variable in readme, f"{variable} is missing from the README's configuration table"
