"""The audit log of staff actions: what each action leaves (one entry, its actor, action
and target), failed sign-ins, who may read it, its filters, and how long it is kept."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liveticker.cli import main
from liveticker.domain import accounts, audit
from liveticker.domain.accounts import Actor
from liveticker.exceptions import ValidationFailed
from liveticker.live import scheduler
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import ApiToken, AuditEntry, LoginSession, User
from liveticker.web.app import create_app
from tests.conftest import Account

PASSWORD = "correct horse battery"
WRONG = "not-the-password-1234"


class Log:
    """The audit log as the admin reads it through the API, step by step: each `expect`
    checks exactly what was added since the previous one."""

    def __init__(self, client: TestClient, admin: Account) -> None:
        self.client = client
        self.admin = admin
        self.seen = max((e["id"] for e in self.all()), default=0)

    def all(self, **filters: Any) -> list[dict[str, Any]]:
        response = self.client.get(
            "/api/v1/audit", params={"limit": 500, **filters}, headers=self.admin.headers
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    def expect(self, *entries: tuple[str, str, str]) -> list[dict[str, Any]]:
        """(user, action, target) of each new entry, oldest first."""
        new = [e for e in reversed(self.all()) if e["id"] > self.seen]
        assert [(e["user"], e["action"], e["target"]) for e in new] == list(entries)
        self.seen = max((e["id"] for e in new), default=self.seen)
        return new


def desk_sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    client.cookies.clear()
    return client.post(
        "/login", data={"username": username, "password": password}, follow_redirects=False
    )


def csrf_of(client: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/desk/account").text)
    assert match is not None
    return match.group(1)


def _sessions(database: Database, username: str) -> int:
    with database.transaction(write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(LoginSession)
                .join(User, User.id == LoginSession.user_id)
                .where(User.username == username)
            )
            or 0
        )


def test_each_staff_action_through_the_api_leaves_one_entry(
    client: TestClient, accounts_by_role: dict[str, Account]
) -> None:
    log = Log(client, accounts_by_role["admin"])
    signed = client.post(
        "/api/v1/tokens", json={"username": "editor", "password": PASSWORD, "label": "laptop"}
    )
    assert signed.status_code == 201
    [entry] = log.expect(("editor", "session.sign_in", "user:editor"))
    assert entry["reason"] == "API token 'laptop'"
    assert signed.json()["token"] not in repr(log.all())
    editor = {"Authorization": f"Bearer {signed.json()['token']}"}

    def call(method: str, path: str, body: Any = None) -> None:
        response = client.request(method, "/api/v1" + path, json=body, headers=editor)
        assert response.status_code < 300, response.text

    call("POST", "/blogs", {"slug": "storm", "title": "Storm"})
    log.expect(("editor", "blog.create", "blog:storm"))
    call("POST", "/blogs/storm/members", {"username": "contributor"})
    log.expect(("editor", "team.add", "blog:storm"))
    call("PATCH", "/blogs/storm", {"title": "Storm Idris"})
    [entry] = log.expect(("editor", "blog.update", "blog:storm"))
    assert entry["reason"] == "title"
    call("PATCH", "/blogs/storm", {"title": "Storm Idris"})  # no change, nothing to record
    log.expect()
    call("POST", "/blogs/storm/publish")
    log.expect(("editor", "blog.publish", "blog:storm"))
    made = client.post("/api/v1/blogs/storm/posts", json={"body": "Rising."}, headers=editor)
    log.expect()  # writing posts is the newsroom's everyday work, not an audited action
    post_id = made.json()["id"]
    call("DELETE", f"/blogs/storm/posts/{post_id}", {"reason": "quotes a victim's name"})
    [entry] = log.expect(("editor", "post.delete", f"post:{post_id}"))
    assert entry["reason"] == "was published"  # not the reason, which a purge must erase
    call("POST", "/blogs/storm/close")
    log.expect(("editor", "blog.close", "blog:storm"))
    call("POST", "/blogs/storm/reopen")
    log.expect(("editor", "blog.reopen", "blog:storm"))
    call("DELETE", "/blogs/storm/members/contributor")
    log.expect(("editor", "team.remove", "blog:storm"))


def test_refused_actions_leave_no_entry(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account]
) -> None:
    make_blog("storm")
    log = Log(client, accounts_by_role["admin"])
    contributor = accounts_by_role["contributor"].headers
    editor = accounts_by_role["editor"].headers
    assert client.post("/api/v1/blogs/storm/close", headers=contributor).status_code == 403
    assert client.post("/api/v1/blogs/storm/publish", headers=editor).status_code == 409
    taken = {"slug": "storm", "title": "Again"}
    assert client.post("/api/v1/blogs", json=taken, headers=editor).status_code == 409
    log.expect()


def test_each_staff_action_on_the_desk_leaves_one_entry(
    client: TestClient, database: Database, accounts_by_role: dict[str, Account]
) -> None:
    log = Log(client, accounts_by_role["admin"])
    assert desk_sign_in(client, "editor").status_code == 303
    [entry] = log.expect(("editor", "session.sign_in", "user:editor"))
    assert entry["reason"] == "desk"
    csrf = csrf_of(client)
    made = client.post("/desk/account/tokens", data={"csrf": csrf, "label": "phone"})
    assert made.status_code == 200
    [entry] = log.expect(("editor", "token.create", "user:editor"))
    assert entry["reason"] == "label 'phone'"
    secret = re.search(r'id="new-token">([^<]+)<', made.text)
    assert secret is not None
    assert secret.group(1) not in repr(log.all())
    with database.transaction(write=False) as session:
        token_id = session.scalar(select(func.max(ApiToken.id)))
    client.post(f"/desk/account/tokens/{token_id}/revoke", data={"csrf": csrf})
    log.expect(("editor", "token.revoke", "user:editor"))

    desk = {"csrf": csrf}
    client.post("/desk/blogs", data={**desk, "title": "Storm", "slug": "storm"})
    log.expect(("editor", "blog.create", "blog:storm"))
    client.post("/desk/blogs/storm/publish", data=desk)
    log.expect(("editor", "blog.publish", "blog:storm"))
    client.post("/desk/blogs/storm/settings", data={**desk, "title": "Storm Idris"})
    log.expect(("editor", "blog.update", "blog:storm"))
    client.post("/desk/blogs/storm/posts", data={**desk, "body": "Rising.", "action": "publish"})
    post_id = re.search(r'id="desk-post-(\d+)"', client.get("/desk/blogs/storm").text)
    assert post_id is not None
    client.post(
        f"/desk/blogs/storm/posts/{post_id.group(1)}/delete", data={**desk, "reason": "wrong"}
    )
    log.expect(("editor", "post.delete", f"post:{post_id.group(1)}"))
    client.post("/desk/blogs/storm/close", data=desk)
    log.expect(("editor", "blog.close", "blog:storm"))
    client.post("/desk/blogs/storm/reopen", data=desk)
    log.expect(("editor", "blog.reopen", "blog:storm"))
    # A refused desk action (the blog is live already) leaves nothing behind.
    assert client.post("/desk/blogs/storm/publish", data=desk).status_code == 409
    log.expect()


def test_a_failed_sign_in_to_a_staff_account_is_recorded_and_opens_nothing(
    client: TestClient, database: Database, accounts_by_role: dict[str, Account]
) -> None:
    log = Log(client, accounts_by_role["admin"])
    refused = desk_sign_in(client, "editor", WRONG)
    assert refused.status_code == 401
    assert "set-cookie" not in refused.headers
    [entry] = log.expect(("editor", "session.sign_in_failed", "user:editor"))
    assert entry["reason"] == "desk: wrong password"
    assert _sessions(database, "editor") == 0
    # Through the API the refusal is an error the request's transaction would roll back:
    # the entry survives it, and the answer is the same as for an unknown name.
    api = client.post("/api/v1/tokens", json={"username": "Editor", "password": WRONG})
    unknown = client.post("/api/v1/tokens", json={"username": "nobody", "password": WRONG})
    assert api.status_code == unknown.status_code == 401
    assert api.json() == unknown.json()
    [entry] = log.expect(("editor", "session.sign_in_failed", "user:editor"))
    assert entry["reason"] == "API token 'login': wrong password"
    with database.transaction(write=False) as session:
        tokens = session.scalar(select(func.count()).select_from(ApiToken))
    assert tokens == len(accounts_by_role)  # no token was made
    assert WRONG not in repr(log.all())


def test_disabled_staff_and_readers(
    client: TestClient, database: Database, accounts_by_role: dict[str, Account]
) -> None:
    with database.transaction() as session:
        accounts.create_user(session, username="reader1", password=PASSWORD, role="reader")
        session.scalars(select(User).where(User.username == "other")).one().is_active = False
    log = Log(client, accounts_by_role["admin"])
    assert desk_sign_in(client, "other").status_code == 401  # the right password
    [entry] = log.expect(("other", "session.sign_in_failed", "user:other"))
    assert entry["reason"] == "desk: the account is disabled"
    # Readers are the public: signing in to rate notes is not the newsroom's to record.
    assert desk_sign_in(client, "reader1", WRONG).status_code == 401
    assert desk_sign_in(client, "reader1").status_code == 303
    assert client.post(
        "/api/v1/tokens", json={"username": "reader1", "password": PASSWORD}
    ).is_success
    log.expect()
    assert _sessions(database, "reader1") == 1


def test_only_admins_read_it_and_nothing_caches_it(
    client: TestClient, accounts_by_role: dict[str, Account]
) -> None:
    assert client.get("/api/v1/audit").status_code == 401
    for role in ("editor", "contributor"):
        headers = accounts_by_role[role].headers
        assert client.get("/api/v1/audit", headers=headers).status_code == 403
        # A filter is no way around it, nor a way to learn which accounts exist.
        asked = client.get("/api/v1/audit?user=nobody", headers=headers)
        assert asked.status_code == 403
    answer = client.get("/api/v1/audit", headers=accounts_by_role["admin"].headers)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"


def test_filters(
    client: TestClient, database: Database, accounts_by_role: dict[str, Account]
) -> None:
    admin = accounts_by_role["admin"].headers
    for slug in ("storm", "flood"):
        body = {"slug": slug, "title": slug}
        assert client.post("/api/v1/blogs", json=body, headers=admin).status_code == 201
    editor = accounts_by_role["editor"].headers
    joined = client.post("/api/v1/blogs/flood/members", json={"username": "editor"}, headers=admin)
    assert joined.status_code == 201
    assert client.post("/api/v1/blogs/flood/publish", headers=editor).status_code == 200
    desk_sign_in(client, "editor", WRONG)
    log = Log(client, accounts_by_role["admin"])

    def actions(**filters: Any) -> list[str]:
        return [e["action"] for e in reversed(log.all(**filters))]

    assert actions(user="editor") == ["blog.publish", "session.sign_in_failed"]
    assert actions(user="admin", action="blog.") == ["blog.create", "blog.create"]
    assert actions(blog="flood") == ["blog.create", "team.add", "blog.publish"]
    assert actions(action="session.sign_in") == ["session.sign_in_failed"]
    assert actions(action="team_") == []  # "_" is a character, not a wildcard
    assert actions(user="editor", blog="storm") == []
    assert len(log.all(limit=2)) == 2
    assert log.all(limit=2) == log.all()[:2]  # the newest
    with database.transaction() as session:  # one entry from last month
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).first()
        assert entry is not None
        entry.created_at = datetime.now(UTC) - timedelta(days=30)
    recent = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert len(log.all(since=recent)) == len(log.all()) - 1
    assert log.all(since="2000-01-01T00:00:00+02:00") == log.all()
    assert log.all(since=(datetime.now(UTC) + timedelta(hours=1)).isoformat()) == []

    for name, value in (
        ("user", "nobody"),
        ("user", "Not a name!"),
        ("blog", "nope"),
        ("blog", "Not A Slug"),
        ("action", "blog%"),
        ("action", "Blog."),
        ("since", "yesterday"),
        ("since", "2026-13-01"),
        ("since", "0001-01-01T00:00:00+05:00"),
        ("since", "\x00"),
    ):
        bad = client.get("/api/v1/audit", params={name: value}, headers=admin)
        assert bad.status_code == 422, (name, value)
        assert bad.json()["error"]["field"] == name, bad.text
    for name, value in (("user", "x" * 41), ("since", "2" * 41), ("limit", "0")):
        bad = client.get("/api/v1/audit", params={name: value}, headers=admin)
        assert bad.status_code == 422, (name, value)


def _entries_aged(database: Database, *days: int) -> datetime:
    """One entry of each age (in days, before now); returns now."""
    now = datetime.now(UTC)
    with database.transaction() as session:
        user = accounts.create_user(session, username="chief", password=PASSWORD, role="admin")
        actor = Actor.of(user)
        for age in sorted(days, reverse=True):  # the oldest first, as time would have it
            audit.record(
                session,
                actor=actor,
                action="user.role",
                target=f"user:aged-{age}",
                reason="",
                now=now - timedelta(days=age),
            )
    return now


def _targets(database: Database) -> list[str]:
    with database.transaction(write=False) as session:
        return sorted(session.scalars(select(AuditEntry.target)))


def test_prune_deletes_only_what_is_older_than_the_retention(database: Database) -> None:
    now = _entries_aged(database, 0, 29, 31, 400)
    with database.transaction() as session:
        assert audit.prune(session, older_than_days=30, now=now) == 2
    assert _targets(database) == ["user:aged-0", "user:aged-29"]
    with database.transaction() as session:
        assert audit.prune(session, older_than_days=30, now=now) == 0  # idempotent
        assert audit.prune(session, older_than_days=0, now=now + timedelta(days=999)) == 0
        with pytest.raises(ValidationFailed):
            audit.prune(session, older_than_days=-1, now=now)
    assert _targets(database) == ["user:aged-0", "user:aged-29"]  # 0: kept forever


def test_the_server_prunes_once_a_day_in_one_process(database: Database) -> None:
    now = _entries_aged(database, 1, 10)
    assert scheduler.prune_audit(database, retention_days=5, holder="web-1", now=now) == 1
    # Another process the same day finds the lease held and leaves it alone.
    later = now + timedelta(hours=3)
    assert scheduler.prune_audit(database, retention_days=1, holder="web-2", now=later) is None
    assert _targets(database) == ["user:aged-1"]
    tomorrow = now + timedelta(days=1, seconds=1)
    assert scheduler.prune_audit(database, retention_days=1, holder="web-2", now=tomorrow) == 1


@pytest.mark.parametrize("retention", [7, 0])
def test_the_running_server_prunes_at_its_start(database: Database, retention: int) -> None:
    _entries_aged(database, 0, 8)
    settings = Settings(
        database_url=database.url, scheduler_seconds=0.05, audit_retention_days=retention
    )
    with TestClient(create_app(settings, database=database)):
        deadline = time.monotonic() + 10
        while len(_targets(database)) == 2 and time.monotonic() < deadline and retention:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more rounds: they must not prune again or more
    expected = ["user:aged-0"] if retention else ["user:aged-0", "user:aged-8"]
    assert _targets(database) == expected


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("LIVETICKER_DATABASE_URL", url)
    database = Database(url)
    database.upgrade()
    try:
        _entries_aged(database, 0, 3, 50)
        with database.transaction() as session:
            accounts.create_user(session, username="maria", password=PASSWORD, role="editor")
    finally:
        database.dispose()

    def run(*args: str) -> tuple[int, list[str]]:
        result = CliRunner().invoke(main, ["audit", *args])
        assert "Traceback" not in result.output
        return result.exit_code, result.output.strip().splitlines()

    code, lines = run("list", "--as", "chief", "--since", "2000-01-01")
    assert code == 0
    assert [line.split()[-1] for line in lines] == ["user:aged-0", "user:aged-3", "user:aged-50"]
    assert lines[0].split()[3:5] == ["chief", "user.role"]
    code, lines = run("list", "--as", "chief", "--action", "blog.", "--user", "chief")
    assert (code, lines) == (0, [])
    for option, value, message in (
        ("--since", "last week", "since must be an ISO 8601 date or time"),
        ("--user", "nobody", "no user named 'nobody'"),
        ("--blog", "nope", "no blog 'nope'"),
    ):
        code, lines = run("list", "--as", "chief", option, value)
        assert code == 1
        assert len(lines) == 1, lines
        assert message in lines[0]
    code, lines = run("list", "--as", "maria")
    assert code == 1  # editors may not read it
    assert len(lines) == 1, lines

    monkeypatch.setenv("LIVETICKER_AUDIT_RETENTION_DAYS", "0")
    assert run("prune") == (
        0,
        ["the audit log is kept forever (retention 0 days): nothing deleted"],
    )
    monkeypatch.setenv("LIVETICKER_AUDIT_RETENTION_DAYS", "10")
    assert run("prune") == (0, ["deleted 1 audit entries older than 10 days"])
    assert run("prune", "--older-than-days", "2") == (
        0,
        ["deleted 1 audit entries older than 2 days"],
    )
    code, lines = run("prune", "--older-than-days", "-1")
    assert code == 2  # click's own refusal of an option out of range, in one usage message
    code, lines = run("list", "--as", "chief")
    assert [line.split()[-1] for line in lines] == ["user:aged-0"]
