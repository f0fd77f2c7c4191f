"""The snapshot store: each image layer unpacked once, keyed by its chain ID.

May import: stdlib, solver.digest, builder.{errors,root,oci,content,images.gc,layers}.

Layout, one directory per layer (overlay-style, so overlayfs can stack them)::

    snapshots/<chain-id hex>/diff/        the layer's own changes; whiteouts kept as
                                          overlay whiteouts (char 0:0, opaque xattr)
    snapshots/<chain-id hex>/meta.json    {"chain_id", "diff_id", "parent", "blob"}

A snapshot is unpacked in the root's tmp/ and renamed into place when complete,
under ``Root.lock("snapshot-<hex>")`` so two processes never unpack the same layer
twice; the tar's diff_id is verified against the image config's while unpacking.
Users of snapshots hold ``lease()`` (a shared lock) and ``prune``/``gc`` take it
exclusively, so a snapshot in use is never removed. ``materialize`` applies a chain
into a plain rootfs (whiteouts applied) for non-overlay consumers and tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, StoreError
from builder.images.gc import Usage
from builder.layers.apply import ApplyOptions, WhiteoutMode, apply_layer, unpack_layer
from builder.oci.image import ImageConfig, Manifest, chain_ids
from builder.root import Root
from solver.digest import Digest

__all__ = ["LayerBlob", "SnapshotStore", "layer_blobs"]

_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
_LEASE = "snapshots-gc"
_OVERLAY = ApplyOptions(whiteouts=WhiteoutMode.OVERLAY)


@dataclass(frozen=True, slots=True)
class LayerBlob:
    """One layer to unpack: its blob in the content store and its config diff_id.

    Attributes:
        digest: the (possibly compressed) blob's digest, from the manifest.
        diff_id: the uncompressed tar's digest, from the config's ``rootfs.diff_ids``.
        size: the blob's size from the manifest, checked while reading (None: unchecked).
    """

    digest: Digest
    diff_id: Digest
    size: int | None = None


def layer_blobs(manifest: Manifest, config: ImageConfig) -> list[LayerBlob]:
    """Pair a manifest's layer descriptors with its config's diff_ids, bottom first.

    Raises:
        InvalidInputError: the manifest and the config count different layers.
    """
    diff_ids = config.rootfs.diff_ids
    if len(manifest.layers) != len(diff_ids):
        raise InvalidInputError(
            f"image has {len(manifest.layers)} layers but its config lists {len(diff_ids)} diff_ids"
        )
    return [
        LayerBlob(d.digest, diff, d.size) for d, diff in zip(manifest.layers, diff_ids, strict=True)
    ]


class SnapshotStore:
    """Unpacked layers under ``root.snapshots``."""

    def __init__(self, root: Root, content: ContentStore) -> None:
        self.root = root
        self.content = content

    def path(self, chain_id: Digest) -> Path:
        """The ``diff`` directory of the snapshot ``chain_id`` (whether or not it exists)."""
        return self.root.snapshots / Digest(chain_id).hex / "diff"

    def has(self, chain_id: Digest) -> bool:
        """True if the snapshot of ``chain_id`` is complete on disk."""
        return (self.root.snapshots / Digest(chain_id).hex / "meta.json").is_file()

    @contextlib.contextmanager
    def lease(self) -> Iterator[None]:
        """Keep ``prune``/``gc`` from removing snapshots while the block runs."""
        with self.root.lock(_LEASE, shared=True):
            yield

    def ensure(self, layers: Sequence[LayerBlob]) -> list[Path]:
        """Unpack every layer of the stack that is not unpacked yet.

        Returns:
            The ``diff`` directory of each layer, bottom first (overlay lowerdirs
            are these in reverse).

        Raises:
            NotFoundError: a layer blob is not in the content store.
            InvalidInputError: a blob is corrupt or hostile, or its diff_id differs
                from the config's.
        """
        paths: list[Path] = []
        parent: Digest | None = None
        chains = chain_ids([layer.diff_id for layer in layers])
        with self.lease():
            for layer, chain in zip(layers, chains, strict=True):
                if not self.has(chain):
                    with self.root.lock(f"snapshot-{chain.hex}"):
                        if not self.has(chain):
                            self._unpack(layer, chain, parent)
                paths.append(self.path(chain))
                parent = chain
        return paths

    def _unpack(self, layer: LayerBlob, chain: Digest, parent: Digest | None) -> None:
        final = self.root.snapshots / chain.hex
        with self.root.tempdir("snapshot-") as stage:
            with self.content.open_blob(layer.digest, layer.size) as blob:
                got = apply_layer(blob, stage / "diff", _OVERLAY)
            _check_diff_id(layer, got)
            meta = {"blob": layer.digest, "chain_id": chain, "diff_id": got, "parent": parent}
            (stage / "meta.json").write_text(json.dumps(meta, sort_keys=True) + "\n")
            if final.exists():  # debris of an interrupted removal: no meta.json
                shutil.rmtree(final)
            os.rename(stage, final)

    def materialize(self, layers: Sequence[LayerBlob], target: str | Path) -> None:
        """Apply the layer stack into ``target`` as a plain rootfs (whiteouts applied).

        ``target`` must not exist or be empty; it appears only when complete.

        Raises:
            NotFoundError: a layer blob is not in the content store.
            InvalidInputError: a blob is corrupt or hostile, or its diff_id differs.
            StoreError: ``target`` exists and is not an empty directory.
        """
        dest = Path(target)
        if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
            raise StoreError(f"{dest}: exists and is not an empty directory")
        stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            for layer in layers:
                with self.content.open_blob(layer.digest, layer.size) as blob:
                    _check_diff_id(layer, unpack_layer(blob, stage))
            os.chmod(stage, 0o755)
            os.rename(stage, dest)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise

    def ids(self) -> list[str]:
        """The ids (chain-ID hex) of every complete layer snapshot, sorted."""
        return sorted(
            e.name
            for e in os.scandir(self.root.snapshots)
            if _HEX_RE.match(e.name) and os.path.isfile(os.path.join(e.path, "meta.json"))
        )

    def remove(self, snapshot_id: str) -> bool:
        """Remove one snapshot; returns False if there was none.

        Raises:
            InvalidInputError: ``snapshot_id`` is not a chain-ID hex string.
        """
        if not _HEX_RE.match(snapshot_id):
            raise InvalidInputError(f"invalid snapshot id {snapshot_id!r}")
        final = self.root.snapshots / snapshot_id
        if not final.exists():
            return False
        with self.root.lock(f"snapshot-{snapshot_id}"):
            # meta.json goes first: a half-removed snapshot is never taken as complete
            with contextlib.suppress(FileNotFoundError):
                os.unlink(final / "meta.json")
            shutil.rmtree(final, ignore_errors=True)
        return True

    def gc(self, keep: set[str]) -> list[str]:
        """Remove every layer snapshot whose id is not in ``keep``; returns the removed ids.

        Waits for live leases to end. Do not call it while holding ``lease()``.
        """
        with self.root.lock(_LEASE):
            removed = [sid for sid in self.ids() if sid not in keep]
            for sid in removed:
                self.remove(sid)
        return removed

    def prune(self, keep: frozenset[Digest]) -> Usage:
        """``SnapshotPruner.prune``: remove snapshots whose chain ID is not in ``keep``."""
        size = sum(_du(self.root.snapshots / sid) for sid in self._unkept(keep))
        removed = self.gc({Digest(k).hex for k in keep})
        return Usage(total=len(removed), size=size)

    def usage(self, keep: frozenset[Digest]) -> Usage:
        """``SnapshotPruner.usage``: count and bytes, and what ``prune(keep)`` would free."""
        sizes = {sid: _du(self.root.snapshots / sid) for sid in self.ids()}
        unkept = set(self._unkept(keep))
        return Usage(
            total=len(sizes),
            active=len(sizes) - len(unkept),
            size=sum(sizes.values()),
            reclaimable=sum(sizes[s] for s in unkept if s in sizes),
        )

    def _unkept(self, keep: frozenset[Digest]) -> list[str]:
        hexes = {Digest(k).hex for k in keep}
        return [sid for sid in self.ids() if sid not in hexes]


def _check_diff_id(layer: LayerBlob, got: Digest) -> None:
    if got != layer.diff_id:
        raise InvalidInputError(
            f"layer {layer.digest} unpacks to diff_id {got}, but the image config says "
            f"{layer.diff_id}",
            hint="the image is corrupt or was tampered with",
        )


def _du(path: Path) -> int:
    """Bytes of regular files under ``path``, each inode counted once."""
    seen: set[int] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(st.st_mode) and st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total
