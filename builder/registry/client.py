"""A distribution-spec registry client for one registry, over httpx.

May import: stdlib, httpx, solver.digest, builder.registry.{auth,credentials,errors,hosts,retry}.

Endpoints: ``/v2/`` ping, manifests GET/HEAD/PUT, blobs GET/HEAD, uploads POST/PATCH/PUT
(monolithic and chunked) and cross-repository mounts. Every request is retried with
bounded backoff on connection errors, 429 and 5xx, and re-sent once with fresh
credentials after a 401. The client is thread-safe: pull and push share one across
their worker threads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from builder.registry.answers import (
    BlobInfo,
    absolute_location,
    blob_info,
    check_response,
    describe_error,
    is_tls_failure,
    media_type_of,
    rechunk,
    unreachable_error,
)
from builder.registry.auth import Authenticator, scope_for
from builder.registry.credentials import Credentials
from builder.registry.errors import (
    AuthError,
    RegistryError,
    TransportError,
    VerifyError,
)
from builder.registry.hosts import Endpoint, HostsConfig
from builder.registry.retry import RetryPolicy, is_retryable_status
from solver.digest import Digest

__all__ = ["BlobInfo", "ClientOptions", "MANIFEST_ACCEPT", "Manifest", "RegistryClient"]

MANIFEST_ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
Body = Callable[[], Iterator[bytes]]


@dataclasses.dataclass(frozen=True)
class ClientOptions:
    """How a :class:`RegistryClient` connects: hosts, credentials, retries, timeouts."""

    hosts: HostsConfig = dataclasses.field(default_factory=HostsConfig)
    credentials: Credentials | None = None
    retry: RetryPolicy = RetryPolicy()
    timeout: float = 120.0
    push: bool = False
    use_mirrors: bool = True
    transport: httpx.BaseTransport | None = None  # tests inject httpx.MockTransport here


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as the registry served it."""

    media_type: str
    digest: Digest
    body: bytes


class RegistryClient:
    """Talks to one registry (``host[:port]`` as in an image reference)."""

    def __init__(self, registry: str, options: ClientOptions | None = None) -> None:
        self.registry = registry
        self.options = options or ClientOptions()
        self.auth = Authenticator(registry, self.options.credentials, self._send_plain)
        self._endpoint: Endpoint | None = None
        self._http: httpx.Client | None = None
        self._ping_lock = threading.Lock()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- connection -------------------------------------------------------------------
    def _client_for(self, endpoint: Endpoint) -> httpx.Client:
        timeout = httpx.Timeout(self.options.timeout, connect=15.0)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
        return httpx.Client(verify=endpoint.verify, timeout=timeout, limits=limits,
                            follow_redirects=True, headers={"User-Agent": "pybuild/0.1"},
                            transport=self.options.transport)

    def ping(self) -> Endpoint:
        """Find a working endpoint (``GET /v2/``) and learn its auth challenge.

        Raises:
            TransportError: no endpoint answered, even after retries.
            RegistryError: the registry does not speak the v2 API.
        """
        with self._ping_lock:
            if self._endpoint is not None:
                return self._endpoint
            return self._ping()

    def _ping(self) -> Endpoint:
        skip_mirrors = self.options.push or not self.options.use_mirrors
        endpoints = self.options.hosts.endpoints(self.registry, for_push=skip_mirrors)
        policy = self.options.retry
        errors: list[str] = []
        for attempt in range(policy.attempts):
            for endpoint in endpoints:
                found = self._try_endpoint(endpoint, errors)
                if found:
                    return endpoint
            if attempt + 1 < policy.attempts and not is_tls_failure(errors):
                time.sleep(policy.delay(attempt))
            else:
                break
        raise unreachable_error(self.registry, errors)

    def _try_endpoint(self, endpoint: Endpoint, errors: list[str]) -> bool:
        http = self._client_for(endpoint)
        try:
            response = http.get(f"{endpoint.base_url}/v2/")
        except httpx.TransportError as exc:
            http.close()
            errors.append(f"{endpoint.base_url}: {describe_error(exc)}")
            return False
        if response.status_code not in (200, 401):
            http.close()
            errors.append(f"{endpoint.base_url}: /v2/ answered {response.status_code}")
            return False
        if response.status_code == 401:
            self.auth.learn(response.headers.get("WWW-Authenticate", ""))
        self._endpoint, self._http = endpoint, http
        return True

    def _send_plain(self, request: httpx.Request) -> httpx.Response:
        """Send with retries but without registry auth (used for the token server)."""
        assert self._http is not None
        return self._with_retries(lambda: self._http_send(request, False), str(request.url))

    def _http_send(self, request: httpx.Request, stream: bool) -> httpx.Response:
        assert self._http is not None
        return self._http.send(request, stream=stream)

    def _with_retries(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        policy = self.options.retry
        for attempt in range(policy.attempts):
            last = attempt + 1 == policy.attempts
            try:
                response = send()
            except httpx.TransportError as exc:
                if last:
                    raise TransportError(f"{what}: {describe_error(exc)}") from exc
                time.sleep(policy.delay(attempt))
                continue
            if is_retryable_status(response.status_code) and not last:
                retry_after = response.headers.get("Retry-After")
                response.close()
                time.sleep(policy.delay(attempt, retry_after))
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, method: str, url: str, scopes: tuple[str, ...],
                **kwargs: Any) -> httpx.Response:
        """Send an authenticated request with retries; ``url`` may be a path under /v2/.

        ``content`` may be a zero-argument callable returning a fresh byte iterator, so a
        retried upload re-reads its data. ``stream=True`` leaves the body unread.

        Raises:
            TransportError: the registry stayed unreachable or kept failing.
            AuthError: the token server refused the credentials.
        """
        endpoint = self.ping()
        if url.startswith("/"):
            url = endpoint.base_url + url
        stream = bool(kwargs.pop("stream", False))
        body = kwargs.pop("content", None)
        refresh = False
        for _ in range(2):
            auth = self.auth.header(scopes, refresh=refresh)

            def send(auth: str | None = auth) -> httpx.Response:
                content = body() if callable(body) else body
                assert self._http is not None
                request = self._http.build_request(method, url, content=content, **kwargs)
                if auth:
                    request.headers["Authorization"] = auth
                return self._http_send(request, stream)

            response = self._with_retries(send, f"{method} {url}")
            if response.status_code != 401 or refresh:
                return response
            header = response.headers.get("WWW-Authenticate", "")
            if not header:
                return response
            response.close()
            self.auth.learn(header)
            refresh = True
        return response

    @property
    def endpoint(self) -> Endpoint | None:
        """The endpoint in use, once :meth:`ping` found one."""
        return self._endpoint

    def direct(self) -> RegistryClient:
        """A new client for the same registry that skips mirrors (the caller closes it)."""
        return RegistryClient(self.registry,
                              dataclasses.replace(self.options, use_mirrors=False))

    def verify_credentials(self) -> None:
        """Check the credentials against the registry (``pybuild login``).

        Raises:
            AuthError: the registry or its token server refused them.
            TransportError: the registry is unreachable.
        """
        response = self.request("GET", "/v2/", ())
        response.close()
        if response.status_code in (401, 403):
            raise AuthError(f"unauthorized: incorrect username or password for "
                            f"{self.registry}", status=response.status_code)
        if response.status_code != 200:
            raise RegistryError(f"{self.registry}: /v2/ answered {response.status_code}",
                                status=response.status_code)

    # -- manifests --------------------------------------------------------------------
    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """GET a manifest or index by tag or digest; its digest is checked.

        Raises:
            NotFoundError: no such repository or manifest.
            AuthError: access denied.
            VerifyError: the body does not match the digest asked for or announced.
        """
        response = self.request("GET", f"/v2/{repository}/manifests/{reference}",
                                (scope_for(repository),), headers={"Accept": MANIFEST_ACCEPT})
        check_response(response, f"{repository}:{reference}")
        body = response.content
        digest = Digest("sha256:" + hashlib.sha256(body).hexdigest())
        expected = reference if reference.startswith("sha256:") else \
            response.headers.get("Docker-Content-Digest")
        if expected and expected != digest:
            raise VerifyError(f"manifest {repository}@{reference}: registry sent content with "
                              f"digest {digest}, expected {expected}")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(media_type_of(body, media_type), digest, body)

    def head_manifest(self, repository: str, reference: str) -> BlobInfo | None:
        """HEAD a manifest: its digest and size, or None if absent.

        Raises:
            AuthError: access denied.
            RegistryError: the registry failed.
        """
        response = self.request("HEAD", f"/v2/{repository}/manifests/{reference}",
                                (scope_for(repository),), headers={"Accept": MANIFEST_ACCEPT})
        if response.status_code == 404:
            return None
        check_response(response, f"{repository}:{reference}")
        return blob_info(response, reference)

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> Digest:
        """PUT a manifest under a tag or digest; the registry's digest must match ours.

        Raises:
            RegistryError: the registry refused it (with its own error message).
            VerifyError: the registry computed a different digest.
        """
        response = self.request(
            "PUT", f"/v2/{repository}/manifests/{reference}",
            (scope_for(repository, push=True),), content=manifest.body,
            headers={"Content-Type": manifest.media_type})
        check_response(response, f"{repository}:{reference}", push=True)
        said = response.headers.get("Docker-Content-Digest")
        if said and said != manifest.digest:
            raise VerifyError(f"registry stored manifest as {said}, expected {manifest.digest}")
        return manifest.digest

    # -- blobs ------------------------------------------------------------------------
    def head_blob(self, repository: str, digest: Digest, push: bool = False) -> BlobInfo | None:
        """HEAD a blob: its size, or None if the repository does not have it.

        Raises:
            AuthError: access denied.
            RegistryError: the registry failed.
        """
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}",
                                (scope_for(repository, push),))
        if response.status_code == 404:
            return None
        check_response(response, f"{repository}@{digest}", push=push)
        return blob_info(response, digest)

    @contextlib.contextmanager
    def open_blob(self, repository: str, digest: Digest,
                  offset: int = 0) -> Iterator[httpx.Response]:
        """GET a blob as a streaming response (from ``offset`` with a Range request).

        Raises:
            NotFoundError: the blob is unknown.
            AuthError: access denied.
        """
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}",
                                (scope_for(repository),), headers=headers, stream=True)
        try:
            check_response(response, f"{repository}@{digest}")
            yield response
        finally:
            response.close()

    def mount_blob(self, repository: str, digest: Digest, source: str) -> bool:
        """Ask the registry to mount ``digest`` from ``source`` into ``repository``.

        Returns True when mounted (201); False when the registry started an upload instead.

        Raises:
            RegistryError: the registry refused.
        """
        scopes = (scope_for(repository, push=True), scope_for(source))
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", scopes,
                                params={"mount": digest, "from": source})
        if response.status_code == 201:
            return True
        check_response(response, repository, push=True)
        location = response.headers.get("Location")
        if location:  # cancel the upload session the registry opened instead
            with contextlib.suppress(RegistryError):
                self.request("DELETE", absolute_location(response, location), scopes).close()
        return False

    def upload_blob(self, repository: str, blob: BlobInfo, body: Body,
                    chunk_size: int = 0) -> None:
        """Upload a blob: POST, then one PUT with the data, or PATCHes of ``chunk_size``.

        ``body`` returns a fresh iterator over the blob's bytes each time it is called.

        Raises:
            RegistryError: the registry refused the upload or the digest.
        """
        scopes = (scope_for(repository, push=True),)
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", scopes)
        check_response(response, repository, push=True)
        location = absolute_location(response, response.headers.get("Location", ""))
        headers = {"Content-Type": "application/octet-stream"}
        if chunk_size > 0:
            location = self._patch_chunks(location, scopes, body, chunk_size)
            content: Body | bytes = b""
            headers["Content-Length"] = "0"
        else:
            content = body
            headers["Content-Length"] = str(blob.size)
        url = str(httpx.URL(location).copy_merge_params({"digest": blob.digest}))
        response = self.request("PUT", url, scopes, content=content, headers=headers)
        check_response(response, f"{repository}@{blob.digest}", push=True)

    def _patch_chunks(self, location: str, scopes: tuple[str, ...], body: Body,
                      chunk_size: int) -> str:
        offset = 0
        for chunk in rechunk(body(), chunk_size):
            headers = {"Content-Type": "application/octet-stream",
                       "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                       "Content-Length": str(len(chunk))}
            response = self.request("PATCH", location, scopes, content=chunk, headers=headers)
            check_response(response, "blob upload", push=True)
            location = absolute_location(response, response.headers.get("Location", location))
            offset += len(chunk)
        return location
