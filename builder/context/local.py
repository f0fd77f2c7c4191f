"""A client-side directory as the build context (``pybuild build DIR``).

May import: builder.context.base.
"""

from __future__ import annotations

from pathlib import Path

from builder.context.base import DirContext

__all__ = ["LocalContext"]


class LocalContext(DirContext):
    """The directory ``path`` read in place; ``dockerfile_path`` is relative to it
    or absolute (``-f`` pointing anywhere); the directory is never removed."""

    def __init__(self, path: Path, dockerfile_path: str | None = None) -> None:
        super().__init__(Path(path), dockerfile_path)
