"""Community notes pages in their blog's language: `lang` and `dir`, a test-only catalogue's
words on the pages (headings, codes' labels, plurals, the "why" sentences with the language's
numbers, form errors, the messages after a form), sign-in and sign-up in the site's default
language, the admins' plot in English, and the note form's count by plural category."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from fastapi.testclient import TestClient
from sqlalchemy import select

from liveticker.domain import accounts, notes
from liveticker.domain.inputs import (
    HELPFULNESS_LEVELS,
    MISLEADING,
    MISLEADING_REASONS,
    NOT_MISLEADING,
    NOT_MISLEADING_REASONS,
)
from liveticker.domain.notes_labels import LABELS
from liveticker.scoring.data import HELPFUL_TAGS, NOT_HELPFUL_TAGS, STATUS_NAMES
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import Blog, Note, NoteStatusChange
from liveticker.web import i18n
from liveticker.web.app import create_app
from liveticker.web.notes_explain import explain, label, status_text
from tests.web.test_notes_pages import PASSWORD, field_error, score, sign_in, write_note

# A German catalogue for the tests only (the real ones are the lead's to make).
GERMAN = {
    "Notes on “%(title)s”": "Notizen zu „%(title)s“",
    "Why is this shown?": "Warum wird das gezeigt?",
    "Rate it": "Bewerten",
    "Sign in": "Anmelden",
    "Helpful": "Hilfreich",
    "Helpful: shown under the post": "Hilfreich: unter dem Beitrag gezeigt",
    "The post is misinformed or potentially misleading": "Der Beitrag ist womöglich irreführend",
    "Rated helpful by people who usually disagree: intercept %(value)s ≥ %(limit)s, "
    "viewpoint factor %(factor)s.": "Hilfreich für Leute, die sonst uneins sind: Achsenabschnitt "
    "%(value)s ≥ %(limit)s, Standpunktfaktor %(factor)s.",
    "choose Helpful, Somewhat helpful or Not helpful": "wähle Hilfreich, Etwas hilfreich "
    "oder Nicht hilfreich",
    "choose whether the post is misleading": "wähle, ob der Beitrag irreführend ist",
    "Not sent: see the marked field below. Nothing you typed is lost.": "Nicht gesendet: "
    "siehe das markierte Feld. Nichts Getipptes geht verloren.",
    "Thank you: your rating is saved. You can change it at any time.": "Danke: deine "
    "Bewertung ist gespeichert. Du kannst sie jederzeit ändern.",
}
GERMAN_PLURALS = {
    ("%(num)s note", "%(num)s notes"): ("%(num)s Notiz", "%(num)s Notizen"),
    ("%(n)s character left.", "%(n)s characters left."): (
        "%(n)s Zeichen übrig.",
        "%(n)s Zeichen übrig (viele).",
    ),
}


def use_catalogue(
    monkeypatch: pytest.MonkeyPatch,
    root: Path,
    language: str,
    messages: dict[str, str],
    plurals: dict[tuple[str, str], tuple[str, ...]],
) -> None:
    """i18n reads a test-only catalogue for `language` under `root` (and no other)."""
    catalogue = Catalog(locale=language)
    for msgid, msgstr in messages.items():
        catalogue.add(msgid, msgstr)
    for pair, forms in plurals.items():
        catalogue.add(pair, forms)
    folder = root / "locale" / language / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as po:
        write_po(po, catalogue)
    monkeypatch.setattr(i18n, "LOCALE_DIR", root / "locale")
    forget_catalogues()


def forget_catalogues() -> None:
    i18n._translations.cache_clear()
    i18n.language.cache_clear()


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_catalogue(monkeypatch, tmp_path, "de", GERMAN, GERMAN_PLURALS)
    yield
    forget_catalogues()  # monkeypatch puts LOCALE_DIR back next; nothing reads in between


@pytest.fixture
def make_reader(database: Database) -> Any:
    def make(alias: str, *, writes: bool = False) -> str:
        with database.transaction() as session:
            user = accounts.create_user(session, username=alias, password=PASSWORD, role="reader")
            user.participant_id = f"P{alias}"
            user.writing_granted = writes
        return alias

    return make


def speak(database: Database, slug: str, language: str) -> None:
    """The blog's language, set on the row (the API's field comes separately)."""
    with database.transaction() as session:
        blog = session.scalar(select(Blog).where(Blog.slug == slug))
        assert blog is not None
        blog.language = language


def html_tag(page: str) -> str:
    match = re.search(r"<html[^>]*>", page)
    assert match is not None
    return match.group(0)


def count_strings(page: str) -> dict[str, Any]:
    match = re.search(r'data-count-strings="([^"]*)"', page)
    assert match is not None, "no note form"
    return dict(json.loads(html.unescape(match.group(1))))


def test_a_note_and_a_posts_notes_speak_their_blogs_language(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    make_reader: Any,
    german: None,
) -> None:
    make_blog("storm")
    make_blog("calm")
    speak(database, "storm", "de")
    german_post = make_post("storm", body="Der Damm hält.", headline="Der Damm")
    english_post = make_post("calm", body="The dam holds.", headline="The dam")
    make_reader("author")
    note_id = write_note(database, german_post, "author")
    other_id = write_note(database, english_post, "author")
    score(database, note_id)
    score(database, other_id)

    page = client.get(f"/blogs/storm/posts/{german_post['id']}/notes")
    assert page.status_code == 200
    assert "Notizen zu „<bdi>Der Damm</bdi>“" in page.text  # the title isolated
    assert '<h2 id="list-title">1 Notiz</h2>' in page.text  # a plural form
    assert "Hilfreich: unter dem Beitrag gezeigt" in page.text
    assert "Der Beitrag ist womöglich irreführend" in page.text  # a domain code's label
    assert "Bewerten</a>" in page.text
    assert "Add context" in page.text  # not in the catalogue: English, not blank
    assert "Rate it" not in page.text

    page = client.get(f"/notes/{note_id}")
    assert page.status_code == 200
    assert "Warum wird das gezeigt?" in page.text
    # The sentence from notes_explain, with German decimals.
    assert "Achsenabschnitt 0,47 ≥ 0,40, Standpunktfaktor 0,12." in page.text
    with database.transaction() as session:
        change = session.scalar(select(NoteStatusChange).where(NoteStatusChange.note_id == note_id))
        assert change is not None
        moment = i18n.language("de").human(change.at)
    assert f"data-local>{moment}</time>: Hilfreich</li>" in page.text
    assert "UTC" in moment
    assert "," in moment

    # Another blog's pages, in the same process right after: English again.
    english = client.get(f"/blogs/calm/posts/{english_post['id']}/notes").text
    assert "Notes on “<bdi>The dam</bdi>”" in english
    assert '<h2 id="list-title">1 note</h2>' in english
    assert "Notiz" not in english
    assert "intercept 0.47 ≥ 0.40" in client.get(f"/notes/{other_id}").text


def test_forms_answer_in_the_blogs_language(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    make_reader: Any,
    german: None,
) -> None:
    make_blog("storm")
    speak(database, "storm", "de")
    post = make_post("storm", body="Der Damm hält.", headline="Der Damm")
    make_reader("author")
    make_reader("river", writes=True)
    note_id = write_note(database, post, "author")

    csrf = sign_in(client, "river")
    wrong = client.post(f"/notes/{note_id}/rating", data={"csrf": csrf})
    assert wrong.status_code == 422
    assert field_error(wrong.text, "helpfulness") == (
        "Wähle Hilfreich, Etwas hilfreich oder Nicht hilfreich"
    )
    assert "Nicht gesendet: siehe das markierte Feld." in wrong.text
    assert 'value="HELPFUL" id="helpfulness-HELPFUL"> Hilfreich</label>' in wrong.text

    rated = client.post(f"/notes/{note_id}/rating", data={"csrf": csrf, "helpfulness": "HELPFUL"})
    assert rated.status_code == 200  # followed the redirect
    assert "Danke: deine Bewertung ist gespeichert." in rated.text

    path = f"/blogs/storm/posts/{post['id']}/notes"
    form = client.get(path).text
    assert count_strings(form)["left"] == {
        "one": "%(n)s Zeichen übrig.",
        "other": "%(n)s Zeichen übrig (viele).",
    }
    unchosen = client.post(path, data={"csrf": csrf, "text": "Siehe https://example.org"})
    assert unchosen.status_code == 422
    assert field_error(unchosen.text, "classification") == "Wähle, ob der Beitrag irreführend ist"
    assert "Siehe https://example.org</textarea>" in unchosen.text  # kept


def test_sign_in_and_sign_up_speak_the_sites_language_the_desk_english(
    database: Database, german: None
) -> None:
    settings = Settings(database_url=database.url, default_language="de")
    with TestClient(create_app(settings, database=database)) as client:
        reader = client.get("/login?next=/notes/needs-help").text
        assert "<h1>Anmelden</h1>" in reader
        assert '<button type="submit" class="primary">Anmelden</button>' in reader
        desk = client.get("/login?next=/desk").text
        assert "<h1>Sign in to the desk</h1>" in desk
        assert "Anmelden" not in desk
        assert client.get("/signup").status_code == 200


def test_pages_set_lang_and_dir_from_the_blog_and_render_without_a_catalogue(
    client: TestClient,
    database: Database,
    make_blog: Any,
    make_post: Any,
    make_reader: Any,
    accounts_by_role: Any,
) -> None:
    """Arabic has no catalogue: the pages speak English words right to left, not fail."""
    make_blog("storm")
    make_blog("sturm")
    speak(database, "storm", "ar")
    speak(database, "sturm", "de-AT")
    arabic = make_post("storm", body="السد صامد.", headline="السد")
    austrian = make_post("sturm", body="Der Damm hält.", headline="Der Damm")
    make_reader("author")
    make_reader("river", writes=True)
    arabic_note = write_note(database, arabic, "author")
    score(database, arabic_note)
    sign_in(client, "river")

    for path in (f"/notes/{arabic_note}", f"/blogs/storm/posts/{arabic['id']}/notes"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert html_tag(page.text) == '<html lang="ar" dir="rtl">', path
    page = client.get(f"/blogs/sturm/posts/{austrian['id']}/notes")
    assert html_tag(page.text) == '<html lang="de-AT" dir="ltr">'
    assert html_tag(client.get("/notes/needs-help").text) == '<html lang="en" dir="ltr">'

    sign_in(client, "admin")
    plot = client.get("/blogs/storm/notes/plot")
    assert plot.status_code == 200
    assert html_tag(plot.text) == '<html lang="en" dir="ltr">'  # for admins: English


def test_the_note_form_counts_in_the_languages_plural_categories(
    client: TestClient, database: Database, make_blog: Any, make_post: Any, make_reader: Any
) -> None:
    make_blog("storm")
    speak(database, "storm", "ar")
    post = make_post("storm", body="السد صامد.", headline="السد")
    make_reader("river", writes=True)
    sign_in(client, "river")
    page = client.get(f"/blogs/storm/posts/{post['id']}/notes")
    strings = count_strings(page.text)
    # Arabic has all six CLDR categories, and the shipped catalogue a form for each.
    assert strings["lang"] == "ar"  # whose categories the script picks from
    categories = {"zero", "one", "two", "few", "many", "other"}
    for key in ("left", "over"):
        assert set(strings[key]) == categories
        assert len(set(strings[key].values())) == len(categories)
        assert not any("character" in form for form in strings[key].values())
    assert 'dir="auto"' in page.text
    assert 'id="f-sources" name="sources" rows="3" dir="ltr"' in (page.text)


def test_every_code_the_forms_and_the_engine_use_has_words() -> None:
    codes = {
        MISLEADING,
        NOT_MISLEADING,
        *MISLEADING_REASONS,
        *NOT_MISLEADING_REASONS,
        *HELPFULNESS_LEVELS,
        *HELPFUL_TAGS,
        *NOT_HELPFUL_TAGS,
        *STATUS_NAMES,
    }
    assert sorted(codes - set(LABELS)) == []
    assert label("someTagXAddsLater") == "someTagXAddsLater"  # shown as it is
    assert status_text(notes.NEEDS_MORE_RATINGS) == "Needs more ratings"


def test_words_and_numbers_follow_the_language_spoken(german: None) -> None:
    helpful = Note(
        status=notes.HELPFUL,
        decided_by="GeneralCRH",
        rules=["InitialNMR", "GeneralCRH"],
        intercept=0.47,
        factor=-0.3,
    )
    with i18n.speaking("de-AT"):  # the German catalogue, Austrian numbers
        assert label("HELPFUL") == "Hilfreich"
        assert status_text(notes.HELPFUL) == "Hilfreich: unter dem Beitrag gezeigt"
        assert explain(helpful) == [
            "Hilfreich für Leute, die sonst uneins sind: Achsenabschnitt 0,47 ≥ 0,40, "
            "Standpunktfaktor −0,30."
        ]
    with i18n.speaking("fr"):  # no catalogue: English words, French numbers
        assert explain(helpful)[0].endswith("intercept 0,47 ≥ 0,40, viewpoint factor −0,30.")
    assert label("HELPFUL") == "Helpful"  # back to English after
