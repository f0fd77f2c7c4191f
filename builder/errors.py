"""Errors the builder reports to users (exit code 1 unless said otherwise).

May import: stdlib only.

    PybuildError            a failure with a one-line message and an optional hint
    ├── UsageError          bad command-line input (exit code 2)
    ├── StoreError          the root directory, content or image store refused an operation
    │   └── NotFoundError   no such image, blob or reference
    └── InvalidInputError   a hostile or malformed archive, layer, manifest or config
"""

from __future__ import annotations

__all__ = ["InvalidInputError", "NotFoundError", "PybuildError", "StoreError", "UsageError"]


class PybuildError(Exception):
    """A failure shown to the user as ``error: <message>`` plus ``hint: …``."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class UsageError(PybuildError):
    exit_code = 2


class StoreError(PybuildError):
    pass


class NotFoundError(StoreError):
    pass


class InvalidInputError(PybuildError):
    pass
