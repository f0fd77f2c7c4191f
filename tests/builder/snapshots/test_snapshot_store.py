"""The snapshot store: one unpack per chain ID, overlay-style diffs, materialized rootfs, GC."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, NotFoundError, StoreError
from builder.layers import (
    LayerOptions,
    apply_layer,
    changes_from_diff,
    changes_from_dir,
    store_layer,
)
from builder.oci.image import chain_ids
from builder.root import Root
from builder.snapshots import LayerBlob, SnapshotStore
from solver.digest import sha256_bytes


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Root]:
    with Root.open(tmp_path / "root") as r:
        yield r


@pytest.fixture
def content(root: Root) -> ContentStore:
    return ContentStore(root)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _two_layers(tmp_path: Path, content: ContentStore) -> list[LayerBlob]:
    base, top = tmp_path / "base", tmp_path / "top"
    _write(
        base,
        {
            "etc/passwd": "root",
            "etc/shadow": "secret",
            "var/log/a": "a",
            "var/log/b": "b",
            "usr/bin/sh": "sh",
        },
    )
    shutil.copytree(base, top, symlinks=True)
    (top / "etc/shadow").unlink()
    (top / "etc/passwd").write_text("root\nuser")
    shutil.rmtree(top / "var/log")
    _write(top, {"var/log/new": "n", "home/u/.profile": "p"})
    blobs = []
    for changes in (changes_from_dir(base), changes_from_diff(base, top)):
        info = store_layer(content, changes, LayerOptions())
        blobs.append(LayerBlob(info.digest, info.diff_id, info.size))
    return blobs


def _files(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            out[path.relative_to(root).as_posix()] = path.read_text()
    return out


def test_chain_ids_follow_the_oci_definition() -> None:
    d0, d1 = sha256_bytes(b"0"), sha256_bytes(b"1")
    assert chain_ids([d0, d1]) == (d0, sha256_bytes(f"{d0} {d1}".encode()))


def test_materialize_applies_the_chain_with_whiteouts(
    tmp_path: Path, root: Root, content: ContentStore
) -> None:
    layers = _two_layers(tmp_path, content)
    SnapshotStore(root, content).materialize(layers, tmp_path / "rootfs")
    assert _files(tmp_path / "rootfs") == _files(tmp_path / "top")


def test_materialize_refuses_a_non_empty_target(
    tmp_path: Path, root: Root, content: ContentStore
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t/x").write_text("")
    with pytest.raises(StoreError, match="not an empty directory"):
        SnapshotStore(root, content).materialize([], tmp_path / "t")


@pytest.mark.privileged
def test_ensure_unpacks_each_layer_overlay_style(
    tmp_path: Path, root: Root, content: ContentStore
) -> None:
    layers = _two_layers(tmp_path, content)
    snaps = SnapshotStore(root, content)
    paths = snaps.ensure(layers)
    chains = chain_ids([layer.diff_id for layer in layers])
    assert paths == [root.snapshots / c.hex / "diff" for c in chains]
    assert snaps.ids() == sorted(c.hex for c in chains)
    for gone in ("etc/shadow", "var/log/a", "var/log/b"):
        st = os.lstat(paths[1] / gone)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0, gone
    assert (paths[1] / "var/log/new").read_text() == "n"
    assert (paths[0] / "etc/shadow").read_text() == "secret"


@pytest.mark.privileged
def test_overlay_of_snapshots_equals_materialized_rootfs(
    tmp_path: Path, root: Root, content: ContentStore
) -> None:
    layers = _two_layers(tmp_path, content)
    snaps = SnapshotStore(root, content)
    lowers = ":".join(str(p) for p in reversed(snaps.ensure(layers)))
    merged = tmp_path / "merged"
    merged.mkdir()
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lowers}", str(merged)], check=True
    )
    try:
        seen = _files(merged)
    finally:
        subprocess.run(["umount", str(merged)], check=True)
    assert seen == _files(tmp_path / "top")


@pytest.mark.privileged
def test_ensure_unpacks_once_even_when_called_concurrently(
    tmp_path: Path, root: Root, content: ContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    layers = _two_layers(tmp_path, content)
    calls: list[Path] = []
    real = apply_layer

    def counting(*args: object) -> object:
        calls.append(args[1])  # type: ignore[arg-type]
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr("builder.snapshots.store.apply_layer", counting)
    snaps = SnapshotStore(root, content)
    threads = [threading.Thread(target=snaps.ensure, args=(layers,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snaps.ensure(layers)
    assert len(calls) == 2


def test_diff_id_mismatch_is_refused_and_leaves_nothing(
    tmp_path: Path, root: Root, content: ContentStore
) -> None:
    _write(tmp_path / "t", {"f": "x"})
    info = store_layer(content, changes_from_dir(tmp_path / "t"), LayerOptions())
    lie = LayerBlob(info.digest, sha256_bytes(b"not it"), info.size)
    with pytest.raises(InvalidInputError, match="unpacks to diff_id"):
        SnapshotStore(root, content).ensure([lie])
    assert list(root.snapshots.iterdir()) == []
    assert list(root.tmp.iterdir()) == []


def test_missing_blob_is_not_found(root: Root, content: ContentStore) -> None:
    ghost = LayerBlob(sha256_bytes(b"a"), sha256_bytes(b"b"))
    with pytest.raises(NotFoundError):
        SnapshotStore(root, content).ensure([ghost])
    assert list(root.snapshots.iterdir()) == []


@pytest.mark.privileged
def test_gc_and_prune_keep_only_what_is_asked(
    tmp_path: Path, root: Root, content: ContentStore
) -> None:
    layers = _two_layers(tmp_path, content)
    snaps = SnapshotStore(root, content)
    snaps.ensure(layers)
    bottom, top = chain_ids([layer.diff_id for layer in layers])
    usage = snaps.usage(frozenset({bottom}))
    assert (usage.total, usage.active) == (2, 1) and 0 < usage.reclaimable < usage.size
    pruned = snaps.prune(frozenset({bottom}))
    assert pruned.total == 1 and pruned.size == usage.reclaimable
    assert snaps.ids() == [bottom.hex]
    assert snaps.gc(set()) == [bottom.hex]
    assert snaps.ids() == [] and list(root.snapshots.iterdir()) == []
    assert not snaps.remove(top.hex)


def test_remove_refuses_ids_that_are_not_chain_ids(root: Root, content: ContentStore) -> None:
    with pytest.raises(InvalidInputError, match="invalid snapshot id"):
        SnapshotStore(root, content).remove("../../etc")
