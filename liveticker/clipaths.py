"""File and folder arguments of the command line, checked before any work starts.

An export that runs for a minute and then fails because its folder is missing wastes the
operator's minute; these click types refuse such a path at once, with one line that says
what is wrong and what to do. They import nothing but click, so every command (the
scoring engine's included) may use them. Writing can still fail later (a full disk, a
read-only mount seen only on write); the commands turn that `OSError` into one line too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click


def _refuse(message: str, param: click.Parameter | None) -> click.ClickException:
    """One line, exit status 1: the command was written right; the path is what is wrong
    (click's own usage errors would print the usage around it)."""
    name = param.opts[0] if param is not None and param.opts else None
    return click.ClickException(f"{name}: {message}" if name else message)


def _check_parent(path: Path) -> str | None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        return f"folder {parent} does not exist; create it first"
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {parent}: permission denied"
    return None


class OutputFile(click.ParamType[Path, Any]):
    """A new file to write: its folder exists and is writable; it does not exist yet
    (unless the command was given --force, which it checks itself: `allow_existing`)."""

    name = "file"

    def __init__(self, *, allow_dash: bool = False, allow_existing: bool = False) -> None:
        self.allow_dash = allow_dash
        self.allow_existing = allow_existing

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if self.allow_dash and str(value) == "-":
            return path
        if path.is_dir():
            raise _refuse(f"{path} is a folder; give the name of a file to write", param)
        if path.exists() and not self.allow_existing:
            raise _refuse(f"{path} exists already; choose a new name or remove it first", param)
        problem = _check_parent(path)
        if problem:
            raise _refuse(problem, param)
        return path


class OutputDir(click.ParamType[Path, Any]):
    """A folder to write into: new (its parent exists) or existing, empty and writable."""

    name = "folder"

    def __init__(self, *, must_be_empty: bool = True) -> None:
        self.must_be_empty = must_be_empty

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if path.exists() and not path.is_dir():
            raise _refuse(f"{path} is a file; give a folder", param)
        if path.is_dir():
            if not os.access(path, os.W_OK | os.X_OK):
                raise _refuse(f"cannot write in {path}: permission denied", param)
            if self.must_be_empty and any(path.iterdir()):
                raise _refuse(f"{path} is not empty; give a new or empty folder", param)
            return path
        problem = _check_parent(path)
        if problem:
            raise _refuse(problem, param)
        return path


def os_error_line(exc: OSError) -> str:
    """An OSError as one line: the path and the system's reason."""
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    return f"{where}: {reason}" if where else reason
