"""Signing in to the desk, sessions, CSRF, your own account, and the admins' user management."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from liveticker.domain import accounts
from liveticker.settings import Settings
from liveticker.storage.database import Database
from liveticker.storage.models import LoginSession, User, utcnow
from liveticker.web.app import create_app
from tests.conftest import Account

PASSWORD = "correct horse battery"


def sign_in(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, **extra},
        follow_redirects=False,
    )


def csrf_of(client: TestClient, path: str = "/desk/account") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


@pytest.fixture
def signed_in(client: TestClient, accounts_by_role: dict[str, Account]) -> TestClient:
    assert sign_in(client, "admin").status_code == 303
    return client


def test_desk_pages_need_a_session(client: TestClient) -> None:
    for path in ("/desk", "/desk/account", "/desk/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")
    assert client.post("/logout", follow_redirects=False).status_code == 303  # to /login


def test_sign_in_sets_a_private_cookie_and_goes_where_asked(
    client: TestClient, accounts_by_role: dict[str, Account]
) -> None:
    response = sign_in(client, "editor", next="/desk/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/account"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lt_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on a development machine
    page = client.get("/desk")
    assert page.status_code == 200
    assert "Signed in as" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil", "/blogs"]
)
def test_sign_in_never_redirects_off_the_desk(
    client: TestClient, accounts_by_role: dict[str, Account], target: str
) -> None:
    assert sign_in(client, "editor", next=target).headers["location"] == "/desk"


def test_secure_cookie_behind_https(database: Database) -> None:
    settings = Settings(database_url=database.url, public_url="https://live.example.org")
    with TestClient(create_app(settings, database=database)) as client:
        with database.transaction() as session:
            accounts.create_user(session, username="maria", password=PASSWORD, role="editor")
        response = sign_in(client, "maria")
        assert "Secure" in response.headers["set-cookie"]


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, accounts_by_role: dict[str, Account], database: Database
) -> None:
    wrong = sign_in(client, "editor", "not the password")
    unknown = sign_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password" in wrong.text
    assert wrong.text == unknown.text.replace('value="nobody"', 'value="editor"')
    with database.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_sign_in_attempts_are_limited_per_address_and_per_account(database: Database) -> None:
    with database.transaction() as session:
        accounts.create_user(session, username="maria", password=PASSWORD, role="editor")
    # 50 writes a minute: 5 sign-in attempts a minute per address and per account.
    settings = Settings(database_url=database.url, write_rate_per_minute=50)
    with TestClient(create_app(settings, database=database)) as client:
        answers = [sign_in(client, "maria", "wrong").status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        limited = sign_in(client, "maria")  # even the right password waits its turn
        assert limited.status_code == 429
        assert "try again in" in limited.text
    # Another address, the same account: the account's own limit still holds.
    with TestClient(
        create_app(settings, database=database), client=("203.0.113.9", 5000)
    ) as client:
        app_state = client.app.state.services  # type: ignore[attr-defined]
        for _ in range(5):
            app_state.account_login_limiter.hit("account:maria")
        assert sign_in(client, "maria").status_code == 429
        assert sign_in(client, "someone-else", "wrong").status_code == 401


def test_forms_need_the_sessions_csrf_token(signed_in: TestClient) -> None:
    token = csrf_of(signed_in)
    for data in ({}, {"csrf": "forged"}, {"csrf": token[:-1]}):
        refused = signed_in.post("/desk/account/tokens", data={"label": "x", **data})
        assert refused.status_code == 403, data
    header = signed_in.post("/desk/account/tokens", headers={"X-CSRF-Token": token})
    assert header.status_code == 200
    assert signed_in.post("/desk/account/tokens", data={"csrf": token}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_posts_are_refused(
    signed_in: TestClient, headers: dict[str, str], accounts_by_role: dict[str, Account]
) -> None:
    token = csrf_of(signed_in)
    response = signed_in.post("/desk/account/tokens", data={"csrf": token}, headers=headers)
    assert response.status_code == 403
    assert "other sites" in response.text
    login = signed_in.post(
        "/login", data={"username": "editor", "password": PASSWORD}, headers=headers
    )
    assert login.status_code == 403
    same = signed_in.post(
        "/desk/account/tokens", data={"csrf": token}, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 200


def test_sign_out_and_sign_out_everywhere(
    client: TestClient, accounts_by_role: dict[str, Account], app: Any
) -> None:
    sign_in(client, "editor")
    with TestClient(app) as other:
        sign_in(other, "editor")
        assert other.get("/desk").status_code == 200
        client.post("/desk/account/sign-out-everywhere", data={"csrf": csrf_of(client)})
        assert other.get("/desk", follow_redirects=False).status_code == 303
    assert client.get("/desk", follow_redirects=False).status_code == 303
    sign_in(client, "editor")
    out = client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert 'lt_session=""' in out.headers["set-cookie"]
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_sessions_expire(
    client: TestClient, accounts_by_role: dict[str, Account], database: Database
) -> None:
    sign_in(client, "editor")
    assert client.get("/desk").status_code == 200
    with database.transaction() as session:
        session.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_change_your_own_password(
    client: TestClient, accounts_by_role: dict[str, Account], app: Any
) -> None:
    sign_in(client, "editor")
    with TestClient(app) as other:
        sign_in(other, "editor")
        token = csrf_of(client)
        mismatch = client.post(
            "/desk/account/password",
            data={"csrf": token, "current": PASSWORD, "new": "a new long password", "again": "x"},
        )
        assert mismatch.status_code == 422
        assert 'aria-invalid="true"' in mismatch.text
        wrong = client.post(
            "/desk/account/password",
            data={"csrf": token, "current": "nope", "new": "n" * 12, "again": "n" * 12},
        )
        assert wrong.status_code == 422
        assert "The current password is not right" in wrong.text
        done = client.post(
            "/desk/account/password",
            data={"csrf": token, "current": PASSWORD, "new": "n" * 12, "again": "n" * 12},
        )
        assert done.status_code == 200
        assert "Your password has been changed" in done.text
        assert other.get("/desk", follow_redirects=False).status_code == 303  # signed out
    assert client.get("/desk").status_code == 200  # this session stays
    client.cookies.clear()
    assert sign_in(client, "editor").status_code == 401
    assert sign_in(client, "editor", "n" * 12).status_code == 303


def test_your_own_api_tokens(client: TestClient, accounts_by_role: dict[str, Account]) -> None:
    sign_in(client, "contributor")
    made = client.post("/desk/account/tokens", data={"csrf": csrf_of(client), "label": "script"})
    secret = re.search(r'id="new-token">([^<]+)<', made.text)
    assert secret is not None
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert client.get("/api/v1/blogs/nope", headers=bearer).status_code == 404  # token works
    assert made.headers["cache-control"] == "no-store"
    page = client.get("/desk/account").text
    assert secret.group(1) not in page  # shown once
    token_id = re.search(r"/desk/account/tokens/(\d+)/revoke", page)
    assert token_id is not None
    other = accounts_by_role["other"]
    client.cookies.clear()
    sign_in(client, "other")
    theirs = client.post(
        f"/desk/account/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf_of(client)}
    )
    assert theirs.status_code == 404  # not theirs to revoke
    assert other.username == "other"
    client.cookies.clear()
    sign_in(client, "contributor")
    client.post(f"/desk/account/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf_of(client)})
    assert client.get("/api/v1/blogs/nope", headers=bearer).status_code == 401


def test_only_admins_manage_users(client: TestClient, accounts_by_role: dict[str, Account]) -> None:
    for role in ("editor", "contributor"):
        client.cookies.clear()
        sign_in(client, role)
        assert client.get("/desk/users").status_code == 403
        token = csrf_of(client)
        created = client.post(
            "/desk/users",
            data={"csrf": token, "username": "sneaky", "password": PASSWORD, "role": "admin"},
        )
        assert created.status_code == 403
        assert "Users" not in client.get("/desk").text.split("<main")[1].split("</nav>")[0]


def test_admin_creates_changes_disables_and_resets(
    signed_in: TestClient, app: Any, database: Database, accounts_by_role: dict[str, Account]
) -> None:
    token = csrf_of(signed_in, "/desk/users")
    bad = signed_in.post(
        "/desk/users", data={"csrf": token, "username": "Bad Name!", "password": PASSWORD}
    )
    assert bad.status_code == 422
    assert 'value="Bad Name!"' in bad.text  # nothing typed is lost
    made = signed_in.post(
        "/desk/users",
        data={"csrf": token, "username": "maria", "password": PASSWORD, "role": "contributor"},
        follow_redirects=False,
    )
    assert made.headers["location"] == "/desk/users?done=created"
    with database.transaction(write=False) as session:
        maria = session.scalar(select(User).where(User.username == "maria"))
        assert maria is not None
        maria_id = maria.id
    signed_in.post(f"/desk/users/{maria_id}/role", data={"csrf": token, "role": "editor"})
    with TestClient(app) as browser:
        sign_in(browser, "maria")
        assert "(editor)" in browser.get("/desk").text
        api_token = csrf_of(browser)
        made_token = browser.post("/desk/account/tokens", data={"csrf": api_token})
        secret = re.search(r'id="new-token">([^<]+)<', made_token.text)
        assert secret is not None
        bearer = {"Authorization": f"Bearer {secret.group(1)}"}
        assert browser.get("/api/v1/blogs/nope", headers=bearer).status_code == 404
        # Disabled: the open session and the API token stop at once.
        signed_in.post(f"/desk/users/{maria_id}/disable", data={"csrf": token})
        assert browser.get("/desk", follow_redirects=False).status_code == 303
        assert browser.get("/api/v1/blogs/nope", headers=bearer).status_code == 401
        assert sign_in(browser, "maria").status_code == 401
        signed_in.post(f"/desk/users/{maria_id}/enable", data={"csrf": token})
        assert browser.get("/api/v1/blogs/nope", headers=bearer).status_code == 404
        sign_in(browser, "maria")
        signed_in.post(
            f"/desk/users/{maria_id}/password", data={"csrf": token, "password": "p" * 12}
        )
        assert browser.get("/desk", follow_redirects=False).status_code == 303
        assert sign_in(browser, "maria", "p" * 12).status_code == 303
    admin_id = _id(database, "admin")
    own = signed_in.post(f"/desk/users/{admin_id}/disable", data={"csrf": token})
    assert own.status_code == 409
    assert "you cannot disable your own account" in own.text.lower()
    admin = accounts_by_role["admin"].headers
    audit = signed_in.get("/api/v1/audit?action=user.", headers=admin).json()
    assert [entry["action"] for entry in audit][::-1] == [
        "user.create",
        "user.role",
        "user.disable",
        "user.enable",
        "user.password",
    ]


def _id(database: Database, username: str) -> int:
    with database.transaction(write=False) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return user_id


def test_the_desk_lists_the_blogs_of_your_teams(
    client: TestClient, make_blog: Any, accounts_by_role: dict[str, Account], database: Database
) -> None:
    make_blog("storm", title="Storm over the valley")
    with database.transaction() as session:
        accounts.create_user(session, username="outsider", password=PASSWORD, role="editor")
    sign_in(client, "outsider")
    page = client.get("/desk").text
    assert "Storm over the valley" not in page
    assert "you are on no blog" in page
    for member in ("contributor", "admin"):
        client.cookies.clear()
        sign_in(client, member)
        assert "Storm over the valley" in client.get("/desk").text, member
