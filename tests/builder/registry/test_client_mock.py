"""Client behaviour a real registry does not show, through httpx.MockTransport: relative
upload locations, lying digests, redirects, error bodies."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from builder.registry.client import BlobInfo, ClientOptions, RegistryClient
from builder.registry.errors import RegistryError, VerifyError
from builder.registry.hosts import HostsConfig
from builder.registry.retry import RetryPolicy
from solver.digest import Digest

FAST = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0)


def _client(handler: object) -> tuple[RegistryClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)  # type: ignore[operator,no-any-return]

    options = ClientOptions(hosts=HostsConfig(insecure=("reg.test",)), retry=FAST,
                            transport=httpx.MockTransport(record))
    return RegistryClient("reg.test", options), seen


def _digest(data: bytes) -> Digest:
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def test_relative_upload_location_is_resolved_against_the_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "/v2/a/blobs/uploads/u1?_state=s"})
        return httpx.Response(201)

    client, seen = _client(handler)
    data = b"hello"
    with client:
        client.upload_blob("a", BlobInfo(_digest(data), len(data)), lambda: iter([data]))
    put = seen[-1]
    assert put.method == "PUT"
    assert put.url.path == "/v2/a/blobs/uploads/u1"
    assert put.url.params["_state"] == "s" and put.url.params["digest"] == _digest(data)
    assert put.headers["Content-Length"] == "5" and put.content == data


def test_manifest_whose_body_does_not_match_the_announced_digest_is_rejected() -> None:
    body = b'{"schemaVersion":2}'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(200, content=body, headers={
            "Content-Type": "application/vnd.oci.image.manifest.v1+json",
            "Docker-Content-Digest": str(_digest(b"something else"))})

    client, _ = _client(handler)
    with client, pytest.raises(VerifyError, match="expected sha256:"):
        client.get_manifest("a", "latest")


def test_manifest_fetched_by_digest_must_hash_to_it() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(200, content=b"{}")

    client, _ = _client(handler)
    with client, pytest.raises(VerifyError):
        client.get_manifest("a", _digest(b"other"))


def test_registry_error_body_is_shown_in_the_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        return httpx.Response(400, json={"errors": [{"code": "MANIFEST_INVALID",
                                                    "message": "manifest invalid"}]})

    client, _ = _client(handler)
    with client, pytest.raises(RegistryError) as info:
        client.get_manifest("a", "latest")
    assert info.value.message == ("a:latest: registry answered 400: "
                                  "manifest_invalid: manifest invalid")


def test_https_failure_falls_back_to_http_for_an_insecure_registry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            raise httpx.ConnectError("tls handshake failed")
        return httpx.Response(200)

    client, _ = _client(handler)
    with client:
        assert client.ping().base_url == "http://reg.test"
