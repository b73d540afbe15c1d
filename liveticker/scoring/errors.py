"""Errors the scoring engine raises on purpose, each with a message for the person who ran it.

    ScoringError
    └── ScoringInputError   malformed input file: file, line, column and what is wrong

The CLI prints them without a traceback. They stay apart from liveticker.exceptions
because the engine imports nothing from the service.
"""

from __future__ import annotations


class ScoringError(Exception):
    """Base class of the engine's deliberate errors."""


class ScoringInputError(ScoringError):
    """A malformed input; `line` and `column` are 1-based, 0 when not applicable."""

    def __init__(self, file: str, line: int, column: int, message: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{file}:{line}:{column}: {message}")
