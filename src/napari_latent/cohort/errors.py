"""Errors that tell the user which file, which subject and what is wrong."""

from __future__ import annotations

from os import PathLike


class CohortError(ValueError):
    """Invalid cohort data; the message names the file and subject when known."""

    def __init__(self, message: str, *, path: str | PathLike | None = None, subject: object = None):
        self.path = None if path is None else str(path)
        self.subject = subject
        where = []
        if self.path is not None:
            where.append(f"file {self.path!s}")
        if subject is not None:
            where.append(f"subject {subject!s}")
        self.reason = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class StoreExistsError(CohortError, FileExistsError):
    """Raised instead of overwriting a store the user has."""
