"""Garbage collection, prune and disk usage."""

from __future__ import annotations

import threading

import pytest

from builder.images.gc import (
    GcOptions,
    PruneScope,
    Usage,
    collect_garbage,
    disk_usage,
    live_chain_ids,
    prune_images,
    reachable,
)
from builder.images.store import ImageStore
from builder.oci.descriptor import Descriptor, MediaType
from builder.oci.image import Index, Manifest, chain_ids
from builder.oci.reference import ImageRef
from solver.digest import Digest, sha256_bytes

from .conftest import make_image, make_index


def _blobs_of(images: ImageStore, target: Descriptor) -> set[Digest]:
    data = images.content.read_bytes(target.digest)
    if target.media_type == MediaType.OCI_INDEX:
        out = {target.digest}
        for m in Index.from_json(data).manifests:
            out |= _blobs_of(images, m)
        return out
    manifest = Manifest.from_json(data)
    return {target.digest, manifest.config.digest, *(layer.digest for layer in manifest.layers)}


class FakeSnapshots:
    """A snapshot store keyed by chain ID, recording what GC asked it to keep."""

    def __init__(self, ids: set[Digest]) -> None:
        self.ids = set(ids)
        self.kept: frozenset[Digest] | None = None

    def prune(self, keep: frozenset[Digest]) -> Usage:
        self.kept = keep
        gone = self.ids - keep
        self.ids -= gone
        return Usage(total=len(gone), size=100 * len(gone))

    def usage(self, keep: frozenset[Digest]) -> Usage:
        return Usage(len(self.ids), len(self.ids & keep), 100 * len(self.ids),
                     100 * len(self.ids - keep))


def test_gc_keeps_everything_reachable_and_removes_the_rest(images: ImageStore) -> None:
    kept = make_image(images, b"shared", b"mine")
    dropped = make_image(images, b"shared", b"theirs")
    images.set(ImageRef.parse("kept"), kept)
    junk = images.content.put_bytes(b"unreferenced")
    expected_kept = _blobs_of(images, kept)
    expected_gone = (_blobs_of(images, dropped) - expected_kept) | {junk}

    result = collect_garbage(images)

    assert set(images.content.digests()) == expected_kept
    assert set(result.blobs_removed) == expected_gone
    assert result.blob_bytes > 0 and result.reclaimed == result.blob_bytes
    _, config = images.load_image(kept)  # still loads after GC
    assert len(config.rootfs.diff_ids) == 2


def test_gc_follows_indexes_and_tolerates_missing_platforms(images: ImageStore) -> None:
    amd = make_image(images, b"amd")
    arm = make_image(images, b"arm")
    index = make_index(images, (amd, "linux/amd64"), (arm, "linux/arm64"))
    for digest in _blobs_of(images, arm):  # a pull fetched only one platform
        images.content.delete(digest)
    images.set(ImageRef.parse("multi"), index)
    collect_garbage(images)
    assert set(images.content.digests()) == _blobs_of(images, amd) | {index.digest}


def test_gc_keeps_extra_roots(images: ImageStore) -> None:
    cached = images.content.put_bytes(b"layer the build cache uses")
    collect_garbage(images, GcOptions(extra_roots=frozenset({cached})))
    assert images.content.has(cached)


def test_gc_passes_live_chain_ids_to_the_snapshot_pruner(images: ImageStore) -> None:
    target = make_image(images, b"a", b"b")
    images.set(ImageRef.parse("x"), target)
    live = set(chain_ids((sha256_bytes(b"a"), sha256_bytes(b"b"))))
    stale = sha256_bytes(b"stale chain")
    snaps = FakeSnapshots(live | {stale})
    result = collect_garbage(images, GcOptions(snapshots=snaps))
    assert snaps.kept == frozenset(live) == live_chain_ids(images)
    assert snaps.ids == live
    assert result.snapshots == Usage(total=1, size=100)


def test_gc_waits_for_leases(images: ImageStore) -> None:
    done = threading.Event()

    def gc() -> None:
        collect_garbage(images)
        done.set()

    with images.content.lease():
        blob = images.content.put_bytes(b"written during a build")
        t = threading.Thread(target=gc)
        t.start()
        assert not done.wait(0.2)
        images.set(ImageRef.parse("built"), make_image(images, b"written during a build"))
    assert done.wait(10)
    t.join()
    assert images.content.has(blob)


def test_reachable_includes_referenced_but_missing_blobs(images: ImageStore) -> None:
    target = make_image(images, b"l")
    manifest = Manifest.from_json(images.content.read_bytes(target.digest))
    images.content.delete(manifest.layers[0].digest)
    assert manifest.layers[0].digest in reachable(images.content, [target])


def test_prune_dangling_removes_only_unnamed_images(images: ImageStore) -> None:
    named = make_image(images, b"named")
    old = make_image(images, b"old")
    images.set(ImageRef.parse("app"), old)
    images.set(ImageRef.parse("app"), named)  # old becomes dangling
    result = prune_images(images, PruneScope.DANGLING)
    assert [r.target.digest for r in result.images_removed] == [old.digest]
    assert [r.name for r in images.records()] == [ImageRef.parse("app")]
    assert not images.content.has(old.digest)
    assert images.content.has(named.digest)


def test_prune_all_removes_every_image_not_in_use(images: ImageStore) -> None:
    used = make_image(images, b"used")
    unused = make_image(images, b"unused")
    images.set(ImageRef.parse("used"), used)
    images.set(ImageRef.parse("unused"), unused)
    used_id = images.image_id(images.resolve("used"))
    result = prune_images(images, PruneScope.ALL, in_use=frozenset({used_id}))
    assert [str(r.name) for r in result.images_removed] == ["docker.io/library/unused:latest"]
    assert set(images.content.digests()) == _blobs_of(images, used)


def test_prune_all_without_containers_removes_everything(images: ImageStore) -> None:
    images.set(ImageRef.parse("a"), make_image(images, b"a"))
    images.add_dangling(make_image(images, b"b"))
    result = prune_images(images, PruneScope.ALL)
    assert len(result.images_removed) == 2
    assert images.records() == [] and list(images.content.digests()) == []


def test_disk_usage_counts_shared_blobs_once(images: ImageStore) -> None:
    shared = b"s" * 1000
    a = make_image(images, shared, b"a" * 10)
    b = make_image(images, shared, b"b" * 20)
    images.set(ImageRef.parse("a"), a)
    images.set(ImageRef.parse("b"), b)
    junk = images.content.put_bytes(b"j" * 7)
    (images.root.cache / "index.db").write_bytes(b"c" * 50)

    usage = disk_usage(images, in_use=frozenset({b.digest}))

    sizes = {d: images.content.size(d) for d in _blobs_of(images, a) | _blobs_of(images, b)}
    assert usage.images.total == 2 and usage.images.active == 1
    assert usage.images.size == sum(sizes.values())
    only_a = _blobs_of(images, a) - _blobs_of(images, b)
    assert usage.images.reclaimable == sum(sizes[d] for d in only_a)
    per = {str(u.record.name): u for u in usage.per_image}
    assert per["docker.io/library/a:latest"].shared_size == 1000
    assert per["docker.io/library/a:latest"].unique_size == sum(sizes[d] for d in only_a)
    assert usage.unreferenced_blob_bytes == images.content.size(junk)
    assert usage.build_cache.size == 50
    assert usage.snapshots == Usage()


def test_disk_usage_asks_the_snapshot_store(images: ImageStore) -> None:
    images.set(ImageRef.parse("a"), make_image(images, b"x"))
    snaps = FakeSnapshots({sha256_bytes(b"x"), sha256_bytes(b"old")})
    usage = disk_usage(images, snapshots=snaps)
    assert usage.snapshots == Usage(total=2, active=1, size=200, reclaimable=100)


@pytest.mark.parametrize("scope", list(PruneScope))
def test_prune_on_an_empty_store_does_nothing(images: ImageStore, scope: PruneScope) -> None:
    result = prune_images(images, scope)
    assert result.images_removed == () and result.gc.blobs_removed == ()
