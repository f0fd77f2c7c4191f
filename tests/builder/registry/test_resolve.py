"""Base-image resolution for FROM: local image first, ``--pull`` and missing images pull."""

from __future__ import annotations

import uuid

import pytest

from builder.errors import NotFoundError
from builder.exporters.push import push_image
from builder.oci.descriptor import Descriptor, Platform
from builder.oci.reference import ImageRef
from builder.registry.client import ClientOptions, RegistryClient
from builder.registry.errors import TransportError
from builder.registry.resolve import PullPolicy, ResolveOptions, resolve_base_image
from builder.registry.retry import RetryPolicy
from tests.builder.registry.registry_support import Registry, Stores, make_image

AMD64 = Platform("linux", "amd64")
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)


def _options(calls: list[str]) -> ResolveOptions:
    def connect(registry: str) -> RegistryClient:
        calls.append(registry)
        return RegistryClient(registry, ClientOptions(retry=FAST))

    return ResolveOptions(connect=connect)


def _published(registry: Registry, source: Stores) -> tuple[ImageRef, Descriptor]:
    desc = make_image(source.content, (100,))
    ref = ImageRef.parse(f"{registry.host}/base/{uuid.uuid4().hex[:8]}:v1")
    with RegistryClient(registry.host, ClientOptions(push=True)) as client:
        push_image(client, ref, source.content, desc)
    return ref, desc


def test_missing_image_is_pulled_then_the_local_copy_is_used(
        registry_http: Registry, source: Stores, stores: Stores) -> None:
    ref, desc = _published(registry_http, source)
    calls: list[str] = []
    first = resolve_base_image(ref, AMD64, PullPolicy.MISSING, stores.images,
                               _options(calls))
    second = resolve_base_image(ref, AMD64, PullPolicy.MISSING, stores.images,
                                _options(calls))
    assert first.pulled and not second.pulled
    assert first.manifest.digest == second.manifest.digest == desc.digest
    assert second.config.architecture == "amd64"
    assert calls == [registry_http.host]


def test_pull_always_asks_the_registry_even_with_a_local_image(
        registry_http: Registry, source: Stores, stores: Stores) -> None:
    ref, _ = _published(registry_http, source)
    calls: list[str] = []
    resolve_base_image(ref, AMD64, PullPolicy.MISSING, stores.images, _options(calls))
    again = resolve_base_image(ref, AMD64, PullPolicy.ALWAYS, stores.images, _options(calls))
    assert again.pulled and len(calls) == 2


def test_local_image_of_another_platform_is_not_used(
        registry_http: Registry, source: Stores, stores: Stores) -> None:
    ref = ImageRef.parse(f"{registry_http.host}/base/{uuid.uuid4().hex[:8]}:v1")
    stores.images.set(ref, make_image(stores.content, (10,), arch="arm64"))
    with pytest.raises(NotFoundError, match="not present locally"):
        resolve_base_image(ref, AMD64, PullPolicy.NEVER, stores.images)
    local = resolve_base_image(ref, Platform.parse("linux/arm64"), PullPolicy.NEVER,
                               stores.images)
    assert local.config.architecture == "arm64" and not local.pulled


def test_never_policy_does_not_touch_the_network(stores: Stores) -> None:
    calls: list[str] = []
    ref = ImageRef.parse("127.0.0.1:1/nothing:here")
    with pytest.raises(NotFoundError):
        resolve_base_image(ref, AMD64, PullPolicy.NEVER, stores.images, _options(calls))
    assert calls == []
    with pytest.raises(TransportError):
        resolve_base_image(ref, AMD64, PullPolicy.MISSING, stores.images, _options(calls))
