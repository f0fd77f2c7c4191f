"""Content store: verified, atomic, crash-safe blob writes and verified reads."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.content.store import BlobInfo, ContentStore
from builder.errors import InvalidInputError, NotFoundError, StoreError
from builder.oci.descriptor import MediaType
from builder.root import Root
from solver.digest import Digest, sha256_bytes

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Root]:
    r = Root.open(tmp_path / "root")
    yield r
    r.close()


@pytest.fixture
def store(root: Root) -> ContentStore:
    return ContentStore(root)


def _staged(root: Root) -> list[str]:
    return sorted(os.listdir(root.tmp))


def test_put_and_read_round_trip(store: ContentStore) -> None:
    digest = store.put_bytes(b"hello")
    assert digest == sha256_bytes(b"hello")
    assert store.has(digest) and store.size(digest) == 5
    assert store.read_bytes(digest) == b"hello"
    assert store.path(digest) == store.root.blobs / digest.hex
    assert list(store.digests()) == [digest]


def test_empty_blob_round_trips(store: ContentStore) -> None:
    digest = store.put_bytes(b"")
    assert store.read_bytes(digest, 0) == b""


def test_writer_streams_and_reports_digest_and_size(store: ContentStore) -> None:
    with store.writer() as w:
        for _ in range(3):
            w.write(b"x" * 1000)
        info = w.commit(sha256_bytes(b"x" * 3000), 3000)
    assert info == BlobInfo(sha256_bytes(b"x" * 3000), 3000)
    assert info.descriptor(MediaType.OCI_LAYER).size == 3000
    assert _staged(store.root) == []


def test_digest_mismatch_is_refused_and_leaves_nothing(store: ContentStore) -> None:
    wrong = sha256_bytes(b"other")
    with pytest.raises(InvalidInputError, match="digest mismatch"):
        store.put_bytes(b"data", expected=wrong)
    assert list(store.digests()) == []
    assert _staged(store.root) == []


def test_size_mismatch_is_refused_and_leaves_nothing(store: ContentStore) -> None:
    with pytest.raises(InvalidInputError, match="size mismatch"), store.writer() as w:
        w.write(b"12345")
        w.commit(expected_size=4)
    assert list(store.digests()) == [] and _staged(store.root) == []


def test_put_stream_stops_early_when_stream_is_longer_than_announced(
    store: ContentStore,
) -> None:
    with pytest.raises(InvalidInputError, match="more than 10 bytes"):
        store.put_stream(io.BytesIO(b"a" * (3 << 20)), expected_size=10)
    assert list(store.digests()) == [] and _staged(store.root) == []


def test_put_stream_verifies_expected_digest(store: ContentStore) -> None:
    data = os.urandom(3 << 20)
    info = store.put_stream(io.BytesIO(data), sha256_bytes(data), len(data))
    assert store.read_bytes(info.digest) == data


def test_abandoned_writer_leaves_nothing(store: ContentStore) -> None:
    with store.writer() as w:
        w.write(b"never committed")
    assert list(store.digests()) == [] and _staged(store.root) == []


def test_error_inside_writer_leaves_nothing(store: ContentStore) -> None:
    with pytest.raises(RuntimeError), store.writer() as w:
        w.write(b"partial")
        raise RuntimeError("source failed")
    assert list(store.digests()) == [] and _staged(store.root) == []


def test_write_after_commit_is_refused(store: ContentStore) -> None:
    with store.writer() as w:
        w.write(b"a")
        w.commit()
        with pytest.raises(StoreError, match="closed"):
            w.write(b"b")


def test_committing_an_existing_blob_keeps_one_copy(store: ContentStore) -> None:
    d1 = store.put_bytes(b"same")
    d2 = store.put_bytes(b"same")
    assert d1 == d2 and list(store.digests()) == [d1]
    assert _staged(store.root) == []


def test_corrupted_blob_is_detected_on_read(store: ContentStore) -> None:
    digest = store.put_bytes(b"original content")
    store.path(digest).write_bytes(b"tampered content")
    with pytest.raises(InvalidInputError, match="corrupt: content hashes to"):
        store.read_bytes(digest)


def test_truncated_blob_is_detected_with_expected_size(store: ContentStore) -> None:
    digest = store.put_bytes(b"0123456789")
    store.path(digest).write_bytes(b"01234")
    with pytest.raises(InvalidInputError, match="5 bytes instead of 10"):
        store.read_bytes(digest, 10)


def test_streaming_read_fails_at_eof_not_before(store: ContentStore) -> None:
    data = b"z" * (3 << 20)
    digest = store.put_bytes(data)
    with open(store.path(digest), "r+b") as f:
        f.seek(len(data) - 1)
        f.write(b"!")
    with store.open_blob(digest) as f:
        first = f.read(1 << 20)
        assert first == data[: 1 << 20]
        with pytest.raises(InvalidInputError, match="corrupt"):
            while f.read(1 << 20):
                pass


def test_longer_blob_than_descriptor_is_refused(store: ContentStore) -> None:
    digest = store.put_bytes(b"abcdef")
    with pytest.raises(InvalidInputError, match="more than 3 bytes"):
        store.read_bytes(digest, 3)


def test_missing_blob_is_not_found(store: ContentStore) -> None:
    missing = sha256_bytes(b"nope")
    assert not store.has(missing)
    with pytest.raises(NotFoundError):
        store.read_bytes(missing)
    with pytest.raises(NotFoundError):
        store.size(missing)
    assert store.delete(missing) is False


def test_delete_removes_the_blob(store: ContentStore) -> None:
    digest = store.put_bytes(b"bye")
    assert store.delete(digest) is True
    assert not store.has(digest) and list(store.digests()) == []


def test_digests_ignores_foreign_files(store: ContentStore) -> None:
    (store.root.blobs / "README").write_text("not a blob")
    digest = store.put_bytes(b"x")
    assert list(store.digests()) == [digest]


def test_concurrent_writers_of_the_same_blob_in_threads(store: ContentStore) -> None:
    data = os.urandom(1 << 20)
    results: list[Digest] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with store.writer() as w:
                for i in range(0, len(data), 65536):
                    w.write(data[i:i + 65536])
                results.append(w.commit(sha256_bytes(data)).digest)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(results) == {sha256_bytes(data)}
    assert store.read_bytes(sha256_bytes(data)) == data
    assert _staged(store.root) == []


def _write_same_blob(path: str) -> str:
    root = Root.open(path)
    try:
        data = bytes(range(256)) * 4096
        return ContentStore(root).put_bytes(data, sha256_bytes(data))
    finally:
        root.close()


def test_concurrent_writers_of_the_same_blob_in_processes(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        digests = pool.map(_write_same_blob, [str(tmp_path / "r")] * 6)
    assert len(set(digests)) == 1
    with Root.open(tmp_path / "r") as root:
        store = ContentStore(root)
        assert list(store.digests()) == [Digest(digests[0])]
        assert len(store.read_bytes(Digest(digests[0]))) == 256 * 4096
        assert sorted(os.listdir(root.path / "tmp")) == sorted(
            [root.tmp.name, root.tmp.name + ".lock"])


_WRITER = """
import os, sys
from builder.root import Root
from builder.content.store import ContentStore
root = Root.open(sys.argv[1])
store = ContentStore(root)
mode = sys.argv[2]
if mode == "hang":
    with store.writer() as w:
        w.write(os.urandom(1 << 20))
        print(root.tmp, flush=True)
        sys.stdin.read()
else:
    print(root.tmp, flush=True)
    i = 0
    while True:
        store.put_bytes(os.urandom(100_000) + str(i).encode())
        i += 1
"""


def _spawn_writer(root_path: Path, mode: str) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root_path), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    staging = Path(proc.stdout.readline().strip())
    return proc, staging


def test_kill_9_mid_write_leaves_store_consistent_and_tmp_swept(tmp_path: Path) -> None:
    root_path = tmp_path / "root"
    proc, staging = _spawn_writer(root_path, "hang")
    try:
        assert len(os.listdir(staging)) == 1  # the half-written blob
        with Root.open(root_path) as other:  # a live writer's files are not swept
            assert staging.exists()
            assert list(ContentStore(other).digests()) == []
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdin.close()  # type: ignore[union-attr]
        proc.stdout.close()  # type: ignore[union-attr]
    assert staging.exists()  # SIGKILL ran no cleanup
    with Root.open(root_path) as root:
        assert not staging.exists()
        assert sorted(os.listdir(root.path / "tmp")) == sorted(
            [root.tmp.name, root.tmp.name + ".lock"])
        assert list(ContentStore(root).digests()) == []


def test_kill_9_at_random_instants_never_exposes_a_partial_blob(tmp_path: Path) -> None:
    root_path = tmp_path / "root"
    for delay in (0.05, 0.13, 0.21):
        proc, _ = _spawn_writer(root_path, "loop")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdin.close()  # type: ignore[union-attr]
        proc.stdout.close()  # type: ignore[union-attr]
    with Root.open(root_path) as root:
        store = ContentStore(root)
        digests = list(store.digests())
        assert digests, "the writer should have committed some blobs"
        for digest in digests:
            store.read_bytes(digest)  # raises if any blob is partial or corrupt
        assert sorted(os.listdir(root.path / "tmp")) == sorted(
            [root.tmp.name, root.tmp.name + ".lock"])


def test_lease_blocks_garbage_collection_lock(store: ContentStore) -> None:
    acquired = threading.Event()

    def collector() -> None:
        with store.root.lock("gc"):
            acquired.set()

    with store.lease():
        t = threading.Thread(target=collector)
        t.start()
        assert not acquired.wait(0.2)
    assert acquired.wait(5)
    t.join()


def test_rewriting_a_damaged_blob_repairs_it(store: ContentStore) -> None:
    digest = store.put_bytes(b"good bytes")
    store.path(digest).write_bytes(b"bad")  # truncated on disk
    assert store.put_bytes(b"good bytes") == digest
    assert store.read_bytes(digest) == b"good bytes"
