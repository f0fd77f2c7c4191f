"""Content checksums of exactly the files a Copy action reads (BuildKit's slow cache).

May import: stdlib, solver.{digest,ops,worker}, builder.worker.{copy_paths,errors,hashcache}.

The checksum covers, for every entry the copier would read (same wildcard
resolution, ``--exclude`` and ``.dockerignore`` filtering, see ``copy_paths``):
its path relative to the source root, its type, its permission bits, its owner
(unless ``--chown`` or a root-owned source makes it constant), a regular file's
content sha256 and a symlink's target. Never the mtime: touching a file keeps
the checksum, renaming or chmod-ing it changes it. A wildcard hashes the set of
its matches (no match is a valid, empty set). File contents come through a
``HashCache`` so unchanged files are not read again on the next build.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from builder.worker.copy_paths import CopyFilter, SourceTree, resolve_sources
from builder.worker.hashcache import HashCache
from solver.digest import Digest, sha256_bytes
from solver.ops import Copy, FileOp, Input
from solver.worker import ContentChecksum, FileDigest

__all__ = ["ContentHasher", "HashCache"]


class ContentHasher:
    """Computes content checksums, sharing one ``HashCache`` across calls."""

    def __init__(self, cache: HashCache | None = None) -> None:
        self.cache = cache or HashCache(None)

    def checksum(self, tree: SourceTree, copy: Copy) -> Digest:
        """The content checksum of what ``copy`` reads from ``tree``.

        Raises:
            FileOpError: a literal source path is missing or a pattern is malformed.
            OSError: a file cannot be read.
        """
        return self._copy(tree, copy, None)

    def op_checksum(self, op: FileOp, source: Input, tree: SourceTree) -> ContentChecksum:
        """The checksum of everything ``op``'s Copy actions read from input ``source``
        (materialised as ``tree``), with each file read for ``--explain``.

        Raises:
            FileOpError: a literal source path is missing or a pattern is malformed.
            OSError: a file cannot be read.
        """
        files: list[FileDigest] = []
        outer = hashlib.sha256()
        for action in op.actions:
            if isinstance(action, Copy) and action.source == source:
                outer.update(self._copy(tree, action, files).encode() + b"\n")
        return ContentChecksum(Digest.from_hex(outer.hexdigest()), tuple(files))

    def _copy(self, tree: SourceTree, copy: Copy, files: list[FileDigest] | None) -> Digest:
        hasher = hashlib.sha256()
        walk = _Walk(self.cache, CopyFilter.of(copy, tree),
                     copy.chown is None and not tree.root_owned, hasher, files)
        for found in resolve_sources(tree, copy):
            hasher.update(_line(["match", found.rel, found.keep]))
            walk.entry(found.host, found.rel, "")
        self.cache.flush()
        return Digest.from_hex(hasher.hexdigest())


@dataclass
class _Walk:
    """One Copy's walk: records every entry it reads into ``hasher``."""

    cache: HashCache
    filters: CopyFilter
    keep_owner: bool
    hasher: hashlib._Hash
    files: list[FileDigest] | None

    def entry(self, host: Path | str, rel: str, comp: str) -> None:
        st = os.lstat(host)
        is_dir = stat.S_ISDIR(st.st_mode)
        if comp and self.filters.skips(comp, rel, is_dir):
            return
        fields = [comp, _kind(st.st_mode), str(stat.S_IMODE(st.st_mode))]
        if self.keep_owner:
            fields += [str(st.st_uid), str(st.st_gid)]
        if stat.S_ISREG(st.st_mode):
            fields.append(self.cache.sha256(host, st))
        elif stat.S_ISLNK(st.st_mode):
            fields.append(os.readlink(host))
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            fields += [str(os.major(st.st_rdev)), str(os.minor(st.st_rdev))]
        line = _line(fields)
        self.hasher.update(line)
        if self.files is not None and not is_dir:
            self.files.append(FileDigest(rel, sha256_bytes(line)))
        if is_dir:
            base = os.fspath(host)
            for name in sorted(os.listdir(base)):
                self.entry(f"{base}/{name}", f"{rel}/{name}" if rel else name,
                           f"{comp}/{name}" if comp else name)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block")):
        if test(mode):
            return name
    return "other"


def _line(fields: list[str]) -> bytes:
    """NUL-separated fields (no path holds a NUL), NUL-NUL terminated."""
    return "\0".join(fields).encode("utf-8", "surrogateescape") + b"\0\0"
