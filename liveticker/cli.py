"""The `liveticker` command: run the server, manage the schema and accounts, publish posts.

Every command reads the same settings as the server (LIVETICKER_* variables), so
`LIVETICKER_DATABASE_URL=postgresql://… liveticker user create …` works against production.
Each command imports the domain, the database layer and the web stack it needs when it
runs, not when this module loads: `liveticker --help` answers without loading them.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

import click

from liveticker import __version__
from liveticker.clipaths import OutputDir, OutputFile, os_error_line
from liveticker.domain.constants import (
    MAX_AUDIT_ENTRIES,
    MAX_AUDIT_RETENTION_DAYS,
    MAX_ROW_ID,
    Role,
)
from liveticker.exceptions import LivetickerError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from liveticker.domain.accounts import Actor
    from liveticker.settings import Settings
    from liveticker.storage.database import Database
    from liveticker.storage.models import Blog

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and validation errors into one clear line and exit status 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as exc:
            line = _error_line(exc)
            if line is None:  # a bug: its traceback is what a report needs
                raise
            raise click.ClickException(line) from None

    return wrapper


def _error_line(exc: Exception) -> str | None:
    """The one line for an error the user can act on, or None."""
    if isinstance(exc, LivetickerError):
        return exc.message
    if isinstance(exc, UnicodeDecodeError):  # standard input in another encoding
        return f"the input is not UTF-8 text (byte {exc.start})"
    if isinstance(exc, OSError):  # a file that could not be read or written, a full disk
        return os_error_line(exc)
    # Imported here: the command that raised it has loaded pydantic already.
    from pydantic import ValidationError

    from liveticker.domain.inputs import describe_problems

    if isinstance(exc, ValidationError):
        return describe_problems(exc.errors())[1]
    return None


def _settings() -> Settings:
    from liveticker.settings import Settings

    try:
        return Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _database(url: str) -> Database:
    from liveticker.storage.database import Database

    return Database(url)


@contextmanager
def _transaction() -> Iterator[Session]:
    database = _database(_settings().database_url)
    try:
        database.upgrade()
        with database.transaction() as session:
            yield session
    finally:
        database.dispose()


def _actor(session: Session, username: str) -> Actor:
    from liveticker.domain import accounts

    return accounts.Actor.of(accounts.get_user(session, username))


# The `notes` group lives in the scoring package, whose engine loads pandas and scipy (most
# of a second): it is imported when a command names it. `liveticker --help` lists it with
# this line, which tests/test_cli_start.py checks is the group's own.
_NOTES_STAND_IN = click.Command(
    "notes", help="Community notes: the bridging scoring engine and its tools."
)


class _Main(click.Group):
    """The `liveticker` group, which imports the `notes` group when a command names it."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "notes"})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "notes" and "notes" not in self.commands:
            if self._listing:
                return _NOTES_STAND_IN
            _add_notes(self)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing needs each command's one line only.
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="liveticker")
def main() -> None:
    """Liveticker: live blogs for newsrooms, with community notes."""


@main.command()
@click.option("--host", default=None, help="Address to listen on [default: LIVETICKER_HOST]")
@click.option("--port", type=int, default=None, help="Port [default: LIVETICKER_PORT]")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--demo", is_flag=True, help="Create the demo blog and login if the database is empty."
)
@friendly_errors
def serve(host: str | None, port: int | None, workers: int, demo: bool) -> None:
    """Upgrade the schema, then serve the site and the API."""
    import uvicorn

    from liveticker.domain import demo as demo_content

    settings = _settings()
    host = host or settings.host
    port = port or settings.port
    from liveticker.web import themes

    themes.load(settings.themes_file)  # a bad file is one line here, not a worker's traceback
    from liveticker.domain.blogs import site_language

    site_language(settings.default_language)
    database = _database(settings.database_url)
    database.upgrade()
    login = None
    reader = None
    if demo:
        with database.transaction() as session:
            if demo_content.needs_demo(session):
                info = demo_content.create_demo(session)
                login = (info.username, info.password)
                reader = info.reader_username
    database.dispose()
    url = f"http://{host}:{port}/"
    click.echo(f"Liveticker {__version__} on {url}  (database: {_safe_url(settings.database_url)})")
    if demo:
        click.echo(f"Demo blog: {url}blogs/{demo_content.LIVE_BLOG.blog.slug}")
        click.echo(f"Demo blog in Arabic: {url}blogs/{demo_content.ARABIC_SLUG}")
    if login:
        click.echo(
            f"Demo login: {login[0]} / {login[1]}  (desk: {url}login, API: POST {url}api/v1/tokens)"
        )
    if reader:
        click.echo(
            f"Demo reader: {reader} / {demo_content.DEMO_PASSWORD}  (rates community notes: "
            f"{url}notes/needs-help)"
        )
    elif demo:
        click.echo(
            f"Demo login: {demo_content.DEMO_USERNAME} / {demo_content.DEMO_PASSWORD}"
            " (unless you changed or removed it)"
        )
    click.echo(f"API docs: {url}api/v1/docs")
    # Worker processes build their own app from the environment.
    os.environ["LIVETICKER_DATABASE_URL"] = settings.database_url
    from liveticker.web.protocol import raise_open_files_limit

    raise_open_files_limit()  # workers inherit it
    uvicorn.run(
        "liveticker.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop" if sys.platform != "win32" else "auto",
        # httptools with read deadlines and a per-client cap (web/protocol.py).
        http="liveticker.web.protocol:GuardedHttpToolsProtocol",
        log_level=settings.log_level,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


def _safe_url(url: str) -> str:
    from liveticker.storage.database import safe_url

    return safe_url(url)


@main.group()
def db() -> None:
    """The database: schema upgrades and backups."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Bring the schema to the newest version (the server does this on start too)."""
    settings = _settings()
    database = _database(settings.database_url)
    database.upgrade()
    database.dispose()
    click.echo(f"schema up to date on {_safe_url(settings.database_url)}")


@db.command("backup")
@click.argument("file", type=OutputFile(allow_existing=True))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@friendly_errors
def db_backup(file: Path, force: bool) -> None:
    """Copy the database to FILE, consistent, while the server runs.

    SQLite: a copy through SQLite's online backup API, one file that opens as it is.
    PostgreSQL: pg_dump's custom format (restore with pg_restore) when pg_dump is on PATH,
    else the exact pg_dump command to run. Uploaded images are not in it: back up
    LIVETICKER_MEDIA_DIR too (docs/operations.md).
    """
    from liveticker.storage import backup

    click.echo(str(backup.backup(_settings().database_url, target=file, force=force)))


def _progress(table: str, rows: int) -> None:
    click.echo(f"{table}: {rows} rows", err=True)


@main.command("export")
@click.option(
    "--out",
    required=True,
    type=OutputFile(allow_dash=True, allow_existing=True),
    help="File to write (JSON lines); '-' writes to standard output.",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@click.option(
    "--allow-missing-media",
    is_flag=True,
    help="Export even when image files are missing from LIVETICKER_MEDIA_DIR (without them).",
)
@friendly_errors
def export_command(out: Path, force: bool, allow_missing_media: bool) -> None:
    """Write all content to one file: blogs, posts, history, accounts, notes, images.

    `liveticker import` loads it into a new database, SQLite or PostgreSQL: how a newsroom
    moves (docs/operations.md). Read from one snapshot while the server runs; sign-ins,
    reader counts and leases are left out.
    """
    from liveticker.storage import backup, transfer

    settings = _settings()
    database = _database(settings.database_url)
    options: dict[str, Any] = {
        "media_dir": settings.media_path,
        "allow_missing_media": allow_missing_media,
        "progress": _progress if sys.stderr.isatty() else None,
        "warn": lambda message: click.echo(message, err=True),
    }
    try:
        if str(out) == "-":
            made = transfer.export_database(database, out=sys.stdout.buffer, **options)
        else:
            with backup.new_file(out, force=force) as partial, partial.open("wb") as stream:
                made = transfer.export_database(database, out=stream, **options)
    finally:
        database.dispose()
    click.echo(f"exported {made} to {out}", err=str(out) == "-")


@main.command("import")
@click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
@friendly_errors
def import_command(file: Path) -> None:
    """Load an export (FILE, or '-' for standard input) into a new, empty database.

    The schema is made first; everything goes in one transaction, with the same ids, so
    a bad line leaves the database empty. Images go to LIVETICKER_MEDIA_DIR.
    """
    from liveticker.storage import transfer

    settings = _settings()
    database = _database(settings.database_url)
    options: dict[str, Any] = {
        "media_dir": settings.media_path,
        "progress": _progress if sys.stderr.isatty() else None,
    }
    try:
        if str(file) == "-":
            made = transfer.import_database(
                database, source=sys.stdin.buffer, name="<stdin>", **options
            )
        else:
            with _open_input(file) as source:
                made = transfer.import_database(database, source=source, name=str(file), **options)
    finally:
        database.dispose()
    click.echo(f"imported {made} into {_safe_url(settings.database_url)}")


@contextmanager
def _open_input(path: Path) -> Iterator[Any]:
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    with stream:
        yield stream


@main.command()
@friendly_errors
def demo() -> None:
    """Create the demo blogs and accounts (only on an empty database)."""
    from liveticker.domain import demo as demo_content

    with _transaction() as session:
        if not demo_content.needs_demo(session):
            raise click.ClickException("the database is not empty; the demo goes into a new one")
        info = demo_content.create_demo(session)
    click.echo(
        f"demo blogs /blogs/{info.blog_slug} and /blogs/{info.arabic_blog_slug} (Arabic); "
        f"login {info.username} / {info.password}"
    )


@main.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default="contributor",
    show_default=True,
)
@click.option("--display-name", default="", help="Name shown with posts.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def user_create(username: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Create an account; the password comes from a prompt or --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from liveticker.domain import accounts

    with _transaction() as session:
        made = accounts.create_user(
            session, username=username, password=password, role=role, display_name=display_name
        )
        click.echo(f"created {made.role} {made.username}")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@friendly_errors
def token_create(username: str, label: str) -> None:
    """Create an API token for USERNAME and print it (it is shown only this once)."""
    from liveticker.domain import accounts

    with _transaction() as session:
        secret = accounts.create_token(
            session, user=accounts.get_user(session, username), label=label
        )
    click.echo(secret)


@main.group()
def blog() -> None:
    """Blogs."""


_LANGUAGE_HELP = "Its language, a BCP 47 tag (en, de-AT, ar)."
_TRANSLATION_HELP = "Slug of a sibling blog in another language (repeatable)."
_THEME_HELP = "Name of one of the site's looks (lowercase, digits, dashes)."


@blog.command("create")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--standfirst", default="")
@click.option("--label", "labels", multiple=True, help="Topic label (repeatable).")
@click.option(
    "--language",
    metavar="TAG",
    default=None,
    help=_LANGUAGE_HELP,
    show_default="LIVETICKER_DEFAULT_LANGUAGE",
)
@click.option(
    "--translation", "translations", metavar="SLUG", multiple=True, help=_TRANSLATION_HELP
)
@click.option(
    "--theme", metavar="NAME", default="", help=_THEME_HELP, show_default="the site's default look"
)
@click.option("--publish", is_flag=True, help="Make it live at once.")
@click.option("--as", "username", required=True, help="Editor account to act as.")
@friendly_errors
def blog_create(
    slug: str,
    title: str,
    standfirst: str,
    labels: tuple[str, ...],
    language: str | None,
    translations: tuple[str, ...],
    theme: str,
    publish: bool,
    username: str,
) -> None:
    """Create a blog."""
    from liveticker.domain import blogs
    from liveticker.domain.inputs import BlogCreate

    data = BlogCreate(
        slug=slug,
        title=title,
        standfirst=standfirst,
        labels=list(labels),
        language=language,
        translations=list(translations),
        theme=theme,
    )
    default_language = _settings().default_language
    with _transaction() as session:
        actor = _actor(session, username)
        made = blogs.create_blog(session, actor=actor, data=data, default_language=default_language)
        if publish:
            blogs.publish_blog(session, actor=actor, blog=made)
        click.echo(f"{made.status} blog /blogs/{made.slug} (short link /p/{made.short_code})")


@blog.command("update")
@click.argument("slug")
@click.option("--title", default=None)
@click.option("--standfirst", default=None)
@click.option("--language", metavar="TAG", default=None, help=_LANGUAGE_HELP)
@click.option(
    "--translation",
    "translations",
    metavar="SLUG",
    multiple=True,
    help=_TRANSLATION_HELP + " Replaces the list; see --no-translations.",
)
@click.option("--no-translations", is_flag=True, help="Link no sibling blogs.")
@click.option("--theme", metavar="NAME", default=None, help=_THEME_HELP + ' "": the default.')
@click.option("--as", "username", required=True, help="Editor account to act as.")
@friendly_errors
def blog_update(
    slug: str,
    title: str | None,
    standfirst: str | None,
    language: str | None,
    translations: tuple[str, ...],
    no_translations: bool,
    theme: str | None,
    username: str,
) -> None:
    """Change a blog's title, standfirst, language, siblings or look.

    What is not given stays as it is."""
    from liveticker.domain import blogs
    from liveticker.domain.inputs import BlogUpdate

    if translations and no_translations:
        raise click.UsageError("--translation and --no-translations contradict each other")
    given: dict[str, object] = {
        "title": title,
        "standfirst": standfirst,
        "language": language,
        "theme": theme,
    }
    if translations or no_translations:
        given["translations"] = list(translations)
    data = BlogUpdate.model_validate(
        {name: value for name, value in given.items() if value is not None}
    )
    if not data.model_fields_set:
        raise click.UsageError("nothing to change: give at least one option besides --as")
    with _transaction() as session:
        actor = _actor(session, username)
        target = blogs.get_blog(session, slug=slug, actor=actor)
        version = target.version
        blogs.update_blog(session, actor=actor, blog=target, data=data)
        changed = "changed" if target.version != version else "unchanged"
        click.echo(f"{target.slug}: {changed} (language {target.language})")


class BlogAction(Protocol):
    def __call__(self, session: Session, *, actor: Actor | None, blog: Blog) -> Blog: ...


def _blog_action(name: str, doc: str) -> None:
    @blog.command(name, help=doc)
    @click.argument("slug")
    @click.option("--as", "username", required=True, help="Editor account to act as.")
    @friendly_errors
    def command(slug: str, username: str) -> None:
        from liveticker.domain import blogs

        actions: dict[str, BlogAction] = {
            "publish": blogs.publish_blog,
            "reopen": blogs.reopen_blog,
        }
        action = actions[name]
        with _transaction() as session:
            actor = _actor(session, username)
            target = blogs.get_blog(session, slug=slug, actor=actor)
            changed = action(session, actor=actor, blog=target)
            click.echo(f"{changed.slug}: {changed.status}")


_blog_action("publish", "Make a draft blog live.")
_blog_action("reopen", "Reopen a closed blog.")


@blog.command("close")
@click.argument("slug")
@click.option("--message", default=None, help="Closing notice shown to readers.")
@click.option("--as", "username", required=True, help="Editor account to act as.")
@friendly_errors
def blog_close(slug: str, message: str | None, username: str) -> None:
    """Close a live blog."""
    from liveticker.domain import blogs
    from liveticker.domain.inputs import CloseInput

    with _transaction() as session:
        actor = _actor(session, username)
        closed = blogs.close_blog(
            session,
            actor=actor,
            blog=blogs.get_blog(session, slug=slug, actor=actor),
            data=CloseInput(message=message),
        )
        click.echo(f"{closed.slug}: {closed.status}")


@blog.command("key-points")
@click.argument("slug")
@click.argument("items", nargs=-1, required=True)
@click.option("--as", "username", required=True, help="Editor account to act as.")
@friendly_errors
def blog_key_points(slug: str, items: tuple[str, ...], username: str) -> None:
    """Replace the key points with ITEMS (Markdown, one argument each)."""
    from liveticker.domain import blogs
    from liveticker.domain.inputs import KeyPointsInput

    with _transaction() as session:
        actor = _actor(session, username)
        target = blogs.get_blog(session, slug=slug, actor=actor)
        blogs.set_key_points(
            session, actor=actor, blog=target, data=KeyPointsInput(items=list(items))
        )
        click.echo(f"{slug}: {len(items)} key points")


@blog.group("team")
def blog_team() -> None:
    """Who works on a blog: editors and contributors act only on their blogs' teams."""


@blog_team.command("add")
@click.argument("slug")
@click.argument("usernames", nargs=-1, required=True)
@click.option("--as", "username", required=True, help="An admin, or the blog's creator.")
@friendly_errors
def blog_team_add(slug: str, usernames: tuple[str, ...], username: str) -> None:
    """Put USERNAMES on the blog's team."""
    from liveticker.domain import blogs, teams

    with _transaction() as session:
        actor = _actor(session, username)
        target = blogs.get_blog(session, slug=slug, actor=actor)
        for name in usernames:
            teams.add_member(session, actor=actor, blog=target, username=name)
    click.echo(f"{slug}: added {', '.join(usernames)}")


@blog_team.command("remove")
@click.argument("slug")
@click.argument("member")
@click.option("--as", "username", required=True, help="An admin, or the blog's creator.")
@friendly_errors
def blog_team_remove(slug: str, member: str, username: str) -> None:
    """Take MEMBER off the blog's team."""
    from liveticker.domain import blogs, teams

    with _transaction() as session:
        actor = _actor(session, username)
        target = blogs.get_blog(session, slug=slug, actor=actor)
        teams.remove_member(session, actor=actor, blog=target, username=member)
    click.echo(f"{slug}: removed {member}")


@blog_team.command("list")
@click.argument("slug")
@click.option("--as", "username", required=True, help="Account to act as.")
@friendly_errors
def blog_team_list(slug: str, username: str) -> None:
    """Show the blog's team (admins work on every blog and are not listed)."""
    from liveticker.domain import blogs, teams

    with _transaction() as session:
        actor = _actor(session, username)
        target = blogs.get_blog(session, slug=slug, actor=actor)
        for user in teams.members(session, actor=actor, blog=target):
            click.echo(f"{user.username}\t{user.role}\t{user.display_name}")


@main.group()
def post() -> None:
    """Posts."""


@post.command("create")
@click.argument("slug")
@click.option("--body", default=None, help="Markdown text; '-' reads standard input.")
@click.option("--headline", default=None)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="A JSON post body as the API takes it ('-' reads standard input).",
)
@click.option("--draft", is_flag=True, help="Save as a draft instead of publishing.")
@click.option(
    "--publish-at",
    metavar="ISO",
    default=None,
    help="Schedule it: the server publishes it then (a future time with its zone, editors).",
)
@click.option("--pin", is_flag=True, help="Pin it above the stream.")
@click.option("--key-event", is_flag=True, help="Mark it as a key event.")
@click.option("--as", "username", required=True, help="Account to act as.")
@friendly_errors
def post_create(
    slug: str,
    body: str | None,
    headline: str | None,
    json_file: Path | None,
    draft: bool,
    publish_at: str | None,
    pin: bool,
    key_event: bool,
    username: str,
) -> None:
    """Write a post (published unless --draft, --publish-at or you are a contributor)."""
    from liveticker.domain import blogs, posts, times
    from liveticker.domain.inputs import PostCreate

    fields = _json_object(json_file) if json_file else {}
    if body is not None:
        fields["body"] = sys.stdin.read() if body == "-" else body
    if headline is not None:
        fields["headline"] = headline
    if draft:
        fields["status"] = "draft"
    if publish_at is not None:
        fields["publish_at"] = publish_at
    if pin:
        fields["pinned"] = True
    if key_event:
        fields["key_event"] = True
    data = PostCreate.model_validate(fields)
    with _transaction() as session:
        actor = _actor(session, username)
        made = posts.create_post(
            session, actor=actor, blog=blogs.get_blog(session, slug=slug, actor=actor), data=data
        )
        when = f" for {times.iso(made.publish_at)}" if made.publish_at else ""
        click.echo(
            f"{made.status} post {made.id}{when}: /blogs/{slug}/posts/{made.id}"
            f" (/p/{made.short_code})"
        )


def _json_object(path: Path) -> dict[str, Any]:
    """A JSON object from a file or standard input, or one line saying what is wrong."""
    name = "standard input" if str(path) == "-" else str(path)
    raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    try:
        fields = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(
            f"{name}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(fields, dict):
        raise click.ClickException(f"{name}: --json must hold a JSON object")
    return fields


@post.command("purge")
@click.argument("slug")
@click.argument("post_id", type=click.IntRange(1, MAX_ROW_ID))
@click.option("--reason", required=True, help="Why (a court order, a victim's identity…).")
@click.option("--as", "username", required=True, help="Admin account to act as.")
@friendly_errors
def post_purge(slug: str, post_id: int, reason: str, username: str) -> None:
    """Legal takedown: erase a post's content and its history's content for good.

    Its page and short link answer 410 Gone; open pages drop it at once. Who did what
    and when remains, with the reason, in the post's history and the audit log.
    """
    from liveticker.domain import blogs, posts
    from liveticker.domain.inputs import PurgeInput

    data = PurgeInput(reason=reason)
    with _transaction() as session:
        actor = _actor(session, username)
        target = posts.get_post(
            session,
            blog=blogs.get_blog(session, slug=slug, actor=actor),
            post_id=post_id,
            actor=actor,
        )
        posts.purge_post(session, actor=actor, post=target, data=data)
    click.echo(f"purged post {post_id} of {slug}")


@main.group("audit")
def audit_group() -> None:
    """The audit log of staff actions: sign-ins, accounts, tokens, blogs, deletions."""


@audit_group.command("list")
@click.option("--user", default=None, help="Only what this account did (or had tried on it).")
@click.option("--action", default=None, help="Only actions starting with this: blog., session.")
@click.option("--blog", default=None, help="Only entries about this blog (its slug).")
@click.option("--since", default=None, help="Only from this ISO 8601 date or time on (UTC).")
@click.option("--limit", type=click.IntRange(1, MAX_AUDIT_ENTRIES), default=50, show_default=True)
@click.option("--as", "username", required=True, help="Admin account to act as.")
@friendly_errors
def audit_list(
    user: str | None,
    action: str | None,
    blog: str | None,
    since: str | None,
    limit: int,
    username: str,
) -> None:
    """Show the newest entries: when, who, what, on what, and why."""
    from liveticker.domain import audit

    with _transaction() as session:
        found = audit.entries(
            session,
            actor=_actor(session, username),
            limit=limit,
            user=user,
            action=action,
            blog=blog,
            since=since,
        )
        for entry in found:
            who = entry.user.username if entry.user else "(deleted account)"
            when = entry.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
            click.echo(f"{when}  {who}  {entry.action}  {entry.target}  {entry.reason}".rstrip())


@audit_group.command("prune")
@click.option(
    "--older-than-days",
    type=click.IntRange(0, MAX_AUDIT_RETENTION_DAYS),
    default=None,
    help="Delete entries older than this; 0: none [default: LIVETICKER_AUDIT_RETENTION_DAYS]",
)
@friendly_errors
def audit_prune(older_than_days: int | None) -> None:
    """Delete entries past their retention now.

    Running servers do this once a day, for LIVETICKER_AUDIT_RETENTION_DAYS.
    """
    days = _settings().audit_retention_days if older_than_days is None else older_than_days
    if days == 0:
        click.echo("the audit log is kept forever (retention 0 days): nothing deleted")
        return
    from liveticker.domain import audit
    from liveticker.storage.models import utcnow

    with _transaction() as session:
        deleted = audit.prune(session, older_than_days=days, now=utcnow())
    click.echo(f"deleted {deleted} audit entries older than {days} days")


@contextmanager
def _notes_database() -> Iterator[Database]:
    """The database for a notes command; an unreachable database or an unwritable file
    ends the command with one line, not a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    database = _database(_settings().database_url)
    try:
        database.upgrade()
        yield database
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error: {str(exc).splitlines()[0]}") from None
    finally:
        database.dispose()


@click.command("run")
@click.option(
    "--now",
    "now_millis",
    type=click.IntRange(min=0),
    help="Scoring time, epoch millis [default: now].",
)
@click.option("--force", is_flag=True, help="Score even when nothing changed since the last run.")
@friendly_errors
def notes_run_command(now_millis: int | None, force: bool) -> None:
    """Score the database's community notes once and store what readers see.

    The same run the server makes every LIVETICKER_NOTES_INTERVAL_SECONDS, under the same
    lease (one process at a time); skipped when nothing changed since the last run.
    """
    from liveticker.live import notes_runner

    with _notes_database() as database:
        outcome = notes_runner.run_once(
            database, settings=_settings(), now_millis=now_millis, force=force
        )
    if not outcome.ran and outcome.reason != notes_runner.UNCHANGED:  # the lease
        raise click.ClickException(outcome.summary())
    click.echo(outcome.summary())


@click.command("export")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=OutputDir(),
    help="Folder to write into (new, or empty).",
)
@click.option(
    "--public", is_flag=True, help="Only what the public may see (the daily download's files)."
)
@click.option(
    "--now",
    "now_millis",
    type=click.IntRange(min=0),
    help="As of this time, epoch millis [default: the last run's].",
)
@friendly_errors
def notes_export_command(out_dir: Path, public: bool, now_millis: int | None) -> None:
    """Write the notes data in X's public TSV format, participant ids for accounts.

    notes.tsv, ratings.tsv, noteStatusHistory.tsv and userEnrollment.tsv: what a run
    scores. `liveticker notes score` on them with the same --now gives the statuses the
    service shows.
    """
    from liveticker.domain import notes_run
    from liveticker.live import notes_runner
    from liveticker.storage.models import utcnow

    settings = _settings()
    with _notes_database() as database, database.transaction(write=False) as session:
        if now_millis is None:
            last = notes_run.last_run(session)
            now_millis = last.now_millis if last else notes_run.millis(utcnow())
        frames = notes_run.export_frames(
            session,
            now_millis=now_millis,
            min_account_age_seconds=settings.notes_min_account_age_seconds,
            threshold=settings.notes_writing_impact,
            public=public,
        )
    out_dir.mkdir(exist_ok=True)
    notes_runner.write_tsvs(frames, out_dir)
    counts = ", ".join(f"{len(frame)} {name}" for name, frame in frames.items())
    click.echo(f"wrote {counts} to {out_dir} as of --now {now_millis}")


def _add_notes(group: click.Group) -> None:
    """The scoring package's `notes` group, with the commands that score the database."""
    try:
        from liveticker.scoring.cli import notes
    except ImportError:  # pragma: no cover - the scoring package is part of every install
        return
    notes.add_command(notes_run_command)
    notes.add_command(notes_export_command)
    group.add_command(notes)
