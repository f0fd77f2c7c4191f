"""The on-disk cache index: cache key → ResultRecord, explain records, file digests.

May import: diskcache (this is its only door), solver.cachekey, solver.worker,
solver.digest, solver.errors, stdlib.

Everything is stored as JSON text in a diskcache (SQLite) directory, so the
index is safe to share between threads and processes, and a record that cannot
be read is dropped (``CacheCorrupt`` is reported, never a crash). Keys::

    r:<cache key>    ResultRecord    written by ``put`` after the results are durable
    x:<name key>     ExplainRecord   the latest build of a step, for ``--explain``

``FileDigestCache`` is the file-metadata cache (``solver.cachekey.StatCache``):
path + (device, inode, size, mtime, ctime, mode) → sha256, in its own directory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

from solver.cachekey import CacheKey, ExplainRecord, FileStat
from solver.digest import Digest, DigestError
from solver.errors import CacheCorrupt
from solver.worker import ResultId, ResultRecord

__all__ = ["CacheStore", "FileDigestCache", "PrunePolicy", "PruneReport"]

_TOUCH_AFTER = 60.0  # seconds: last_used is rewritten at most this often
_RACY_NS = 2_000_000_000  # a file changed this recently is hashed again next time


def _open(directory: Path) -> diskcache.Cache:
    # eviction "none": diskcache's default would silently cull records at 1 GB
    return diskcache.Cache(str(directory), eviction_policy="none", statistics=0, timeout=60)


@dataclass(frozen=True, slots=True)
class PrunePolicy:
    """Remove records unused for ``max_age`` seconds, then the least recently used
    until the results they reference total at most ``max_bytes``."""

    max_age: float | None = None
    max_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What ``prune`` removed; ``orphaned`` results are referenced by no record now
    (the builder may delete their snapshots)."""

    removed: tuple[CacheKey, ...]
    orphaned: tuple[ResultId, ...]


class CacheStore:
    """The cache index in ``directory`` (created if missing)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._cache = _open(self.directory)

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> CacheStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- results ---------------------------------------------------------------

    def get(self, key: CacheKey, now: float | None = None) -> ResultRecord | None:
        """The record stored under ``key`` (its ``last_used`` refreshed), or None.

        Raises:
            CacheCorrupt: the stored record is unreadable; it has been removed.
        """
        raw = self._cache.get(f"r:{key}")
        if raw is None:
            return None
        record = self._decode_record(f"r:{key}", raw)
        now = time.time() if now is None else now
        if now - record.last_used > _TOUCH_AFTER:
            record = ResultRecord(record.identity, record.results, record.created_at, now)
            self._cache.set(f"r:{key}", _encode_record(record))
        return record

    def put(self, key: CacheKey, record: ResultRecord) -> None:
        """Store ``record`` under ``key``; call only once its results are durable."""
        self._cache.set(f"r:{key}", _encode_record(record))

    def delete(self, key: CacheKey) -> None:
        self._cache.delete(f"r:{key}")

    def records(self) -> Iterator[tuple[CacheKey, ResultRecord]]:
        """Every readable record (unreadable ones are dropped on the way)."""
        for name in list(self._cache.iterkeys()):
            if not isinstance(name, str) or not name.startswith("r:"):
                continue
            raw = self._cache.get(name)
            if raw is None:
                continue
            try:
                yield CacheKey(Digest(name[2:])), self._decode_record(name, raw)
            except (CacheCorrupt, DigestError):
                self._cache.delete(name)

    def _decode_record(self, name: str, raw: Any) -> ResultRecord:
        try:
            return _decode_record(raw)
        except (ValueError, KeyError, TypeError) as exc:
            self._cache.delete(name)
            raise CacheCorrupt(name, str(exc)) from None

    # --- explain -----------------------------------------------------------------

    def put_explain(self, name_key: Digest, record: ExplainRecord) -> None:
        """Remember ``record`` as the latest build of the step ``name_key``."""
        self._cache.set(f"x:{name_key}", json.dumps(record.to_json(), separators=(",", ":")))

    def keys_for_explain(self, name_key: Digest) -> ExplainRecord | None:
        """The previous build of the step ``name_key`` (None if unknown or unreadable)."""
        raw = self._cache.get(f"x:{name_key}")
        if raw is None:
            return None
        try:
            return ExplainRecord.from_json(json.loads(raw))
        except ValueError:
            self._cache.delete(f"x:{name_key}")
            return None

    # --- pruning -------------------------------------------------------------------

    def prune(self, policy: PrunePolicy, now: float | None = None) -> PruneReport:
        """Remove records by age, then by least-recent use down to ``max_bytes``."""
        now = time.time() if now is None else now
        entries = sorted(self.records(), key=lambda kr: kr[1].last_used)
        removed: list[CacheKey] = []
        keep: list[tuple[CacheKey, ResultRecord]] = []
        for key, record in entries:
            if policy.max_age is not None and now - record.last_used > policy.max_age:
                removed.append(key)
            else:
                keep.append((key, record))
        if policy.max_bytes is not None:
            total = _unique_size(r for _, r in keep)
            while keep and total > policy.max_bytes:
                key, _record = keep.pop(0)
                removed.append(key)
                total = _unique_size(r for _, r in keep)
        before = {r for _, rec in entries for r in rec.results}
        after = {r for _, rec in keep for r in rec.results}
        for key in removed:
            self.delete(key)
        orphaned = tuple(sorted(before - after, key=lambda r: r.id))
        return PruneReport(tuple(removed), orphaned)


def _unique_size(records: Iterator[ResultRecord]) -> int:
    seen: dict[str, int] = {}
    for record in records:
        for result in record.results:
            seen[result.id] = result.size
    return sum(seen.values())


def _encode_record(record: ResultRecord) -> str:
    doc = {
        "identity": str(record.identity),
        "results": [
            {"id": r.id, "layers": [str(d) for d in r.layers], "size": r.size}
            for r in record.results
        ],
        "created_at": record.created_at,
        "last_used": record.last_used,
    }
    return json.dumps(doc, separators=(",", ":"))


def _decode_record(raw: Any) -> ResultRecord:
    if not isinstance(raw, str):
        raise TypeError(f"expected JSON text, got {type(raw).__name__}")
    doc = json.loads(raw)
    results = tuple(
        ResultId(str(r["id"]), tuple(Digest(d) for d in r["layers"]), int(r["size"]))
        for r in doc["results"]
    )
    return ResultRecord(
        Digest(doc["identity"]), results, float(doc["created_at"]), float(doc["last_used"])
    )


class FileDigestCache:
    """path + stat → digest (``StatCache``), shared across builds and processes."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self._cache = _open(Path(directory))

    def close(self) -> None:
        self._cache.close()

    def lookup(self, path: str, stat: FileStat) -> Digest | None:
        raw = self._cache.get(path)
        if not isinstance(raw, str):
            return None
        try:
            *fields, digest = json.loads(raw)
            if tuple(fields) != _stat_tuple(stat):
                return None
            return Digest(digest)
        except (ValueError, TypeError):
            self._cache.delete(path)
            return None

    def store(self, path: str, stat: FileStat, digest: Digest) -> None:
        """Remember ``digest`` unless the file changed too recently to trust its
        mtime (git's "racy clean" rule: a write in the same tick looks unchanged)."""
        if time.time_ns() - stat.mtime_ns < _RACY_NS:
            return
        self._cache.set(path, json.dumps([*_stat_tuple(stat), str(digest)]))


def _stat_tuple(stat: FileStat) -> tuple[int, ...]:
    return (stat.device, stat.inode, stat.size, stat.mtime_ns, stat.ctime_ns, stat.mode)
