"""Layer blobs: one pass gives diff_id, digest and size; same tree gives same bytes; storing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, UsageError
from builder.layers import (
    Change,
    ChangeKind,
    Compression,
    LayerOptions,
    changes_from_dir,
    open_decompressed,
    parse_source_date_epoch,
    store_layer,
    write_layer,
)
from builder.layers.compress import GZIP_BACKEND
from builder.root import Root
from tests.builder.layers.layertrees import make_golden_tree

TESTDATA = Path(__file__).resolve().parents[3] / "testdata"


def _tree(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc/config").write_text("key=value\n" * 100)
    (root / "bin").mkdir()
    (root / "bin/big").write_bytes(os.urandom(2_500_000))
    os.symlink("big", root / "bin/link")
    return root


@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_one_pass_reports_diff_id_digest_and_size(tmp_path: Path, compression: Compression) -> None:
    out = io.BytesIO()
    info = write_layer(changes_from_dir(_tree(tmp_path / "t")), out, LayerOptions(compression))
    blob = out.getvalue()
    assert info.size == len(blob)
    assert info.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    tar = open_decompressed(io.BytesIO(blob)).read()
    assert info.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert info.media_type.startswith("application/vnd.oci.image.layer.v1.tar")


@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_same_tree_gives_byte_identical_layers(tmp_path: Path, compression: Compression) -> None:
    tree = _tree(tmp_path / "t")
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy, symlinks=True)  # same metadata, other inodes
    a, b = io.BytesIO(), io.BytesIO()
    ia = write_layer(changes_from_dir(tree), a, LayerOptions(compression))
    ib = write_layer(changes_from_dir(copy), b, LayerOptions(compression))
    assert a.getvalue() == b.getvalue()
    assert ia == ib


def test_diff_id_does_not_depend_on_compression(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t")
    ids = {
        write_layer(changes_from_dir(tree), io.BytesIO(), LayerOptions(c)).diff_id
        for c in Compression
    }
    assert len(ids) == 1


def test_levels_change_the_blob_not_the_diff_id(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t")
    fast = write_layer(changes_from_dir(tree), io.BytesIO(), LayerOptions(level=1))
    best = write_layer(changes_from_dir(tree), io.BytesIO(), LayerOptions(level=9))
    assert fast.diff_id == best.diff_id and fast.digest != best.digest


def test_bad_level_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = io.BytesIO()
    with pytest.raises(UsageError):
        write_layer(changes_from_dir(_tree(tmp_path / "t")), out, LayerOptions(level=42))
    assert out.getvalue() == b""


@pytest.fixture
def content(tmp_path: Path) -> Iterator[ContentStore]:
    with Root.open(tmp_path / "root") as root:
        yield ContentStore(root)


def test_store_layer_commits_a_verified_blob(tmp_path: Path, content: ContentStore) -> None:
    info = store_layer(content, changes_from_dir(_tree(tmp_path / "t")), LayerOptions())
    assert content.has(info.digest)
    assert content.size(info.digest) == info.size
    assert len(content.read_bytes(info.digest)) == info.size


def _vanishing(tree: Path) -> Iterator[Change]:
    yield from changes_from_dir(tree)
    yield Change("ghost", ChangeKind.ADD, str(tree / "ghost"))


def test_failed_layer_leaves_the_store_as_it_was(tmp_path: Path, content: ContentStore) -> None:
    with pytest.raises(InvalidInputError, match="ghost: vanished"):
        store_layer(content, _vanishing(_tree(tmp_path / "t")), LayerOptions())
    assert list(content.digests()) == []
    assert list(content.root.tmp.iterdir()) == []


def test_source_date_epoch_is_parsed_at_the_edge() -> None:
    assert parse_source_date_epoch(None) is None
    assert parse_source_date_epoch("  ") is None
    assert parse_source_date_epoch("1700000000") == 1_700_000_000
    for bad in ("-1", "1.5", "soon", "١٢"):
        with pytest.raises(UsageError, match="invalid SOURCE_DATE_EPOCH"):
            parse_source_date_epoch(bad)


_GOLDEN = json.loads((TESTDATA / "layers" / "golden.json").read_text())


@pytest.mark.privileged  # the tree's owners are fixed with chown
@pytest.mark.parametrize(
    "case",
    _GOLDEN["cases"],
    ids=lambda c: f"{c['compression']}-{c['level']}-{c['source_date_epoch']}",
)
def test_layer_bytes_stay_as_pinned(tmp_path: Path, case: dict[str, object]) -> None:
    compression = Compression(case["compression"])
    if compression is Compression.GZIP and GZIP_BACKEND != _GOLDEN["gzip_backend"]:
        pytest.skip(f"pinned gzip bytes are {_GOLDEN['gzip_backend']}'s, not {GZIP_BACKEND}'s")
    make_golden_tree(tmp_path / "golden")
    level, epoch = case["level"], case["source_date_epoch"]
    assert level is None or isinstance(level, int)
    assert epoch is None or isinstance(epoch, int)
    info = write_layer(
        changes_from_dir(tmp_path / "golden"), io.BytesIO(), LayerOptions(compression, level, epoch)
    )
    assert (info.diff_id, info.digest, info.size) == (case["diff_id"], case["digest"], case["size"])
