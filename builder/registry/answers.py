"""Registry HTTP answers turned into values and errors, and small request helpers.

May import: stdlib, httpx, solver.digest, builder.registry.errors.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import httpx

from builder.registry.errors import (
    AuthError,
    NotFoundError,
    RegistryError,
    TransportError,
)
from solver.digest import Digest, DigestError

__all__ = [
    "BlobInfo",
    "absolute_location",
    "blob_info",
    "check_response",
    "describe_error",
    "errors_text",
    "is_tls_failure",
    "media_type_of",
    "rechunk",
    "unreachable_error",
]


@dataclasses.dataclass(frozen=True)
class BlobInfo:
    """What a blob HEAD says: digest and size."""

    digest: Digest
    size: int


def rechunk(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """Regroup ``chunks`` into pieces of exactly ``size`` bytes (the last may be shorter)."""
    buf = bytearray()
    for piece in chunks:
        buf += piece
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def absolute_location(response: httpx.Response, location: str) -> str:
    """Resolve a (possibly relative) ``Location`` against the request URL.

    Raises:
        RegistryError: the header is missing.
    """
    if not location:
        raise RegistryError("registry started an upload without a Location header")
    return str(response.request.url.join(location))


def blob_info(response: httpx.Response, reference: str) -> BlobInfo:
    """Digest and size from a HEAD answer.

    Raises:
        RegistryError: malformed headers.
    """
    said = response.headers.get("Docker-Content-Digest") or reference
    try:
        return BlobInfo(Digest(said), int(response.headers.get("Content-Length", "0")))
    except (DigestError, ValueError) as exc:
        raise RegistryError(f"registry answered a malformed digest or size for {reference}"
                            ) from exc


def media_type_of(body: bytes, header: str) -> str:
    """The manifest media type: a specific Content-Type, else the body's ``mediaType``."""
    if header and header not in ("application/json", "text/plain",
                                 "application/octet-stream"):
        return header
    try:
        value = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        value = None
    return value if isinstance(value, str) else header


def errors_text(response: httpx.Response) -> str:
    """The distribution ``errors`` body as ``code: message; …`` (or ``HTTP NNN``)."""
    try:
        response.read()
        errors = response.json().get("errors") or []
        parts = [f"{e.get('code', '').lower()}: {e.get('message', '')}".strip(": ")
                 for e in errors if isinstance(e, dict)]
    except (ValueError, AttributeError, httpx.HTTPError):
        parts = []
    return "; ".join(p for p in parts if p) or f"HTTP {response.status_code}"


def check_response(response: httpx.Response, what: str, push: bool = False) -> None:
    """Raise the error a non-2xx answer means (docker's wording for 401/403/404).

    Raises:
        AuthError: 401 or 403.
        NotFoundError: 404.
        RegistryError: any other failure status.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    text = errors_text(response)
    response.close()
    if status in (401, 403):
        hint = "check the credentials with 'pybuild login'"
        if push:
            raise AuthError(f"push access denied for {what}: {text}", hint=hint, status=status)
        raise AuthError(f"pull access denied for {what}: repository does not exist or may "
                        f"require 'pybuild login': {text}", status=status)
    if status == 404:
        raise NotFoundError(f"{what}: not found: {text}", status=status)
    raise RegistryError(f"{what}: registry answered {status}: {text}", status=status)


def describe_error(exc: httpx.TransportError) -> str:
    """A one-line description of a transport failure (TLS verification called out)."""
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return f"TLS certificate verification failed ({text.split('] ')[-1]})"
    return text


def is_tls_failure(errors: list[str]) -> bool:
    """True when the last endpoint failed certificate verification (no point retrying)."""
    return bool(errors) and all("TLS certificate" in e for e in errors[-1:])


def unreachable_error(registry: str, errors: list[str]) -> RegistryError:
    """The error for a registry no endpoint of which answered, with a TLS hint if apt."""
    last = errors[-1] if errors else "no endpoint"
    if "TLS certificate" in last:
        return TransportError(
            f"cannot reach {registry}: {last}",
            hint=f"put its CA in /etc/docker/certs.d/{registry}/ca.crt, or list it in "
                 "PYBUILD_INSECURE_REGISTRIES")
    return TransportError(f"cannot reach {registry}: {last}")
