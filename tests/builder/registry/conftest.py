"""Fixtures of the registry tests; the machinery lives in registry_support.py.

Session-scoped registries (one set per xdist worker): ``registry_http`` (anonymous, plain
HTTP), ``registry_tls`` (htpasswd Basic auth over TLS with a CA made here) and
``registry_token`` (``auth: token`` backed by a token server). ``fault_proxy`` is per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from tests.builder.registry.registry_support import (
    PASSWORD,
    USER,
    FaultProxy,
    Registry,
    Stores,
    TokenServer,
    make_pki,
    open_test_stores,
    start_registry,
    stop_registry,
)


@pytest.fixture(scope="session")
def registry_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("registry-http"))
    yield reg
    stop_registry(reg)


@pytest.fixture(scope="session")
def registry_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder = tmp_path_factory.mktemp("registry-tls")
    pki = make_pki(folder / "pki")
    htpasswd = folder / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    htpasswd.write_text(f"{USER}:{hashed}\n")
    auth = f"auth:\n  htpasswd:\n    realm: pybuild-test\n    path: {htpasswd}"
    reg = start_registry(folder, auth, pki)
    yield reg
    stop_registry(reg)


@pytest.fixture(scope="session")
def registry_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder = tmp_path_factory.mktemp("registry-token")
    tokens = TokenServer(folder, "pybuild-test-registry", "pybuild-test-issuer")
    auth = ("auth:\n  token:\n"
            f"    realm: {tokens.realm}\n    service: {tokens.service}\n"
            f"    issuer: {tokens.issuer}\n    rootcertbundle: {tokens.bundle}")
    reg = start_registry(folder, auth)
    reg.token_server = tokens
    yield reg
    stop_registry(reg)


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DOCKER_CONFIG pointed at an empty tmp dir, so no test reads or writes the real home."""
    folder = tmp_path / "docker-config"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    monkeypatch.delenv("PYBUILD_INSECURE_REGISTRIES", raising=False)
    monkeypatch.setenv("PYBUILD_REGISTRY_CONFIG", str(tmp_path / "no-registries.json"))
    return folder


@pytest.fixture
def fault_proxy(registry_http: Registry) -> Iterator[FaultProxy]:
    proxy = FaultProxy(registry_http.host)
    yield proxy
    proxy.close()


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    """An empty pybuild root (content + image store) for the test."""
    found = open_test_stores(tmp_path / "root")
    yield found
    found.root.close()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Stores]:
    """A second root, where tests build the images they push."""
    found = open_test_stores(tmp_path / "source-root")
    yield found
    found.root.close()
