"""Blob downloads over the stdlib's ``http.client``: the fast path for large bodies.

May import: stdlib, httpx, builder.registry.{auth,client,errors}.

Measured on loopback (bench/registry.py), httpx/h11 receives a large body at about a third
of the speed of ``http.client`` (64 KiB reads, each copied through h11's buffer with the
GIL held), which made pulls slower than skopeo's. Blob GETs therefore read the body
here, with the client's endpoint, TLS settings and ``Authorization`` header, following
redirects (credentials go only to the registry's own origin) and refreshing a token after
one 401. When an HTTP proxy is configured in the environment, the httpx path is used
instead, because only httpx honours the proxy variables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import ssl
import urllib.parse
from collections.abc import Iterator

from builder.registry.auth import scope_for
from builder.registry.client import RegistryClient
from builder.registry.errors import (
    AuthError,
    NotFoundError,
    RegistryError,
    TransportError,
)
from builder.registry.retry import is_retryable_status
from solver.digest import Digest

__all__ = ["RetryableError", "proxy_configured", "skip_bytes", "stream_blob"]

_READ = 1 << 20
_MAX_HOPS = 5
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
               "all_proxy")


class RetryableError(TransportError):
    """A blob download failed in a way worth another try (5xx, 429, short body)."""


def proxy_configured() -> bool:
    """True when the environment names an HTTP proxy (then httpx must carry the request)."""
    return any(os.environ.get(name) for name in _PROXY_VARS)


def _connection(url: urllib.parse.SplitResult, verify: ssl.SSLContext | bool,
                timeout: float) -> http.client.HTTPConnection:
    host = url.hostname or ""
    if url.scheme == "https":
        if isinstance(verify, ssl.SSLContext):
            context = verify
        elif verify:
            context = ssl.create_default_context()
        else:
            context = ssl.create_default_context()  # an insecure registry: no verification
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(host, url.port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, url.port, timeout=timeout)


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


@dataclasses.dataclass(frozen=True)
class _Request:
    client: RegistryClient
    repository: str
    digest: Digest
    offset: int


@contextlib.contextmanager
def stream_blob(client: RegistryClient, repository: str, digest: Digest,
                offset: int = 0) -> Iterator[Iterator[bytes]]:
    """The blob's bytes from ``offset`` on, as chunks; a short body raises ``RetryableError``.

    A non-zero ``offset`` is asked for with a ``Range`` header; a server that ignores it
    (200 instead of 206) has the first ``offset`` bytes skipped here.

    Raises:
        NotFoundError: the blob is unknown.
        AuthError: access denied.
        RetryableError: 429, 5xx, or the connection failed or ended early.
    """
    conn, response, url = _send(_Request(client, repository, digest, offset))
    try:
        _check(response.status, f"{repository}@{digest}")
        chunks = _chunks(response, url)
        if offset and response.status == 200:
            chunks = skip_bytes(chunks, offset)
        elif offset and not (response.getheader("Content-Range") or "").startswith(
                f"bytes {offset}-"):
            raise RetryableError(f"GET {url}: registry answered the wrong range")
        yield chunks
    finally:
        response.close()
        conn.close()


def _send(req: _Request) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, str]:
    endpoint = req.client.ping()
    url = f"{endpoint.base_url}/v2/{req.repository}/blobs/{req.digest}"
    home = _origin(url)
    scopes = (scope_for(req.repository),)
    auth = req.client.auth.header(scopes)
    refreshed, hops = False, 0
    while True:
        parts = urllib.parse.urlsplit(url)
        verify = endpoint.verify if _origin(url) == home else True
        conn = _connection(parts, verify, req.client.options.timeout)
        headers = {"User-Agent": "pybuild/0.1", "Accept-Encoding": "identity"}
        if req.offset:
            headers["Range"] = f"bytes={req.offset}-"
        if auth and _origin(url) == home:
            headers["Authorization"] = auth
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                         headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise RetryableError(f"GET {url}: {exc or type(exc).__name__}") from exc
        challenge = response.getheader("WWW-Authenticate")
        if response.status in (301, 302, 303, 307, 308) and hops < _MAX_HOPS:
            hops += 1
            url = urllib.parse.urljoin(url, response.getheader("Location") or "")
        elif response.status == 401 and not refreshed and challenge:
            req.client.auth.learn(challenge)
            auth = req.client.auth.header(scopes, refresh=True)
            refreshed = True
        else:
            return conn, response, url
        conn.close()


def skip_bytes(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    """``chunks`` without their first ``count`` bytes."""
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:]
        count = 0


def _check(status: int, what: str) -> None:
    if status in (200, 206):
        return
    if status in (401, 403):
        raise AuthError(f"pull access denied for {what}: repository does not exist or may "
                        "require 'pybuild login'", status=status)
    if status == 404:
        raise NotFoundError(f"{what}: not found", status=status)
    if is_retryable_status(status):
        raise RetryableError(f"{what}: registry answered {status}", status=status)
    raise RegistryError(f"{what}: registry answered {status}", status=status)


def _chunks(response: http.client.HTTPResponse, url: str) -> Iterator[bytes]:
    expected = response.length
    received = 0
    try:
        while chunk := response.read1(_READ):
            received += len(chunk)
            yield chunk
    except (OSError, http.client.HTTPException) as exc:
        raise RetryableError(f"GET {url}: connection failed after {received} bytes: "
                             f"{exc or type(exc).__name__}") from exc
    if expected is not None and response.length:
        raise RetryableError(f"GET {url}: connection closed after {received} bytes, "
                             f"{response.length} missing")
