"""A persistent file-metadata cache: (device, inode, size, mtime, ctime) → sha256.

May import: stdlib only (sqlite3; diskcache belongs to solver/cachestore.py).

pydoit's idea, as BuildKit's contenthash keeps it per snapshot: a file whose stat
fields are unchanged since it was last hashed is not read again. Rows are keyed
by absolute path (as bytes, so any file name works); any stat field that differs
(an edit, a ``touch``, a replaced file with a new inode) makes the row stale.
``ctime`` catches edits that restore the old mtime. The database is a small
sqlite file under the given directory, safe to share between processes (WAL,
busy timeout); rows are loaded once on open and written back by ``flush()``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

__all__ = ["HashCache"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS files (
    path BLOB PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER,
    mtime_ns INTEGER, ctime_ns INTEGER, sha256 TEXT NOT NULL)"""
_READ = 1 << 20


class HashCache:
    """sha256 of regular files, re-read only when their metadata changed.

    The rows are loaded once when the cache is opened and written back in one
    transaction by ``flush()``. ``reads`` counts the files actually read (hashed).
    """

    def __init__(self, cache_dir: Path | None) -> None:
        self.reads = 0
        self._db: sqlite3.Connection | None = None
        self._rows: dict[bytes, tuple[int, int, int, int, int, str]] = {}
        self._dirty: dict[bytes, tuple[int, int, int, int, int, str]] = {}
        if cache_dir is not None:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(Path(cache_dir) / "filehash.sqlite", timeout=30,
                                       check_same_thread=False)  # used by worker threads
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            for path, *meta in self._db.execute("SELECT * FROM files"):
                self._rows[bytes(path)] = tuple(meta)

    def sha256(self, path: str | Path, st: os.stat_result) -> str:
        """The hex sha256 of the regular file ``path`` whose lstat is ``st``.

        Raises:
            OSError: the file cannot be read.
        """
        key = os.fsencode(os.path.abspath(path))
        meta = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        row = self._rows.get(key)
        if row is not None and row[:5] == meta:
            return row[5]
        digest = _hash_file(path)
        self.reads += 1
        self._rows[key] = self._dirty[key] = (*meta, digest)
        return digest

    def flush(self) -> None:
        """Write new and changed rows to disk in one transaction."""
        if self._db is not None and self._dirty:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(key, *row) for key, row in self._dirty.items()],
                )
            self._dirty.clear()

    def close(self) -> None:
        """Flush and close the database."""
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hash_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(_READ):
            h.update(data)
    return h.hexdigest()
