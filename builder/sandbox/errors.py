"""Errors of the sandbox: a step that could not be set up, as opposed to one that failed.

May import: builder.errors.

    PybuildError
    └── SandboxError         the sandbox could not be prepared or torn down
"""

from __future__ import annotations

from builder.errors import PybuildError

__all__ = ["SandboxError"]


class SandboxError(PybuildError):
    """The step never ran (or was not cleaned up) because the sandbox itself failed."""
