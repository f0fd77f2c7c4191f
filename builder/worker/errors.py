"""Errors of file operations: a COPY/ADD/mkdir/rm that cannot be applied.

May import: builder.errors.

    PybuildError
    └── FileOpError         a file action failed (missing source, bad target, bad owner)
"""

from __future__ import annotations

from builder.errors import PybuildError

__all__ = ["FileOpError"]


class FileOpError(PybuildError):
    """A file action could not be applied; the message names the path."""
