"""Garbage collection, image pruning and disk usage (``image prune``, ``system prune|df``).

May import: stdlib, solver.digest, builder.{errors,root,oci,content,images.store}.

Reachability: image records → manifests/indexes → configs and layers. Blobs
nothing reaches are deleted; snapshots are swept through the ``SnapshotPruner``
protocol, which the snapshot store implements (it may not be imported from
here: snapshots sit above images), given the chain IDs of every live image.

Collection holds ``Root.lock("gc")`` exclusively; writers hold it shared through
``ContentStore.lease()`` until their blobs are referenced by an image record.
Do not call ``collect_garbage`` while holding a lease in the same thread.

Prune semantics (docker's): ``PruneScope.DANGLING`` removes images without a
name; ``PruneScope.ALL`` removes every image no container uses (``in_use`` holds
the image IDs or target digests of images that containers use; with no
containers, ``-a`` removes every image). Then unreachable blobs and snapshots
are collected. The build-cache index (solver.cachestore) is pruned by the caller;
pass the blobs it still refers to as ``GcOptions.extra_roots``.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, NotFoundError
from builder.images.store import ImageRecord, ImageStore
from builder.oci.descriptor import Descriptor, MediaType
from builder.oci.image import ImageConfig, Index, Manifest, chain_ids, parse_manifest_or_index
from solver.digest import Digest

__all__ = [
    "DiskUsage",
    "GcOptions",
    "GcResult",
    "ImageUsage",
    "PruneResult",
    "PruneScope",
    "SnapshotPruner",
    "Usage",
    "collect_garbage",
    "disk_usage",
    "live_chain_ids",
    "prune_images",
    "reachable",
]

_SNIFF_LIMIT = 4 << 20  # blobs of unknown type larger than this are leaves


@dataclass(frozen=True, slots=True)
class Usage:
    """One row of ``system df``: how many, how many in use, bytes, bytes reclaimable."""

    total: int = 0
    active: int = 0
    size: int = 0
    reclaimable: int = 0


class SnapshotPruner(Protocol):
    """What the snapshot store offers to garbage collection."""

    def prune(self, keep: frozenset[Digest]) -> Usage:
        """Remove snapshots not needed for the layer chains ``keep`` (chain IDs) nor
        by a live lease; returns what was removed (``total`` = count, ``size`` = bytes)."""
        ...

    def usage(self, keep: frozenset[Digest]) -> Usage:
        """Snapshot count and bytes, and what ``prune(keep)`` would reclaim."""
        ...


class PruneScope(enum.Enum):
    """Which images ``prune_images`` removes."""

    DANGLING = "dangling"  # ``image prune``: images without a name
    ALL = "all"  # ``image prune -a``: every image no container uses


@dataclass(frozen=True, slots=True)
class GcOptions:
    """Extra inputs to a collection.

    Attributes:
        extra_roots: blobs to keep although no image refers to them (for
            example the layers the build cache index still points at).
        snapshots: the snapshot store's pruner, or ``None`` to leave snapshots alone.
    """

    extra_roots: frozenset[Digest] = frozenset()
    snapshots: SnapshotPruner | None = None


@dataclass(frozen=True, slots=True)
class GcResult:
    """What a collection removed."""

    blobs_removed: tuple[Digest, ...] = ()
    blob_bytes: int = 0
    snapshots: Usage = field(default_factory=Usage)

    @property
    def reclaimed(self) -> int:
        """Total bytes freed."""
        return self.blob_bytes + self.snapshots.size


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a prune removed: image records, then garbage."""

    images_removed: tuple[ImageRecord, ...]
    gc: GcResult


@dataclass(frozen=True, slots=True)
class ImageUsage:
    """Per-image sizes for ``system df -v``: all its blobs, the shared and unique part."""

    record: ImageRecord
    image_id: Digest
    size: int
    shared_size: int
    unique_size: int


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """``system df``: images, build cache and snapshots."""

    images: Usage
    build_cache: Usage
    snapshots: Usage
    per_image: tuple[ImageUsage, ...]
    unreferenced_blob_bytes: int


def _children(content: ContentStore, desc: Descriptor) -> list[Descriptor]:
    """The descriptors a manifest or index points at ([] for leaves and missing blobs)."""
    kind = desc.kind
    if kind is not None and (kind.is_layer or kind.is_config):
        return []
    if kind is None and (desc.size > _SNIFF_LIMIT or desc.size == 0):
        return []
    try:
        data = content.read_bytes(desc.digest)
        doc = parse_manifest_or_index(data, desc.media_type)
    except (NotFoundError, InvalidInputError):
        return []
    if isinstance(doc, Index):
        return list(doc.manifests) + ([doc.subject] if doc.subject else [])
    return [doc.config, *doc.layers] + ([doc.subject] if doc.subject else [])


def reachable(content: ContentStore, roots: Iterable[Descriptor]) -> set[Digest]:
    """Every digest reachable from ``roots`` through manifests and indexes
    (including the roots and blobs that are referenced but missing)."""
    seen: set[Digest] = set()
    stack = list(roots)
    while stack:
        desc = stack.pop()
        if desc.digest in seen:
            continue
        seen.add(desc.digest)
        stack.extend(_children(content, desc))
    return seen


def _configs(images: ImageStore, record: ImageRecord) -> list[ImageConfig]:
    """The configs of every platform of ``record`` that is present locally."""
    content = images.content
    out: list[ImageConfig] = []
    stack = [record.target]
    while stack:
        desc = stack.pop()
        try:
            doc = parse_manifest_or_index(content.read_bytes(desc.digest), desc.media_type)
            if isinstance(doc, Index):
                stack.extend(doc.manifests)
            elif isinstance(doc, Manifest) and MediaType(doc.config.media_type).is_config:
                out.append(ImageConfig.from_json(content.read_bytes(doc.config.digest)))
        except (NotFoundError, InvalidInputError, ValueError):
            continue
    return out


def live_chain_ids(images: ImageStore) -> frozenset[Digest]:
    """The chain IDs of every layer of every image in the store (snapshots to keep)."""
    keep: set[Digest] = set()
    for rec in images.records():
        for config in _configs(images, rec):
            keep.update(chain_ids(config.rootfs.diff_ids))
    return frozenset(keep)


def collect_garbage(images: ImageStore, options: GcOptions | None = None) -> GcResult:
    """Delete blobs (and, with a pruner, snapshots) that no image reaches.

    Raises:
        InvalidInputError: ``refs/index.json`` is damaged (nothing is deleted then).
    """
    options = options or GcOptions()
    content = images.content
    with images.root.lock("gc"):
        roots = [r.target for r in images.records()]
        keep = reachable(content, roots) | options.extra_roots
        removed: list[Digest] = []
        freed = 0
        for digest in sorted(content.digests()):
            if digest in keep:
                continue
            try:
                size = content.size(digest)
            except NotFoundError:
                continue
            if content.delete(digest):
                removed.append(digest)
                freed += size
        snaps = Usage()
        if options.snapshots is not None:
            snaps = options.snapshots.prune(live_chain_ids(images))
    return GcResult(tuple(removed), freed, snaps)


def prune_images(images: ImageStore, scope: PruneScope,
                 in_use: frozenset[Digest] = frozenset(),
                 options: GcOptions | None = None) -> PruneResult:
    """``image prune [-a]`` / ``system prune [-a]``: drop records, then collect garbage.

    Args:
        images: the image store.
        scope: dangling images only, or every image no container uses.
        in_use: image IDs or target digests of images that containers use.
        options: extra GC roots and the snapshot pruner.

    Raises:
        InvalidInputError: ``refs/index.json`` is damaged.
    """
    removed: list[ImageRecord] = []
    for rec in images.records():
        if scope is PruneScope.DANGLING and rec.name is not None:
            continue
        if rec.target.digest in in_use or images.image_id(rec) in in_use:
            continue
        try:
            removed.extend(images.remove_image(rec.target.digest))
        except NotFoundError:  # removed concurrently
            continue
    return PruneResult(tuple(removed), collect_garbage(images, options))


def _tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:
                continue
    return total


def _blob_size(content: ContentStore, digest: Digest) -> int:
    try:
        return content.size(digest)
    except NotFoundError:
        return 0


def disk_usage(images: ImageStore, in_use: frozenset[Digest] = frozenset(),
               snapshots: SnapshotPruner | None = None) -> DiskUsage:
    """``system df``: image sizes count each blob once (shared layers are shared).

    Raises:
        InvalidInputError: ``refs/index.json`` is damaged.
    """
    content = images.content
    records = images.records()
    by_target: dict[Digest, set[Digest]] = {}
    for rec in records:
        by_target.setdefault(rec.target.digest, reachable(content, [rec.target]))
    owners: dict[Digest, int] = {}
    for blobs in by_target.values():
        for d in blobs:
            owners[d] = owners.get(d, 0) + 1
    per_image: list[ImageUsage] = []
    for rec in records:
        blobs = by_target[rec.target.digest]
        size = sum(_blob_size(content, d) for d in blobs)
        unique = sum(_blob_size(content, d) for d in blobs if owners[d] == 1)
        per_image.append(ImageUsage(rec, images.image_id(rec), size, size - unique, unique))
    ids = {u.image_id: u for u in per_image}
    used = {u.image_id for u in per_image if u.record.target.digest in in_use
            or u.image_id in in_use}
    all_blobs = set(owners)
    used_blobs = set().union(*(by_target[ids[i].record.target.digest] for i in used)) \
        if used else set()
    images_row = Usage(
        total=len(ids), active=len(used),
        size=sum(_blob_size(content, d) for d in all_blobs),
        reclaimable=sum(_blob_size(content, d) for d in all_blobs - used_blobs),
    )
    unreferenced = sum(_blob_size(content, d) for d in set(content.digests()) - all_blobs)
    cache_bytes = _tree_size(images.root.cache)
    snaps = snapshots.usage(live_chain_ids(images)) if snapshots is not None else Usage()
    return DiskUsage(images_row, Usage(0, 0, cache_bytes, cache_bytes), snaps,
                     tuple(per_image), unreferenced)
