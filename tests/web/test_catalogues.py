"""The catalogues: every shipped language translates every reader string, with its plural
forms right, and the pages, the live fragments and the script speak it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po, write_po

from liveticker.web import catalogues, i18n

SHIPPED = ["de", "uk", "ru", "ar", "fa"]


def test_every_required_language_ships_a_catalogue() -> None:
    assert set(SHIPPED) <= set(i18n.catalogue_languages())
    assert i18n.catalogue_languages()[0] == "en"


@pytest.mark.parametrize("language", SHIPPED)
def test_catalogue_translates_every_string(language: str) -> None:
    assert catalogues.missing(language) == []


def test_template_is_in_step_with_the_code() -> None:
    """`make messages` was run after the last string changed."""
    with catalogues.TEMPLATE.open("rb") as pot:
        committed = {message.id for message in read_po(pot) if message.id}
    extracted = {message.id for message in catalogues.extract() if message.id}
    assert extracted - committed == set(), "run `make messages`"
    assert committed - extracted == set(), "run `make messages`"


@pytest.fixture
def locale_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shipped catalogues copied aside, so a test can break one."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy)
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    monkeypatch.setattr(catalogues, "LOCALE_DIR", copy)
    i18n._translations.cache_clear()
    i18n.language.cache_clear()
    yield copy
    i18n._translations.cache_clear()
    i18n.language.cache_clear()


def _edit(copy: Path, language: str, msgid: Any, string: Any) -> None:
    path = copy / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language)
    catalogue[msgid].string = string
    with path.open("wb") as out:
        write_po(out, catalogue)


def test_a_missing_translation_is_reported(locale_copy: Path) -> None:
    _edit(locale_copy, "de", "Key event", "")
    assert catalogues.missing("de") == ["untranslated: 'Key event'"]


def test_a_short_plural_and_a_lost_placeholder_are_reported(locale_copy: Path) -> None:
    key = ("%(n)s new post", "%(n)s new posts")
    _edit(locale_copy, "ru", key, ("%(n)s новый пост", "%(n)s новых поста", ""))
    _edit(locale_copy, "uk", "By %(author)s", "Автор")
    assert catalogues.missing("ru") == ["untranslated: '%(n)s new post'"]
    problems = catalogues.missing("uk")
    assert len(problems) == 1
    assert problems[0].startswith("'By %(author)s'")


def _script_plural(language: str, key: str, n: int) -> str:
    """What liveticker.js shows for `n`: the CLDR category's form, as the browser picks it."""
    speaking = i18n.language(language)
    forms = json.loads(speaking.script_strings())["plurals"][key]
    return str(forms[speaking.locale.plural_form(n)]).replace("%(n)s", str(n))


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        ("ru", [1, 21, 101]),  # one
        ("ru", [2, 3, 4, 22]),  # few
        ("ru", [5, 11, 12, 25, 100]),  # many
        ("uk", [1, 21]),
        ("uk", [2, 24]),
        ("uk", [5, 11, 14]),
    ],
)
def test_slavic_plurals_of_new_posts(language: str, counts: list[int]) -> None:
    """Each group shares one form with its count swapped in; the groups differ."""
    shapes = {_script_plural(language, "new", n).replace(str(n), "N", 1) for n in counts}
    assert len(shapes) == 1, shapes
    others = {_script_plural(language, "new", n).replace(str(n), "N", 1) for n in (1, 2, 5)}
    assert len(others) == 3, others


def test_arabic_has_six_distinct_forms() -> None:
    forms = {_script_plural("ar", "new", n).replace(str(n), "N") for n in (0, 1, 2, 3, 11, 100)}
    assert len(forms) == 6, forms


def test_script_strings_and_dates_speak_the_language() -> None:
    german = json.loads(i18n.language("de").script_strings())
    assert german["lang"] == "de"
    assert german["share"] != "Share"
    with i18n.speaking("ar") as arabic:
        assert arabic.direction == "rtl"
        assert "نوفمبر" in i18n.human("2026-11-27T14:05:00Z")
    with i18n.speaking("de-AT") as austrian:
        assert austrian.catalogue == "de"
        assert i18n.gettext("Key event") == i18n.language("de").gettext("Key event")
    with i18n.speaking("xx-unknown") as unknown:
        assert unknown.tag == "en"
        assert i18n.gettext("Key event") == "Key event"
