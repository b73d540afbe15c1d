"""The command line starts without the web stack, the database layer or the engine (issue 12).

`liveticker --help` and every command's start pay only for what they use: these tests run
fresh interpreters and look at what got imported, which, unlike a time, does not depend on
how busy the machine is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from liveticker.cli import _NOTES_STAND_IN, main
from liveticker.domain import accounts
from liveticker.exceptions import Unauthorized
from liveticker.storage.database import Database

HEAVY = ("fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy", "alembic", "argon2")
HEAVY += ("pandas", "numpy", "scipy", "matplotlib")


def heavy_imports(code: str) -> list[str]:
    """The heavy packages a fresh interpreter has imported after running `code`."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    found: list[str] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert heavy_imports("import liveticker.cli") == []


def test_the_module_entry_point_is_light() -> None:
    # `python -m liveticker` runs __main__.py, which calls main(); --version ends it.
    code = (
        "import sys; sys.argv = ['liveticker', '--version']\n"
        "try:\n    import liveticker.__main__\nexcept SystemExit:\n    pass"
    )
    assert heavy_imports(code) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["user", "--help"],
        ["user", "create", "--help"],
        ["blog", "publish", "--help"],
        ["audit", "prune", "--help"],
        ["post", "purge", "--help"],
        ["notes", "--help"],
        ["notes", "score", "--help"],
        ["notes", "synth", "--help"],
    ],
)
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    code = (
        "from liveticker.cli import main\n"
        f"main({args!r}, prog_name='liveticker', standalone_mode=False)"
    )
    assert heavy_imports(code) == []


def test_the_notes_line_of_help_is_the_groups_own() -> None:
    from liveticker.scoring.cli import notes

    for width in (45, 200):  # cut to the terminal's width alike, and whole
        assert _NOTES_STAND_IN.get_short_help_str(width) == notes.get_short_help_str(width)
    listing = CliRunner().invoke(main, ["--help"]).output
    assert re.search(rf"^  notes +{re.escape(notes.get_short_help_str(200))}$", listing, re.M)


def test_notes_is_imported_when_a_command_names_it() -> None:
    result = CliRunner().invoke(main, ["notes", "--help"])
    assert result.exit_code == 0, result.output
    # The engine's own commands, and the two the main command adds to the group.
    for name in ("score", "synth", "plot", "run", "export"):
        assert f"\n  {name} " in result.output


def test_accounts_import_computes_no_hash() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from liveticker.domain import accounts; print(accounts._dummy_hash.cache_info())",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "currsize=0" in done.stdout


def test_a_missing_user_is_verified_against_a_hash_of_the_hasher_in_use(
    database: Database,
) -> None:
    accounts._dummy_hash.cache_clear()
    with database.transaction() as session, pytest.raises(Unauthorized):
        accounts.check_password(session, username="nobody", password="whatever it is")
    dummy = accounts._dummy_hash(accounts.password_hasher)
    assert accounts._dummy_hash.cache_info().hits == 1  # made by the refused sign-in
    assert not accounts.password_hasher.check_needs_rehash(dummy)  # same parameters
