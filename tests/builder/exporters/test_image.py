"""The image exporter: layers, config, manifest and tags from a layer chain."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.content.store import ContentStore
from builder.exporters.image import ExportOptions, ImageSpec, export_image
from builder.images.store import ImageStore
from builder.layers import Compression, open_decompressed
from builder.oci.config import ContainerConfig, History, ImageConfig
from builder.oci.image import Manifest
from builder.oci.reference import ImageRef
from builder.registry.resolve import PullPolicy
from builder.root import Root
from builder.snapshots.store import SnapshotStore
from builder.worker.refs import SnapshotRef, Stores
from builder.worker.source_op import BaseImages, image_snapshot
from solver.digest import sha256_bytes


@pytest.fixture
def stores(busybox_root: Path, tmp_path: Path) -> Iterator[tuple[Stores, ImageStore, SnapshotRef]]:
    path = tmp_path / "root"
    shutil.copytree(busybox_root, path, ignore=shutil.ignore_patterns("tmp", "locks"))
    with Root.open(path) as root:
        content = ContentStore(root)
        images = ImageStore(root, content)
        stores = Stores(root, content, SnapshotStore(root, content))
        base = BaseImages(images, PullPolicy.NEVER).lookup("busybox", "linux/amd64")
        yield stores, images, image_snapshot(stores, images, base)


SPEC_CONFIG = ImageConfig(architecture="amd64", os="linux",
                          config=ContainerConfig(cmd=("sh",)))


def test_recompressed_layers_keep_their_diff_ids(
        stores: tuple[Stores, ImageStore, SnapshotRef]) -> None:
    st, images, ref = stores
    spec = ImageSpec(ref.layers, SPEC_CONFIG)
    out = export_image(st.content, images, spec, ExportOptions(Compression.ZSTD, None, 0),
                       [ImageRef.parse("z")])
    manifest = Manifest.from_json(st.content.read_bytes(out.manifest.digest))
    layer = manifest.layers[0]
    assert layer.media_type == "application/vnd.oci.image.layer.v1.tar+zstd"
    with st.content.open_blob(layer.digest) as raw:
        assert sha256_bytes(open_decompressed(raw).read()) == ref.layers[0].diff_id
    config = ImageConfig.from_json(st.content.read_bytes(out.image_id))
    assert config.rootfs.diff_ids == (ref.layers[0].diff_id,)
    assert images.get(ImageRef.parse("z")) == out.manifest


def test_epoch_sets_created_of_config_and_new_history_only(
        stores: tuple[Stores, ImageStore, SnapshotRef]) -> None:
    st, images, ref = stores
    old = History(created="2001-01-01T00:00:00Z", created_by="base")
    new = History(created_by="CMD", empty_layer=True)
    spec = ImageSpec(ref.layers, SPEC_CONFIG, (old,), (new,))
    out = export_image(st.content, images, spec, ExportOptions(source_date_epoch=86400))
    config = ImageConfig.from_json(st.content.read_bytes(out.image_id))
    assert config.created == "1970-01-02T00:00:00Z"
    assert [h.created for h in config.history] == ["2001-01-01T00:00:00Z", "1970-01-02T00:00:00Z"]
    again = export_image(st.content, images, spec, ExportOptions(source_date_epoch=86400))
    assert again.manifest == out.manifest


def test_untagged_export_is_kept_as_a_dangling_image(
        stores: tuple[Stores, ImageStore, SnapshotRef]) -> None:
    st, images, ref = stores
    out = export_image(st.content, images, ImageSpec(ref.layers, SPEC_CONFIG), ExportOptions())
    assert any(r.target == out.manifest and r.name is None for r in images.records())
