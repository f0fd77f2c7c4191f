"""Image store: tagging, dangling images, docker-style resolve, concurrent taggers."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, NotFoundError, UsageError
from builder.images.store import ImageRecord, ImageStore
from builder.oci.descriptor import Descriptor, Platform
from builder.oci.image import Manifest
from builder.oci.reference import ImageRef
from builder.root import Root
from solver.digest import Digest, sha256_bytes

from .conftest import make_image, make_index


def ref(text: str) -> ImageRef:
    return ImageRef.parse(text)


def _config_digest(images: ImageStore, target: Descriptor) -> Digest:
    return Manifest.from_json(images.content.read_bytes(target.digest)).config.digest


def test_set_then_get(images: ImageStore) -> None:
    target = make_image(images, b"layer")
    images.set(ref("app:v1"), target)
    assert images.get(ref("app:v1")) == target
    assert images.get(ref("app:v2")) is None
    [rec] = images.records()
    assert rec.name == ref("docker.io/library/app:v1") and rec.target == target
    assert rec.created.endswith("Z")


def test_set_refuses_a_target_that_is_not_stored(images: ImageStore) -> None:
    bogus = Descriptor("application/vnd.oci.image.manifest.v1+json", sha256_bytes(b"x"), 1)
    with pytest.raises(NotFoundError):
        images.set(ref("app"), bogus)
    assert images.records() == []


def test_retag_leaves_the_old_image_dangling(images: ImageStore) -> None:
    old, new = make_image(images, b"old"), make_image(images, b"new")
    images.set(ref("app"), old)
    images.set(ref("app"), new)
    records = images.records()
    assert [(r.name, r.target.digest) for r in records] == [
        (ref("app"), new.digest), (None, old.digest)]


def test_retag_keeps_old_image_named_if_another_name_points_at_it(images: ImageStore) -> None:
    old, new = make_image(images, b"old"), make_image(images, b"new")
    images.set(ref("app"), old)
    images.set(ref("app:stable"), old)
    images.set(ref("app"), new)
    assert all(r.name is not None for r in images.records())


def test_tagging_a_dangling_image_names_it(images: ImageStore) -> None:
    target = make_image(images, b"x")
    images.add_dangling(target)
    assert [r.name for r in images.records()] == [None]
    images.set(ref("named"), target)
    assert [r.name for r in images.records()] == [ref("named")]


def test_add_dangling_is_a_no_op_for_a_known_image(images: ImageStore) -> None:
    target = make_image(images, b"x")
    images.set(ref("a"), target)
    images.add_dangling(target)
    assert len(images.records()) == 1


def test_retag_to_same_target_changes_nothing(images: ImageStore) -> None:
    target = make_image(images, b"x")
    images.set(ref("a"), target)
    before = (images.root.refs / "index.json").read_bytes()
    images.set(ref("a"), target)
    assert (images.root.refs / "index.json").read_bytes() == before


def test_remove_last_name_removes_the_image(images: ImageStore) -> None:
    target = make_image(images, b"x")
    images.set(ref("a"), target)
    removed = images.remove(ref("a"))
    assert removed.target == target and images.records() == []


def test_remove_one_of_two_names_keeps_the_image(images: ImageStore) -> None:
    target = make_image(images, b"x")
    images.set(ref("a"), target)
    images.set(ref("b"), target)
    images.remove(ref("a"))
    assert [r.name for r in images.records()] == [ref("b")]


def test_remove_unknown_name_is_not_found(images: ImageStore) -> None:
    with pytest.raises(NotFoundError, match="no such image: nope:latest"):
        images.remove(ref("nope"))


def test_remove_image_drops_every_name(images: ImageStore) -> None:
    target = make_image(images, b"x")
    images.set(ref("a"), target)
    images.set(ref("b"), target)
    assert len(images.remove_image(target.digest)) == 2
    assert images.records() == []


def test_index_json_is_a_valid_oci_index_with_ref_names(images: ImageStore) -> None:
    images.set(ref("quay.io/x/y:1"), make_image(images, b"x"))
    doc = json.loads((images.root.refs / "index.json").read_bytes())
    assert doc["schemaVersion"] == 2
    notes = doc["manifests"][0]["annotations"]
    assert notes["org.opencontainers.image.ref.name"] == "quay.io/x/y:1"


def test_damaged_index_json_gives_a_clear_error(images: ImageStore) -> None:
    (images.root.refs / "index.json").write_text("{not json")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        images.records()


def test_record_survives_a_round_trip_through_a_descriptor(images: ImageStore) -> None:
    target = make_image(images, b"x")
    rec = ImageRecord(ref("a@" + target.digest), target, "2024-01-01T00:00:00Z")
    assert ImageRecord.from_descriptor(rec.to_descriptor()) == rec


# -- resolve -----------------------------------------------------------------


@pytest.fixture
def tagged(images: ImageStore) -> tuple[ImageStore, Descriptor]:
    target = make_image(images, b"base")
    images.set(ref("busybox:latest"), target)
    images.set(ref("quay.io/org/tool:1.0"), target)
    return images, target


@pytest.mark.parametrize("text", ["busybox", "busybox:latest", "docker.io/library/busybox",
                                  "quay.io/org/tool:1.0"])
def test_resolve_by_name(tagged: tuple[ImageStore, Descriptor], text: str) -> None:
    images, target = tagged
    assert images.resolve(text).target == target


def test_resolve_by_image_id_prefix_and_full_id(tagged: tuple[ImageStore, Descriptor]) -> None:
    images, target = tagged
    image_id = _config_digest(images, target)
    for text in (image_id.hex[:3], image_id.hex[:12], image_id.hex, str(image_id),
                 "sha256:" + image_id.hex[:8]):
        assert images.resolve(text).target == target, text
    assert images.image_id(images.resolve("busybox")) == image_id


def test_resolve_by_manifest_digest(tagged: tuple[ImageStore, Descriptor]) -> None:
    images, target = tagged
    assert images.resolve(str(target.digest)).target == target
    assert images.resolve(target.digest.hex).target == target


def test_resolve_by_name_at_digest(tagged: tuple[ImageStore, Descriptor]) -> None:
    images, target = tagged
    assert images.resolve(f"busybox@{target.digest}").target == target
    assert images.resolve(f"busybox:other@{target.digest}").target == target
    with pytest.raises(NotFoundError):
        images.resolve(f"busybox@{sha256_bytes(b'other')}")


def test_resolve_prefers_a_name_over_an_id_prefix(images: ImageStore) -> None:
    a, b = make_image(images, b"a"), make_image(images, b"b")
    b_id = _config_digest(images, b)
    images.set(ref(b_id.hex[:6]), a)  # a name that looks like b's ID prefix
    images.set(ref("other"), b)
    assert images.resolve(b_id.hex[:6]).target == a
    assert images.resolve(b_id.hex[:7]).target == b


def test_resolve_ambiguous_id_prefix_is_an_error(images: ImageStore) -> None:
    seen: dict[str, Descriptor] = {}
    for i in range(5000):
        target = make_image(images, b"l", tag_note=f"n{i}")
        prefix = _config_digest(images, target).hex[:3]
        if prefix in seen:
            images.add_dangling(seen[prefix])
            images.add_dangling(target)
            break
        seen[prefix] = target
    else:  # pragma: no cover - 4096 prefixes cannot hold 5000 images
        raise AssertionError("no collision")
    with pytest.raises(UsageError, match="ambiguous image ID") as info:
        images.resolve(prefix)
    assert info.value.hint


def test_resolve_unknown_is_not_found(tagged: tuple[ImageStore, Descriptor]) -> None:
    images, _ = tagged
    for text in ("nothere", "fff", "ab", "sha256:" + "f" * 64):
        with pytest.raises(NotFoundError, match="no such image"):
            images.resolve(text)


def test_resolve_invalid_text_gives_reference_error(tagged: tuple[ImageStore, Descriptor]) -> None:
    images, _ = tagged
    with pytest.raises(UsageError, match="must be lowercase"):
        images.resolve("BusyBox")
    with pytest.raises(UsageError, match="invalid image ID"):
        images.resolve("sha256:xyz")


# -- load_image ----------------------------------------------------------------


def test_load_image_returns_manifest_and_config(images: ImageStore) -> None:
    target = make_image(images, b"l1", b"l2")
    manifest, config = images.load_image(target)
    assert len(manifest.layers) == 2
    assert config.rootfs.diff_ids == (sha256_bytes(b"l1"), sha256_bytes(b"l2"))


def test_load_image_picks_the_platform_from_an_index(images: ImageStore) -> None:
    amd = make_image(images, b"amd", arch="amd64")
    arm = make_image(images, b"arm", arch="arm64")
    index = make_index(images, (amd, "linux/amd64"), (arm, "linux/arm64"))
    _, config = images.load_image(index, Platform.parse("linux/arm64"))
    assert config.architecture == "arm64"
    with pytest.raises(NotFoundError, match="no manifest for linux/s390x"):
        images.load_image(index, Platform.parse("linux/s390x"))


def test_index_image_id_is_the_index_digest(images: ImageStore) -> None:
    amd = make_image(images, b"amd")
    index = make_index(images, (amd, "linux/amd64"))
    images.set(ref("multi"), index)
    assert images.image_id(images.resolve("multi")) == index.digest


def test_load_image_detects_a_corrupt_config(images: ImageStore) -> None:
    target = make_image(images, b"x")
    cfg = _config_digest(images, target)
    images.content.path(cfg).write_bytes(b"{}")
    with pytest.raises(InvalidInputError, match="corrupt"):
        images.load_image(target)


# -- concurrency -----------------------------------------------------------------


def _tag_many(root_path: str, worker: int, target_json: str) -> None:
    with Root.open(root_path) as root:
        store = ImageStore(root, ContentStore(root))
        target = Descriptor.from_json(json.loads(target_json))
        for i in range(15):
            store.set(ImageRef.parse(f"app:w{worker}-{i}"), target)


def test_concurrent_taggers_in_several_processes_lose_nothing(images: ImageStore) -> None:
    target = make_image(images, b"shared")
    ctx = multiprocessing.get_context("spawn")
    payload = json.dumps(target.to_json())
    procs = [ctx.Process(target=_tag_many, args=(str(images.root.path), w, payload))
             for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    names = {str(r.name) for r in images.records()}
    assert names == {f"docker.io/library/app:w{w}-{i}" for w in range(4) for i in range(15)}


def test_refs_file_is_never_left_half_written(images: ImageStore, tmp_path: Path) -> None:
    target = make_image(images, b"x")
    for i in range(20):
        images.set(ref(f"a:{i}"), target)
    leftovers = [p for p in images.root.refs.iterdir() if p.name != "index.json"]
    assert leftovers == [] and list(images.root.tmp.iterdir()) == []


# -- a real layout ----------------------------------------------------------------

TINY = Path(__file__).resolve().parents[3] / "testdata" / "oci" / "layout-tiny"


def test_tiny_layout_ingests_verified_and_loads(images: ImageStore) -> None:
    from builder.oci.descriptor import ANNOTATION_REF_NAME
    from builder.oci.image import Index

    index = Index.from_json((TINY / "index.json").read_bytes())
    [entry] = index.manifests
    for blob in sorted((TINY / "blobs" / "sha256").iterdir()):
        with open(blob, "rb") as f:
            images.content.put_stream(f, Digest.from_hex(blob.name), blob.stat().st_size)
    images.set(ref("tiny:" + entry.annotations[ANNOTATION_REF_NAME]), entry)
    manifest, config = images.load_image(images.resolve("tiny:v1").target)
    assert config.history[0].created_by.startswith("COPY hello.txt")
    assert manifest.layers[0].media_type == "application/vnd.oci.image.layer.v1.tar+gzip"
    assert images.image_id(images.resolve("tiny:v1")) == manifest.config.digest


_TAGGER = """
import json, sys
from builder.root import Root
from builder.content.store import ContentStore
from builder.images.store import ImageStore
from builder.oci.descriptor import Descriptor
from builder.oci.reference import ImageRef
root = Root.open(sys.argv[1])
store = ImageStore(root, ContentStore(root))
target = Descriptor.from_json(json.loads(sys.argv[2]))
print("ready", flush=True)
i = 0
while True:
    store.set(ImageRef.parse(f"loop:{i}"), target)
    i += 1
"""


def test_kill_9_while_tagging_leaves_a_valid_index(images: ImageStore) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    target = make_image(images, b"x")
    repo = Path(__file__).resolve().parents[3]
    for delay in (0.05, 0.15):
        proc = subprocess.Popen(
            [sys.executable, "-c", _TAGGER, str(images.root.path), json.dumps(target.to_json())],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    records = images.records()  # parses: never half-written
    tags = sorted(int(r.name.tag) for r in records if r.name is not None)
    assert tags and tags == list(range(len(tags)))  # no update lost before the kill
