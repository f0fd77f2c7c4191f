"""The local worker's results: layer-snapshot chains and context directories, and their views.

May import: stdlib, solver.{digest,worker}, builder lower layers (errors, root, oci,
content, layers, snapshots), builder.worker.copy_paths.

A step's result is a ``SnapshotRef``: the chain of layers bottom first, each one
unpacked as an overlay-style ``diff`` directory under ``snapshots/<chain-id hex>/``
(the same layout ``SnapshotStore`` uses for image layers, so built and pulled layers
share storage) and stored as a compressed blob in the content store. A local build
context is a ``DirRef``: the directory itself, with its ignore rules.

    commit_upper(stores, parent, upper, layer_options) -> SnapshotRef
    load_chain(stores, top_chain_hex) -> SnapshotRef | None
    with merged_view(stores, ref) as path: …        a read-only merged rootfs
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from builder.content.store import ContentStore
from builder.layers import (
    LayerOptions,
    changes_from_upper,
    detect_compression,
    media_type_for,
    store_layer,
)
from builder.oci.config import chain_ids
from builder.root import Root
from builder.snapshots.overlay import overlay_mounted
from builder.snapshots.store import SnapshotStore
from builder.worker.copy_paths import SourceTree
from solver.digest import Digest
from solver.worker import ResultId

__all__ = [
    "DirRef",
    "LayerRecord",
    "LocalRef",
    "SnapshotRef",
    "Stores",
    "commit_upper",
    "load_chain",
    "merged_view",
]

SCRATCH_ID = "scratch"


@dataclass(frozen=True, slots=True)
class Stores:
    """The root and the stores the worker reads and writes."""

    root: Root
    content: ContentStore
    snapshots: SnapshotStore


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """One layer of a chain: its chain ID, diff ID and stored blob."""

    chain_id: Digest
    diff_id: Digest
    blob: Digest
    size: int
    media_type: str
    created: str = ""


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    """A committed root filesystem: ``layers`` bottom first (empty: scratch)."""

    layers: tuple[LayerRecord, ...] = ()

    def describe(self) -> ResultId:
        top = self.layers[-1].chain_id.hex if self.layers else SCRATCH_ID
        return ResultId(top, tuple(layer.blob for layer in self.layers),
                        sum(layer.size for layer in self.layers))

    def clone(self) -> SnapshotRef:
        return self

    def release(self) -> None:
        """Nothing to do: snapshots live until ``prune``."""

    def diff_dirs(self, snapshots: SnapshotStore) -> list[Path]:
        """The ``diff`` directory of each layer, bottom first (overlay lowerdirs)."""
        return [snapshots.path(layer.chain_id) for layer in self.layers]


@dataclass(frozen=True, slots=True)
class DirRef:
    """A client directory (a build context) read in place."""

    name: str
    tree: SourceTree

    def describe(self) -> ResultId:
        return ResultId(f"context:{self.name}")

    def clone(self) -> DirRef:
        return self

    def release(self) -> None:
        """Nothing to do: the context belongs to the client."""


LocalRef = SnapshotRef | DirRef


def commit_upper(stores: Stores, parent: SnapshotRef, upper: Path,
                 opts: LayerOptions) -> SnapshotRef:
    """Turn an overlay upperdir into a new layer on top of ``parent``.

    The layer blob goes to the content store; ``upper`` is moved into the snapshot
    store (or removed when an identical snapshot already exists).

    Raises:
        StoreError: the content store or snapshot directory cannot be written.
        OSError: the upperdir cannot be read.
    """
    info = store_layer(stores.content, changes_from_upper(upper), opts)
    diffs = [layer.diff_id for layer in parent.layers] + [info.diff_id]
    chain = chain_ids(diffs)[-1]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    record = LayerRecord(chain, info.diff_id, info.digest, info.size, info.media_type, now)
    snapshots = stores.snapshots
    if not snapshots.has(chain):
        with stores.root.lock(f"snapshot-{chain.hex}"):
            if not snapshots.has(chain):
                _install(stores, record, parent, upper)
    shutil.rmtree(upper, ignore_errors=True)
    with contextlib.suppress(OSError, ValueError):  # an existing snapshot keeps its time
        meta = json.loads((stores.root.snapshots / chain.hex / "meta.json").read_text())
        record = dataclasses.replace(record, created=str(meta.get("created") or now))
    return SnapshotRef((*parent.layers, record))


def _install(stores: Stores, record: LayerRecord, parent: SnapshotRef, upper: Path) -> None:
    final = stores.root.snapshots / record.chain_id.hex
    with stores.root.tempdir("snapshot-") as stage:
        os.rename(upper, stage / "diff")
        meta = {
            "blob": record.blob, "chain_id": record.chain_id, "created": record.created,
            "diff_id": record.diff_id,
            "media_type": record.media_type,
            "parent": parent.layers[-1].chain_id if parent.layers else None,
            "size": record.size,
        }
        (stage / "meta.json").write_text(json.dumps(meta, sort_keys=True) + "\n")
        if final.exists():  # debris of an interrupted removal: no meta.json
            shutil.rmtree(final)
        os.rename(stage, final)


def load_chain(stores: Stores, top: str) -> SnapshotRef | None:
    """The chain whose top snapshot is ``top`` (a chain-ID hex, or ``scratch``), or None
    when a snapshot or blob of it is gone."""
    if top == SCRATCH_ID:
        return SnapshotRef()
    layers: list[LayerRecord] = []
    current: str | None = top
    while current:
        meta_path = stores.root.snapshots / current / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
            record = _record(stores.content, meta)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if record is None:
            return None
        layers.append(record)
        parent = meta.get("parent")
        current = Digest(parent).hex if parent else None
    return SnapshotRef(tuple(reversed(layers)))


def _record(content: ContentStore, meta: dict[str, object]) -> LayerRecord | None:
    blob = Digest(str(meta["blob"]))
    if not content.has(blob):
        return None
    size = meta.get("size")
    media_type = meta.get("media_type")
    if not isinstance(size, int):
        size = content.size(blob)
    if not isinstance(media_type, str):
        with content.open_blob(blob) as stream:
            media_type = media_type_for(detect_compression(stream.read(8)))
    return LayerRecord(Digest(str(meta["chain_id"])), Digest(str(meta["diff_id"])), blob, size,
                       media_type, str(meta.get("created") or ""))


@contextlib.contextmanager
def merged_view(stores: Stores, ref: LocalRef) -> Iterator[Path]:
    """A read-only view of ``ref``'s files for the ``with`` block: the context
    directory itself, an empty directory for scratch, else an overlay mount (whose
    throwaway upper is discarded afterwards).

    Raises:
        OverlayError: the overlay mount failed.
    """
    if isinstance(ref, DirRef):
        yield ref.tree.path
        return
    with stores.root.tempdir("view-") as tmp:
        target = tmp / "merged"
        target.mkdir()
        if not ref.layers:
            yield target
            return
        for name in ("upper", "work"):
            (tmp / name).mkdir()
        with overlay_mounted(ref.diff_dirs(stores.snapshots), tmp / "upper", tmp / "work",
                             target):
            yield target
