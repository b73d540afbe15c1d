"""The demo content shows every part of the reader page, and only what a reader should see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import liveticker
from liveticker.domain import demo
from liveticker.domain.accounts import check_password
from liveticker.domain.blogs import get_blog
from liveticker.domain.posts import stream_page
from liveticker.storage.database import Database
from liveticker.storage.models import Blog, Post, Revision, User, utcnow

STATIC = Path(liveticker.__file__).parent / "web" / "static"
ARABIC_LETTER = re.compile("[\u0621-\u064a]")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path}/d.db")
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def info(database: Database) -> demo.DemoInfo:
    with database.transaction() as session:
        assert demo.needs_demo(session)
        created = demo.create_demo(session)
    with database.transaction() as session:
        assert not demo.needs_demo(session)
    return created


@pytest.fixture
def session(database: Database, info: demo.DemoInfo) -> Iterator[Session]:
    with database.transaction() as session:
        yield session


def _posts(session: Session, blog: Blog) -> list[Post]:
    return list(session.scalars(select(Post).where(Post.blog_id == blog.id).order_by(Post.id)))


def _published(session: Session, blog: Blog) -> list[Post]:
    return [post for post in _posts(session, blog) if post.status == "published"]


def test_the_live_blog_has_every_part_of_the_page_head(
    session: Session, info: demo.DemoInfo
) -> None:
    blog = get_blog(session, slug=info.blog_slug, actor=None)
    assert blog.status == "live"
    assert len(blog.labels) == 2
    assert 0 < blog.standfirst.count(".") <= 2
    assert blog.lead_image is not None
    assert blog.lead_image["alt"]
    assert blog.lead_image["caption"]
    assert blog.lead_image["credit"].startswith("Image: Liveticker demo/")
    assert 3 <= len(blog.key_points) <= 5
    assert any("](" in point for point in blog.key_points)


def test_the_live_stream_shows_every_kind_of_post(session: Session, info: demo.DemoInfo) -> None:
    blog = get_blog(session, slug=info.blog_slug, actor=None)
    published = _published(session, blog)
    assert len(published) >= 14
    assert sum(post.pinned for post in published) == 1
    assert any(post.key_event for post in published)
    assert any(post.social for post in published)
    with_images = [post for post in published if post.images]
    assert with_images
    assert all(image["alt"].strip() for post in with_images for image in post.images)
    assert any(image["caption"].startswith("FILE: ") for p in with_images for image in p.images)
    assert sum(post.headline is None for post in published) == 1
    bodies = " ".join(post.body_html for post in published)
    for element in ("<em>", "<strong>", "<blockquote>", "<ul>", 'href="/blogs/', "example.org"):
        assert element in bodies


def test_edits_deletions_and_drafts_are_recorded_but_not_shown(
    session: Session, info: demo.DemoInfo
) -> None:
    blog = get_blog(session, slug=info.blog_slug, actor=None)
    posts = _posts(session, blog)
    deleted = [post for post in posts if post.status == "deleted"]
    assert len(deleted) == 1
    assert deleted[0].delete_reason
    drafts = [post for post in posts if post.status == "draft"]
    assert len(drafts) == 1
    assert drafts[0].published_at is None
    assert drafts[0].author is not None
    assert drafts[0].author.role == "contributor"
    edited = session.scalars(
        select(Revision).where(Revision.blog_id == blog.id, Revision.action == "edited")
    ).all()
    assert any(revision.post_id is not None for revision in edited)

    page = stream_page(session, blog=blog, limit=100)
    shown = [post.id for post in page.posts] + ([page.pinned.id] if page.pinned else [])
    assert page.pinned is not None
    assert deleted[0].id not in shown
    assert drafts[0].id not in shown
    assert page.total == len(shown) == len(_published(session, blog))


def test_times_read_like_a_running_story(session: Session, info: demo.DemoInfo) -> None:
    now = utcnow()
    blog = get_blog(session, slug=info.blog_slug, actor=None)
    published = _published(session, blog)
    times = [post.published_at for post in published]
    assert all(time is not None for time in times)
    ordered = sorted(t for t in times if t is not None)
    assert ordered == times, "posts are published in the order they were written"
    assert now - ordered[-1] < timedelta(minutes=15)
    assert timedelta(hours=18) < now - ordered[0] < timedelta(hours=22)
    assert blog.published_at is not None
    assert blog.published_at < ordered[0]
    assert blog.coverage_start == blog.published_at
    # Updated with its last post, or since, when readers' notes under a post changed.
    assert blog.updated_at >= ordered[-1]
    assert now - blog.updated_at < timedelta(minutes=15)
    # The history is back-dated with the posts: an edit shows when it happened.
    revisions = session.scalars(select(Revision).where(Revision.blog_id == blog.id)).all()
    assert all(now - revision.created_at > timedelta(minutes=2) for revision in revisions)
    for revision in revisions:
        if revision.action == "edited" and revision.post_id is not None:
            post = session.get(Post, revision.post_id)
            assert post is not None
            assert revision.created_at == post.updated_at
            assert post.published_at is not None
            assert post.published_at < post.updated_at


def test_a_closed_blog_from_two_days_ago(session: Session, info: demo.DemoInfo) -> None:
    blog = get_blog(session, slug=info.closed_blog_slug, actor=None)
    assert blog.status == "closed"
    assert blog.closing_message
    assert blog.coverage_end is not None
    assert timedelta(hours=40) < utcnow() - blog.coverage_end < timedelta(hours=56)
    posts = _published(session, blog)
    assert len(posts) >= 4
    assert all(p.published_at is not None and p.published_at < blog.coverage_end for p in posts)


def test_the_demo_accounts_can_sign_in(session: Session, info: demo.DemoInfo) -> None:
    editor = check_password(session, username=info.username, password=info.password)
    assert editor.role == "editor"
    assert (info.username, info.password) == (demo.DEMO_USERNAME, demo.DEMO_PASSWORD)
    reporter = session.scalar(select(User).where(User.username == info.reporter_username))
    assert reporter is not None
    assert reporter.role == "contributor"


def test_every_demo_image_is_a_small_local_file(session: Session, info: demo.DemoInfo) -> None:
    urls = [blog.lead_image["url"] for blog in session.scalars(select(Blog)) if blog.lead_image]
    urls += [image["url"] for post in session.scalars(select(Post)) for image in post.images]
    assert len(urls) >= 5
    for url in urls:
        assert url.startswith("/static/demo/"), url
        assert (STATIC / url.removeprefix("/static/")).is_file(), url


@pytest.mark.parametrize("path", sorted((STATIC / "demo").glob("*.svg")), ids=lambda p: p.name)
def test_demo_svgs_are_self_contained(path: Path) -> None:
    svg = path.read_text()
    assert len(svg.encode()) < 4096
    assert 'viewBox="0 0 1200 675"' in svg
    # Each must stand alone: no request to another site, no font to fetch, no script.
    assert re.findall(r"https?://[^\"']+", svg) == ["http://www.w3.org/2000/svg"]
    assert "<script" not in svg
    assert "<text" not in svg
    assert "<image" not in svg


def test_the_demo_community_shows_a_bridging_note_and_holds_a_one_sided_one(
    session: Session, info: demo.DemoInfo
) -> None:
    from liveticker.domain import notes
    from liveticker.domain.accounts import Actor
    from liveticker.storage.models import Event, Note

    live = get_blog(session, slug=info.blog_slug, actor=None)
    flood = {
        note.text[:20]: note
        for note in session.scalars(select(Note).where(Note.blog_id == live.id))
    }
    bridging = flood["The March 2024 recor"]
    one_sided = flood["The fire service had"]
    assert bridging.status == notes.HELPFUL
    assert bridging.intercept is not None
    assert bridging.intercept >= 0.40
    assert one_sided.status == notes.NEEDS_MORE_RATINGS
    shown = notes.shown_notes(session, post_ids=[bridging.post_id, one_sided.post_id])
    assert [note.id for note in shown[bridging.post_id]] == [bridging.id]
    assert one_sided.post_id not in shown
    # It reached the page as live readers get it: a "notes" event in the blog's log.
    logged = session.scalars(
        select(Event).where(Event.blog_id == live.id, Event.kind == "notes")
    ).all()
    assert [event.data["notes"][0]["id"] for event in logged] == [bridging.id]
    reader = check_password(session, username=info.reader_username, password=demo.DEMO_PASSWORD)
    assert reader.role == "reader"
    waiting = notes.needs_your_help(session, actor=Actor.of(reader))
    assert [note.id for note in waiting] == [one_sided.id]


def test_the_arabic_blog_tells_the_flood_story_right_to_left(
    session: Session, info: demo.DemoInfo
) -> None:
    english = get_blog(session, slug=info.blog_slug, actor=None)
    arabic = get_blog(session, slug=info.arabic_blog_slug, actor=None)
    assert arabic.status == "live"
    assert (arabic.language, arabic.theme) == ("ar", "night-desk")
    assert (english.language, english.theme) == ("en", "")
    assert arabic.translations == [english.slug]
    assert english.translations == [arabic.slug]
    # Written in Arabic: the title, the standfirst, the labels, the key points, the image.
    assert arabic.lead_image is not None
    head = [arabic.title, arabic.standfirst, *arabic.labels, *arabic.key_points]
    head += [arabic.lead_image[part] for part in ("alt", "caption", "credit")]
    assert all(ARABIC_LETTER.search(text) for text in head), head
    assert len(arabic.labels) == 2
    assert 3 <= len(arabic.key_points) <= 5

    published = _published(session, arabic)
    assert 12 <= len(published) <= 15
    assert sum(post.pinned for post in published) == 1
    assert any(post.key_event for post in published)
    assert all(ARABIC_LETTER.search(post.body) for post in published)
    assert all(ARABIC_LETTER.search(post.headline) for post in published if post.headline)
    images = [image for post in published for image in post.images]
    assert images
    assert all(ARABIC_LETTER.search(image["alt"] + image["caption"]) for image in images)
    # Latin-script islands: the social card's handle and link, web addresses, phone numbers.
    (card,) = [post.social for post in published if post.social]
    assert ARABIC_LETTER.search(card["author_name"])
    assert re.fullmatch(r"[A-Za-z0-9_]+", card["handle"])
    assert card["url"].startswith("https://")
    bodies = " ".join(post.body_html for post in published)
    assert 'href="https://example.org/' in bodies
    assert re.search(r"\d+\.\d+", bodies)
    # A phone number keeps its order only isolated from the Arabic around it (U+2066..2069).
    assert re.search("\u2066[\\d ]+\u2069", bodies)

    times = sorted(post.published_at for post in published if post.published_at)
    assert len(times) == len(published)
    assert utcnow() - times[-1] < timedelta(minutes=15)
    assert timedelta(hours=12) < utcnow() - times[0] < timedelta(hours=22)


def test_the_arabic_blog_shows_a_readers_note_in_arabic(
    session: Session, info: demo.DemoInfo
) -> None:
    from liveticker.domain import notes
    from liveticker.storage.models import Note

    arabic = get_blog(session, slug=info.arabic_blog_slug, actor=None)
    (note,) = session.scalars(select(Note).where(Note.blog_id == arabic.id)).all()
    assert ARABIC_LETTER.search(note.text)
    assert note.status == notes.HELPFUL
    shown = notes.shown_notes(session, post_ids=[note.post_id])
    assert [shown_note.id for shown_note in shown[note.post_id]] == [note.id]
