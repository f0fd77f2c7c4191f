"""Interop with skopeo: what pybuild pushes, skopeo reads; what skopeo pushes, pybuild pulls
with the same digests."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from builder.exporters.push import push_image
from builder.oci.descriptor import Platform
from builder.oci.image import Manifest
from builder.oci.reference import ImageRef
from builder.registry.client import ClientOptions, RegistryClient
from builder.registry.pull import PullOptions, pull_image
from tests.builder.registry.registry_support import (
    Registry,
    Stores,
    make_image,
    skopeo,
    write_oci_layout,
)

pytestmark = [pytest.mark.interop,
              pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo missing")]


def _ref(registry: Registry) -> ImageRef:
    return ImageRef.parse(f"{registry.host}/interop/{uuid.uuid4().hex[:8]}:v1")


def test_skopeo_inspects_and_copies_what_pybuild_pushed(
        registry_http: Registry, source: Stores, tmp_path: Path) -> None:
    desc = make_image(source.content, (2000, 3000))
    ref = _ref(registry_http)
    with RegistryClient(ref.registry, ClientOptions(push=True)) as client:
        push_image(client, ref, source.content, desc)
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}"))
    manifest = Manifest.from_json(source.content.read_bytes(desc.digest))
    assert info["Digest"] == desc.digest
    assert info["Layers"] == [layer.digest for layer in manifest.layers]
    assert info["Architecture"] == "amd64"
    skopeo("copy", "--src-tls-verify=false", "--preserve-digests", f"docker://{ref}",
           f"oci:{tmp_path / 'out'}:v1")
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == desc.digest
    for layer in manifest.layers:
        copied = tmp_path / "out" / "blobs" / "sha256" / layer.digest.hex
        assert copied.read_bytes() == source.content.read_bytes(layer.digest)


def test_pybuild_pulls_what_skopeo_pushed_with_the_same_digests(
        registry_http: Registry, source: Stores, stores: Stores, tmp_path: Path) -> None:
    desc = make_image(source.content, (1500,))
    write_oci_layout(source.content, desc, tmp_path / "layout", "v1")
    ref = _ref(registry_http)
    skopeo("copy", "--dest-tls-verify=false", "--preserve-digests",
           f"oci:{tmp_path / 'layout'}:v1", f"docker://{ref}")
    with RegistryClient(ref.registry) as client:
        result = pull_image(client, ref, stores.content,
                            PullOptions(platform=Platform("linux", "amd64")))
    assert result.manifest.digest == desc.digest
    manifest = Manifest.from_json(stores.content.read_bytes(desc.digest))
    for blob in [manifest.config, *manifest.layers]:
        assert stores.content.read_bytes(blob.digest) == source.content.read_bytes(blob.digest)


def test_pybuild_pulls_a_docker_schema2_image_skopeo_converted(
        registry_http: Registry, source: Stores, stores: Stores, tmp_path: Path) -> None:
    desc = make_image(source.content, (700,))
    write_oci_layout(source.content, desc, tmp_path / "layout", "v1")
    ref = _ref(registry_http)
    skopeo("copy", "--dest-tls-verify=false", "--format=v2s2",
           f"oci:{tmp_path / 'layout'}:v1", f"docker://{ref}")
    with RegistryClient(ref.registry) as client:
        result = pull_image(client, ref, stores.content)
    assert result.manifest.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert result.config.architecture == "amd64"
