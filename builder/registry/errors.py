"""Errors the registry client raises: one line each, with a hint where one helps.

May import: builder.errors.

    PybuildError (builder.errors)
    └── RegistryError           the registry refused or failed a request (exit code 1)
        ├── AuthError           401/403: missing or wrong credentials, or no access
        ├── NotFoundError       404: no such repository, manifest or blob (is also
        │                       a builder.errors.NotFoundError)
        ├── TransportError      connection, TLS or timeout failure after all retries
        └── VerifyError         content whose digest or size differs from what was asked
"""

from __future__ import annotations

from builder.errors import NotFoundError as StoreNotFoundError
from builder.errors import PybuildError

__all__ = ["AuthError", "NotFoundError", "RegistryError", "TransportError", "VerifyError"]


class RegistryError(PybuildError):
    """A registry request failed; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class AuthError(RegistryError):
    """The registry answered 401 or 403."""


class NotFoundError(RegistryError, StoreNotFoundError):
    """The registry answered 404 (also a ``builder.errors.NotFoundError``)."""


class TransportError(RegistryError):
    """The registry could not be reached (connection, TLS, timeout) even after retries."""


class VerifyError(RegistryError):
    """Received content does not match the digest or size it was asked for."""
