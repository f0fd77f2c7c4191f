"""The registry client against a real docker-registry: endpoints, auth, TLS, retries."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from builder.registry.auth import scope_for
from builder.registry.client import BlobInfo, ClientOptions, Manifest, RegistryClient
from builder.registry.credentials import Credentials
from builder.registry.errors import AuthError, NotFoundError, RegistryError, TransportError
from builder.registry.hosts import HostsConfig
from builder.registry.retry import RetryPolicy
from solver.digest import Digest
from tests.builder.registry.registry_support import PASSWORD, USER, Fault, FaultProxy, Registry

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
ALICE = Credentials(USER, PASSWORD)


def _blob(data: bytes) -> BlobInfo:
    return BlobInfo(Digest("sha256:" + hashlib.sha256(data).hexdigest()), len(data))


def _client(reg: Registry, creds: Credentials | None = None,
            hosts: HostsConfig | None = None) -> RegistryClient:
    options = ClientOptions(hosts=hosts or HostsConfig(), credentials=creds, retry=FAST)
    return RegistryClient(reg.host, options)


def _read(client: RegistryClient, repo: str, digest: Digest) -> bytes:
    with client.open_blob(repo, digest) as resp:
        return b"".join(resp.iter_raw())


def test_monolithic_upload_then_head_and_get_round_trip(registry_http: Registry) -> None:
    data = os.urandom(5000)
    blob = _blob(data)
    with _client(registry_http) as client:
        assert client.head_blob("t/mono", blob.digest) is None
        client.upload_blob("t/mono", blob, lambda: iter([data]))
        assert client.head_blob("t/mono", blob.digest) == blob
        assert _read(client, "t/mono", blob.digest) == data


def test_chunked_upload_sends_patches_and_stores_the_whole_blob(registry_http: Registry) -> None:
    data = os.urandom(10_000)
    blob = _blob(data)
    with _client(registry_http) as client:
        client.upload_blob("t/chunked", blob, lambda: iter([data[:3000], data[3000:]]),
                           chunk_size=4096)
        assert _read(client, "t/chunked", blob.digest) == data


def test_cross_repository_mount_needs_no_upload(registry_http: Registry) -> None:
    data = os.urandom(1000)
    blob = _blob(data)
    with _client(registry_http) as client:
        client.upload_blob("t/src", blob, lambda: iter([data]))
        assert client.mount_blob("t/dst", blob.digest, "t/src") is True
        assert client.head_blob("t/dst", blob.digest) == blob


def test_mount_of_unknown_blob_reports_false(registry_http: Registry) -> None:
    with _client(registry_http) as client:
        assert client.mount_blob("t/dst2", _blob(b"nope").digest, "t/missing") is False


def test_manifest_put_get_by_tag_and_digest(registry_http: Registry) -> None:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    cblob = _blob(config)
    body = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
            b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'
            + cblob.digest.encode() + b'","size":' + str(cblob.size).encode() + b'},"layers":[]}')
    manifest = Manifest("application/vnd.oci.image.manifest.v1+json", _blob(body).digest, body)
    with _client(registry_http) as client:
        client.upload_blob("t/man", cblob, lambda: iter([config]))
        assert client.put_manifest("t/man", "v1", manifest) == manifest.digest
        got = client.get_manifest("t/man", "v1")
        assert got == manifest
        assert client.get_manifest("t/man", manifest.digest) == manifest
        assert client.head_manifest("t/man", "v1") == BlobInfo(manifest.digest, len(body))


def test_missing_manifest_is_not_found(registry_http: Registry) -> None:
    with _client(registry_http) as client, pytest.raises(NotFoundError):
        client.get_manifest("t/none", "latest")


def test_basic_auth_over_tls_with_the_registry_ca(registry_tls: Registry,
                                                  tmp_path: Path) -> None:
    certs = tmp_path / "certs.d"
    (certs / registry_tls.host).mkdir(parents=True)
    assert registry_tls.ca is not None
    (certs / registry_tls.host / "ca.crt").write_bytes(registry_tls.ca.read_bytes())
    hosts = HostsConfig(certs_dir=certs, loopback_insecure=False)
    data = os.urandom(100)
    with _client(registry_tls, ALICE, hosts=hosts) as client:
        assert client.ping().base_url == f"https://{registry_tls.host}"
        client.upload_blob("t/basic", _blob(data), lambda: iter([data]))
        assert _read(client, "t/basic", _blob(data).digest) == data


def test_tls_without_the_ca_fails_with_a_hint(registry_tls: Registry, tmp_path: Path) -> None:
    hosts = HostsConfig(certs_dir=tmp_path, loopback_insecure=False)
    with _client(registry_tls, ALICE, hosts=hosts) as client, \
            pytest.raises(TransportError) as info:
        client.ping()
    assert "certificate verification failed" in info.value.message
    assert "certs.d" in (info.value.hint or "")


def test_loopback_registry_is_insecure_by_default_so_tls_is_not_verified(
        registry_tls: Registry) -> None:
    with _client(registry_tls, ALICE) as client:
        assert client.head_blob("t/basic-x", _blob(b"x").digest) is None


def test_basic_auth_with_a_wrong_password_is_refused(registry_tls: Registry) -> None:
    with _client(registry_tls, Credentials(USER, "wrong")) as client, \
            pytest.raises(AuthError) as info:
        client.head_manifest("t/basic", "latest")
    assert "access denied" in info.value.message


def test_token_auth_fetches_and_caches_tokens_per_scope(registry_token: Registry) -> None:
    tokens = registry_token.token_server
    assert tokens is not None
    data = os.urandom(64)
    with _client(registry_token, ALICE) as client:
        before = tokens.requests
        client.upload_blob("t/tok", _blob(data), lambda: iter([data]))
        assert client.head_blob("t/tok", _blob(data).digest, push=True) == _blob(data)
        assert _read(client, "t/tok", _blob(data).digest) == data
        assert tokens.requests - before == 2  # one for pull,push and one for pull
        assert client.auth.header((scope_for("t/tok"),)) is not None
        assert tokens.requests - before == 2


def test_token_auth_anonymous_pull_of_private_repo_is_denied(registry_token: Registry) -> None:
    with _client(registry_token) as client, pytest.raises(AuthError) as info:
        client.get_manifest("private/thing", "latest")
    assert info.value.message.startswith("pull access denied for private/thing:latest")
    assert "pybuild login" in info.value.message


def test_token_auth_wrong_password_says_so(registry_token: Registry) -> None:
    with _client(registry_token, Credentials(USER, "nope")) as client, \
            pytest.raises(AuthError) as info:
        client.get_manifest("t/tok", "latest")
    assert "incorrect username or password" in info.value.message


def test_500_twice_then_success_is_retried(fault_proxy: FaultProxy,
                                           registry_http: Registry) -> None:
    data = os.urandom(300)
    with _client(registry_http) as client:
        client.upload_blob("t/retry", _blob(data), lambda: iter([data]))
    fault_proxy.faults.append(Fault("status", f"/blobs/{_blob(data).digest}", status=500,
                                    times=2))
    proxied = RegistryClient(fault_proxy.host, ClientOptions(retry=FAST))
    with proxied:
        assert _read(proxied, "t/retry", _blob(data).digest) == data
    statuses = [s for m, p, s in fault_proxy.log if "/blobs/" in p]
    assert statuses == [500, 500, 200]


def test_persistent_503_gives_up_after_the_bounded_attempts(fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.append(Fault("status", "/manifests/", status=503, times=-1))
    with RegistryClient(fault_proxy.host, ClientOptions(retry=FAST)) as client, \
            pytest.raises(RegistryError) as info:
        client.get_manifest("t/x", "latest")
    assert info.value.status == 503
    assert info.value.message.startswith("t/x:latest: registry answered 503")
    assert len([1 for _, p, _ in fault_proxy.log if "/manifests/" in p]) == FAST.attempts


def test_unreachable_registry_is_a_transport_error() -> None:
    from tests.builder.registry.registry_support import free_port

    with RegistryClient(f"127.0.0.1:{free_port()}", ClientOptions(retry=FAST)) as client, \
            pytest.raises(TransportError) as info:
        client.ping()
    assert info.value.message.startswith("cannot reach 127.0.0.1:")
