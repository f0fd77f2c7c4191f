"""The diskcache-backed cache index: records, explain records, pruning, file digests,
and sharing one directory between processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from solver.cachekey import CacheKey, FileStat, KeyInput, manifest_for
from solver.cachestore import CacheStore, FileDigestCache, PrunePolicy
from solver.digest import Digest, sha256_bytes
from solver.errors import CacheCorrupt
from solver.ops import ExecMeta, ExecOp, Input, Mount
from solver.worker import ResultId, ResultRecord

REPO = Path(__file__).resolve().parents[2]


def _key(n: int) -> CacheKey:
    return CacheKey(sha256_bytes(f"key {n}".encode()))


def _record(rid: str, size: int = 10, used: float = 1000.0) -> ResultRecord:
    layer = sha256_bytes(rid.encode())
    return ResultRecord(sha256_bytes(b"identity " + rid.encode()),
                        (ResultId(rid, (layer,), size),), used, used)


def test_put_then_get_returns_the_record(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache.put(_key(1), _record("snap-1"))
        assert cache.get(_key(1), now=1001.0) == _record("snap-1")
        assert cache.get(_key(2)) is None


def test_records_survive_reopening(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache.put(_key(1), _record("snap-1"))
    with CacheStore(tmp_path) as cache:
        assert cache.get(_key(1), now=1001.0) == _record("snap-1")


def test_get_refreshes_last_used_at_most_once_a_minute(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache.put(_key(1), _record("snap-1", used=1000.0))
        assert cache.get(_key(1), now=1030.0).last_used == 1000.0  # type: ignore[union-attr]
        assert cache.get(_key(1), now=2000.0).last_used == 2000.0  # type: ignore[union-attr]
        assert cache.get(_key(1), now=2001.0).last_used == 2000.0  # type: ignore[union-attr]


def test_corrupt_record_raises_cache_corrupt_and_is_dropped(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache._cache.set(f"r:{_key(1)}", '{"identity": "not a digest"}')
        with pytest.raises(CacheCorrupt, match="cache record r:sha256:"):
            cache.get(_key(1))
        assert cache.get(_key(1)) is None


def test_records_skips_and_drops_unreadable_entries(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache.put(_key(1), _record("snap-1"))
        cache._cache.set(f"r:{_key(2)}", b"\x00garbage")
        assert [k for k, _ in cache.records()] == [_key(1)]
        assert cache._cache.get(f"r:{_key(2)}") is None


def test_prune_by_age_removes_old_records_and_reports_orphans(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache.put(_key(1), _record("old", used=100.0))
        cache.put(_key(2), _record("new", used=900.0))
        cache.put(_key(3), _record("shared", used=100.0))
        cache.put(_key(4), _record("shared", used=950.0))  # same result, a fresh link
        report = cache.prune(PrunePolicy(max_age=500.0), now=1000.0)
        assert set(report.removed) == {_key(1), _key(3)}
        assert [r.id for r in report.orphaned] == ["old"]  # "shared" is still referenced
        assert cache.get(_key(2), now=1000.0) is not None


def test_prune_by_size_drops_least_recently_used_first(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        for n, used in enumerate([300.0, 100.0, 200.0]):
            cache.put(_key(n), _record(f"snap-{n}", size=100, used=used))
        report = cache.prune(PrunePolicy(max_bytes=150), now=400.0)
        assert list(report.removed) == [_key(1), _key(2)]
        assert [k for k, _ in cache.records()] == [_key(0)]


def test_prune_with_no_limits_removes_nothing(tmp_path: Path) -> None:
    with CacheStore(tmp_path) as cache:
        cache.put(_key(1), _record("snap-1"))
        report = cache.prune(PrunePolicy())
        assert report.removed == () and report.orphaned == ()


def test_explain_record_is_kept_per_step_name(tmp_path: Path) -> None:
    base = Input(sha256_bytes(b"base"))
    op = ExecOp(ExecMeta(("make",), ("V=1",)), (Mount("/", source=base, output=True),))
    record = manifest_for(op, {base: KeyInput(sha256_bytes(b"k"), name="FROM")}).explain_record()
    step = sha256_bytes(b"step name")
    with CacheStore(tmp_path) as cache:
        assert cache.keys_for_explain(step) is None
        cache.put_explain(step, record)
    with CacheStore(tmp_path) as cache:
        assert cache.keys_for_explain(step) == record
        cache._cache.set(f"x:{step}", "{broken")
        assert cache.keys_for_explain(step) is None


def _stat(path: Path) -> FileStat:
    return FileStat.from_stat(os.stat(path))


def test_file_digest_cache_hits_only_for_an_identical_stat(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"content")
    old = time.time_ns() - 10_000_000_000
    os.utime(path, ns=(old, old))
    digest = sha256_bytes(b"content")
    cache = FileDigestCache(tmp_path / "files")
    try:
        cache.store(str(path), _stat(path), digest)
        assert cache.lookup(str(path), _stat(path)) == digest
        path.write_bytes(b"contenT")  # same size; mtime and ctime move
        os.utime(path, ns=(old, old))  # even with the old mtime put back, ctime moved
        assert cache.lookup(str(path), _stat(path)) is None
    finally:
        cache.close()


def test_file_digest_cache_does_not_trust_a_file_changed_just_now(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"fresh")
    cache = FileDigestCache(tmp_path / "files")
    try:
        cache.store(str(path), _stat(path), sha256_bytes(b"fresh"))
        assert cache.lookup(str(path), _stat(path)) is None
    finally:
        cache.close()


_WRITER = """
import sys
from solver.cachekey import CacheKey
from solver.cachestore import CacheStore
from solver.digest import sha256_bytes
from solver.worker import ResultId, ResultRecord

name, directory = sys.argv[1], sys.argv[2]
with CacheStore(directory) as cache:
    for n in range(60):
        key = CacheKey(sha256_bytes(f"{name} {n}".encode()))
        cache.put(key, ResultRecord(key.digest, (ResultId(f"{name}-{n}", (), 1),), 1.0, 1.0))
        assert cache.get(key) is not None
        shared = CacheKey(sha256_bytes(b"shared"))
        cache.put(shared, ResultRecord(shared.digest, (ResultId(name, (), 1),), 1.0, 1.0))
        cache.get(shared)
"""


def test_two_processes_share_one_cache_directory(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, name, str(tmp_path)], env=env,
                              stderr=subprocess.PIPE) for name in ("p1", "p2")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    with CacheStore(tmp_path) as cache:
        records = dict(cache.records())
    assert len(records) == 121
    shared = records[CacheKey(Digest(sha256_bytes(b"shared")))]
    assert shared.results[0].id in {"p1", "p2"}
