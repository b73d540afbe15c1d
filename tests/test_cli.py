"""The `liveticker` command against a real database file, as an operator would use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from liveticker.cli import main
from liveticker.domain import accounts
from liveticker.storage.database import Database
from liveticker.storage.models import Blog


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", url)
    return url


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_user_token_blog_and_post_round_trip(env: str) -> None:
    code, out = run("db", "upgrade")
    assert code == 0, out
    code, out = run(
        "user", "create", "maria", "--role", "editor", "--password-stdin", input="long enough pw\n"
    )
    assert code == 0, out
    assert "created editor maria" in out
    code, token = run("token", "create", "maria")
    assert code == 0
    token = token.strip()
    assert token.startswith("lt_")
    code, out = run(
        "blog",
        "create",
        "storm",
        "--title",
        "Storm",
        "--label",
        "Weather",
        "--publish",
        "--as",
        "maria",
    )
    assert code == 0, out
    assert "live blog /blogs/storm" in out
    code, out = run(
        "post", "create", "storm", "--headline", "Levels", "--body", "4 m", "--as", "maria"
    )
    assert code == 0, out
    assert out.startswith("published post")
    code, out = run("blog", "key-points", "storm", "One", "Two", "--as", "maria")
    assert code == 0, out
    code, out = run("blog", "close", "storm", "--message", "Over.", "--as", "maria")
    assert code == 0
    assert "closed" in out
    code, out = run("blog", "reopen", "storm", "--as", "maria")
    assert code == 0
    assert "live" in out

    database = Database(env)
    with database.transaction() as session:
        actor = accounts.authenticate(session, token)
        assert actor.username == "maria"
    database.dispose()


def test_password_prompt(env: str) -> None:
    code, out = run("user", "create", "ana", input="long enough pw\nlong enough pw\n")
    assert code == 0, out
    assert "created contributor ana" in out


def test_clear_errors_without_tracebacks(env: str) -> None:
    code, out = run("user", "create", "x", "--password-stdin", input="short\n")
    assert code == 1
    assert "username must be" in out
    code, out = run("user", "create", "valid", "--password-stdin", input="short\n")
    assert code == 1
    assert "at least 10 characters" in out
    code, out = run("token", "create", "nobody")
    assert code == 1
    assert "no user named 'nobody'" in out
    run(
        "user",
        "create",
        "rep",
        "--role",
        "contributor",
        "--password-stdin",
        input="long enough pw\n",
    )
    code, out = run("blog", "create", "x", "--title", "X", "--as", "rep")
    assert code == 1
    assert "only editors" in out
    code, out = run("post", "create", "missing", "--body", "x", "--as", "rep")
    assert code == 1
    assert "no blog 'missing'" in out
    code, out = run("blog", "create", "Bad Slug", "--title", "X", "--as", "rep")
    assert code == 1
    assert "slug" in out


def test_contributor_posts_become_drafts(env: str) -> None:
    run("user", "create", "ed", "--role", "editor", "--password-stdin", input="long enough pw\n")
    run("user", "create", "rep", "--password-stdin", input="long enough pw\n")
    run("blog", "create", "storm", "--title", "Storm", "--publish", "--as", "ed")
    code, out = run("post", "create", "storm", "--body", "from the field", "--as", "rep")
    assert code == 1
    assert "you are not on the team of blog 'storm'" in out
    assert run("blog", "team", "add", "storm", "rep", "--as", "rep")[0] == 1  # not the creator
    assert run("blog", "team", "add", "storm", "rep", "--as", "ed") == (0, "storm: added rep\n")
    assert run("blog", "team", "list", "storm", "--as", "rep")[1].startswith("ed\teditor")
    code, out = run("post", "create", "storm", "--body", "from the field", "--as", "rep")
    assert code == 0, out
    assert out.startswith("draft post")


def _blog_fields(url: str, slug: str) -> tuple[str, list[str], str, int]:
    database = Database(url)
    try:
        with database.transaction(write=False) as session:
            blog = session.scalars(select(Blog).where(Blog.slug == slug)).one()
            return blog.language, list(blog.translations), blog.theme, blog.version
    finally:
        database.dispose()


def test_a_blogs_language_siblings_and_look(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run("user", "create", "ed", "--role", "editor", "--password-stdin", input="long enough pw\n")
    code, out = run(
        "blog", "create", "sturm", "--title", "Sturm", "--language", "de-at",
        "--translation", "storm", "--translation", "burya", "--theme", "night", "--as", "ed",
    )  # fmt: skip
    assert code == 0, out
    assert _blog_fields(env, "sturm")[:3] == ("de-AT", ["storm", "burya"], "night")

    monkeypatch.setenv("LIVETICKER_DEFAULT_LANGUAGE", "fa")
    assert run("blog", "create", "tufan", "--title", "T", "--as", "ed")[0] == 0
    assert _blog_fields(env, "tufan")[:3] == ("fa", [], "")

    version = _blog_fields(env, "sturm")[3]
    code, out = run(
        "blog", "update", "sturm", "--language", "de", "--no-translations", "--theme", "",
        "--as", "ed",
    )  # fmt: skip
    assert (code, out) == (0, "sturm: changed (language de)\n")
    language, translations, theme, changed = _blog_fields(env, "sturm")
    assert (language, translations, theme) == ("de", [], "")
    assert changed > version
    code, out = run("blog", "update", "sturm", "--translation", "storm", "--as", "ed")
    assert code == 0, out
    assert _blog_fields(env, "sturm")[1] == ["storm"]
    assert run("blog", "update", "sturm", "--language", "de", "--as", "ed") == (
        0,
        "sturm: unchanged (language de)\n",
    )

    for args, problem in (
        (("create", "x", "--title", "X", "--language", "klingon"), "'klingon' is not a language"),
        (("create", "x", "--title", "X", "--theme", "Dark"), "theme: must be a theme's name"),
        (("create", "x", "--title", "X", "--translation", "x"), "'x' is this blog itself"),
        (("update", "sturm", "--language", "xx-!!"), "language: must be a language tag"),
        (("update", "sturm", "--translation", "sturm"), "'sturm' is this blog itself"),
        (("update", "sturm", "--translation", "Bad Slug"), "is not a blog's address"),
        (("update", "sturm", "--translation", "a", "--no-translations"), "contradict"),
        (("update", "sturm"), "nothing to change"),
    ):
        code, out = run("blog", *args, "--as", "ed")
        assert code != 0, args
        assert problem in out, (args, out)
    assert _blog_fields(env, "sturm")[:3] == ("de", ["storm"], "")

    monkeypatch.setenv("LIVETICKER_DEFAULT_LANGUAGE", "klingon")
    code, out = run("blog", "create", "x", "--title", "X", "--as", "ed")
    assert code == 1
    assert "LIVETICKER_DEFAULT_LANGUAGE 'klingon' is not a language tag" in out


def test_bad_setting_is_a_clear_error(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVETICKER_PORT", "eighty")
    code, out = run("db", "upgrade")
    assert code == 1
    assert "LIVETICKER_PORT must be a whole number" in out


def test_help_lists_every_command() -> None:
    code, out = run("--help")
    assert code == 0
    for command in ("serve", "db", "user", "token", "blog", "post", "demo"):
        assert command in out


def test_post_scheduled_from_the_command_line(env: str) -> None:
    run("user", "create", "ed", "--role", "editor", "--password-stdin", input="long enough pw\n")
    run("user", "create", "rep", "--password-stdin", input="long enough pw\n")
    run("blog", "create", "storm", "--title", "Storm", "--publish", "--as", "ed")
    run("blog", "team", "add", "storm", "rep", "--as", "ed")
    code, out = run(
        "post", "create", "storm", "--body", "x", "--publish-at", "2099-01-01T09:00Z", "--as", "ed"
    )
    assert code == 1
    assert "publish_at may be at most 366 days ahead" in out
    code, out = run(
        "post", "create", "storm", "--body", "x", "--publish-at", "2001-01-01T09:00Z", "--as", "ed"
    )
    assert code == 1
    assert "publish_at must be in the future" in out
    soon = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    code, out = run(
        "post", "create", "storm", "--body", "x", "--publish-at", soon.isoformat(), "--as", "rep"
    )
    assert code == 1
    assert "an editor publishes or schedules" in out
    code, out = run(
        "post", "create", "storm", "--body", "x", "--publish-at", soon.isoformat(), "--as", "ed"
    )
    assert code == 0, out
    assert out.startswith(f"scheduled post 1 for {soon.isoformat().replace('+00:00', 'Z')}:")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "LIVETICKER_DATABASE_URL is not a database URL: 'nonsense'"),
        ("mysql://user@localhost/news", "only sqlite:// and postgresql:// databases"),
        ("sqlite:////nonexistent/dir/x.db", "folder of the SQLite database does not exist"),
        (
            "postgresql://postgres@127.0.0.1:1/test",
            "PostgreSQL at 127.0.0.1:1 (database test) did not answer",
        ),
    ],
)
@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["serve"], ["audit", "list", "--as", "chief"]]
)
def test_a_database_url_that_cannot_work_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str, command: list[str]
) -> None:
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", url)
    result = CliRunner().invoke(main, command)
    assert isinstance(result.exception, SystemExit), result.exception  # no exception escaped
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
