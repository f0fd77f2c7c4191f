"""Fixtures for the image store tests: a fresh root with stores, and tiny images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.content.store import ContentStore
from builder.images.store import ImageStore
from builder.oci.descriptor import Descriptor, MediaType, Platform
from builder.oci.image import ImageConfig, Index, Manifest, RootFS
from builder.root import Root
from solver.digest import sha256_bytes


@pytest.fixture
def images(tmp_path: Path) -> Iterator[ImageStore]:
    root = Root.open(tmp_path / "root")
    yield ImageStore(root, ContentStore(root))
    root.close()


def make_image(images: ImageStore, *layers: bytes, arch: str = "amd64",
               tag_note: str = "") -> Descriptor:
    """Store layers, a config and a manifest; return the manifest descriptor."""
    content = images.content
    layer_descs = []
    for data in layers:
        digest = content.put_bytes(data)
        layer_descs.append(Descriptor(MediaType.OCI_LAYER, digest, len(data)))
    config = ImageConfig(
        architecture=arch, os="linux", author=tag_note,
        rootfs=RootFS(diff_ids=tuple(sha256_bytes(d) for d in layers)),
    )
    cfg_bytes = config.to_json()
    manifest = Manifest(
        Descriptor(MediaType.OCI_CONFIG, content.put_bytes(cfg_bytes), len(cfg_bytes)),
        tuple(layer_descs),
    )
    m_bytes = manifest.to_json()
    return Descriptor(MediaType.OCI_MANIFEST, content.put_bytes(m_bytes), len(m_bytes))


def make_index(images: ImageStore, *manifests: tuple[Descriptor, str]) -> Descriptor:
    """Store an index over ``(manifest descriptor, "os/arch")`` pairs."""
    entries = tuple(
        Descriptor(d.media_type, d.digest, d.size,
                   platform=Platform(plat.split("/")[0], plat.split("/")[1]))
        for d, plat in manifests
    )
    data = Index(entries).to_json()
    return Descriptor(MediaType.OCI_INDEX, images.content.put_bytes(data), len(data))
