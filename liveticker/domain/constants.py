"""Plain values the command line needs to declare its options: roles and input bounds.

They live apart from `inputs.py` (pydantic), `accounts.py` (argon2, SQLAlchemy) and
`audit.py`, which take them from here, because click builds every option when
`liveticker.cli` is imported: `liveticker --help` must not load the domain to show them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    CONTRIBUTOR = "contributor"
    # A reader's account: writes and rates community notes, nothing of the newsroom's.
    READER = "reader"


MAX_AUDIT_ENTRIES = 500  # entries in one answer of the audit log
MAX_ROW_ID = 2**31 - 1  # row ids: PostgreSQL's INTEGER; a larger one is no row
# A hundred years: longer is "forever", which is 0; and timedelta overflows far beyond.
MAX_AUDIT_RETENTION_DAYS = 36_500
