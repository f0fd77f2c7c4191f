"""Deterministic layer tar streams: ``Change`` values in, PAX tar bytes out.

May import: stdlib, builder.errors, builder.layers.{diff,fsmeta,header}.

The bytes depend only on the tree: entries in the order the change source gives
(sorted), numeric uid/gid with empty uname/gname, whole-second mtimes (clamped to
``SOURCE_DATE_EPOCH`` when given, as umoci and BuildKit do), no atime/ctime, PAX
records only where USTAR cannot say it (long or non-ASCII names, large ids, xattrs
as ``SCHILY.xattr.*``), directories with a trailing ``/``, the second and later
paths of a hard-linked file as links to the first, deletions as ``.wh.NAME`` and
opaque directories as ``DIR/.wh..wh..opq``, and the archive ends with two zero
blocks, as Go's ``archive/tar`` writes it. Sockets are skipped, as docker does.

Speed on many small files (bench/layers.py) comes from doing little per entry: one
``lstat`` (from the change source), one ``open``/``read``/``close`` of a small file
with its xattrs listed through the open descriptor, a USTAR header packed in one
``struct`` call with an Adler-32 checksum (``encode_plain``), and bytes appended to
one buffer that reaches the sink in writes of ``CHUNK`` bytes or more. Where a
chunk ends is part of the output contract: gzip through ISA-L compresses each
write on its own block boundary, so the boundaries (one "logical write" per entry,
a chunk shipped once the buffer reaches ``CHUNK``) must not change, or the gzip
bytes of every layer would. A read-ahead thread was tried; on the 2-core bench
machine it bought nothing over GIL contention, so reading stays inline.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from builder.errors import InvalidInputError
from builder.layers.diff import Change, ChangeKind
from builder.layers.fsmeta import OPAQUE_MARKER, WHITEOUT_PREFIX, read_xattrs
from builder.layers.header import BLOCK, Header, TypeFlag, encode_header, encode_plain

__all__ = ["CHUNK", "SMALL", "Sink", "write_tar"]

CHUNK = 1 << 20
SMALL = 1 << 16
_READ = 1 << 20
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_ZEROS = bytes(BLOCK)
_END = bytes(2 * BLOCK)


class Sink(Protocol):
    """Where tar bytes go."""

    def write(self, data: bytes | bytearray, /) -> object: ...


def write_tar(changes: Iterable[Change], sink: Sink, source_date_epoch: int | None) -> None:
    """Write the tar stream of ``changes`` to ``sink``.

    ``sink`` receives the stream in writes of at least ``CHUNK`` bytes (the last
    may be shorter), each a fresh object it may keep.

    Raises:
        InvalidInputError: a source file vanished, shrank or cannot be read while
            being archived.
    """
    writer = _TarWriter(sink, source_date_epoch)
    for change in changes:
        writer.add(change)
    writer.finish()


class _TarWriter:
    """Entries to tar bytes, batched into chunks."""

    __slots__ = ("_buf", "_epoch", "_links", "_sink")

    def __init__(self, sink: Sink, epoch: int | None) -> None:
        self._sink = sink
        self._epoch = epoch
        self._links: dict[tuple[int, int], bytes] = {}
        self._buf = bytearray()

    def add(self, change: Change) -> None:
        """Append the entry (or entries) of one change."""
        kind = change.kind
        if kind is ChangeKind.DELETE:
            self._marker(_whiteout_name(change.path))
            return
        source = change.source
        if source is None:
            raise InvalidInputError(f"{change.path}: change has no source file")
        try:
            st = change.stat or os.lstat(source)
            if stat.S_ISREG(st.st_mode):
                self._regular(change.path, source, st)
            else:
                self._other(change.path, source, st)
        except FileNotFoundError:
            raise InvalidInputError(f"{change.path}: vanished while being archived") from None
        except PermissionError:
            raise InvalidInputError(f"{change.path}: permission denied") from None
        if kind is ChangeKind.OPAQUE:
            self._marker(f"{change.path}/{OPAQUE_MARKER}")

    def finish(self) -> None:
        """Append the end-of-archive blocks and hand the sink what is left."""
        self._put(_END)
        if self._buf:
            self._sink.write(self._buf)
            self._buf = bytearray()

    def _put(self, data: bytes | bytearray) -> None:
        """One logical write: buffered, and shipped once the buffer holds a chunk."""
        buf = self._buf
        if not buf and len(data) >= CHUNK:
            self._sink.write(data)
            return
        buf += data
        if len(buf) >= CHUNK:
            self._sink.write(buf)
            self._buf = bytearray()

    def _marker(self, name: str) -> None:
        self._put(encode_header(Header(os.fsencode(name), TypeFlag.REG, mtime=self._epoch or 0)))

    def _mtime(self, st: os.stat_result) -> int:
        mtime = st.st_mtime_ns // 1_000_000_000
        epoch = self._epoch
        return mtime if epoch is None or mtime <= epoch else epoch

    def _regular(self, path: str, source: str, st: os.stat_result) -> None:
        name = os.fsencode(path)
        size = st.st_size
        if st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            first = self._links.get(key)
            if first is not None:
                self._put(self._header(name, TypeFlag.LINK, (st, 0, first), read_xattrs(source)))
                return
            self._links[key] = name
        if not size:
            self._put(self._header(name, TypeFlag.REG, (st, 0, b""), read_xattrs(source)))
            return
        fd = os.open(source, _FLAGS)
        try:
            xattrs = read_xattrs(fd)
            header = self._header(name, TypeFlag.REG, (st, size, b""), xattrs)
            if size <= SMALL:
                data = os.read(fd, size)
                if len(data) == size:  # else it shrank under us: streaming reports it
                    buf = self._buf
                    buf += header
                    buf += data
                    buf += _ZEROS[: -size % BLOCK]
                    if len(buf) >= CHUNK:
                        self._sink.write(buf)
                        self._buf = bytearray()
                    return
                os.lseek(fd, 0, os.SEEK_SET)
            self._put(header)
            self._copy(path, fd, size)
        finally:
            os.close(fd)
        self._put(_ZEROS[: -size % BLOCK])

    def _copy(self, path: str, fd: int, remaining: int) -> None:
        while remaining:
            data = os.read(fd, min(_READ, remaining))
            if not data:
                raise InvalidInputError(
                    f"{path}: file shrank while being archived",
                    hint="do not modify the tree while a layer is being made",
                )
            self._put(data)
            remaining -= len(data)

    def _other(self, path: str, source: str, st: os.stat_result) -> None:
        mode = st.st_mode
        name = os.fsencode(path)
        linkname = b""
        if stat.S_ISDIR(mode):
            flag, name = TypeFlag.DIR, name + b"/"
        elif stat.S_ISLNK(mode):
            flag, linkname = TypeFlag.SYMLINK, os.fsencode(os.readlink(source))
        elif stat.S_ISFIFO(mode):
            flag = TypeFlag.FIFO
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            flag = TypeFlag.CHAR if stat.S_ISCHR(mode) else TypeFlag.BLOCK
            header = Header(
                name,
                flag,
                stat.S_IMODE(mode),
                st.st_uid,
                st.st_gid,
                mtime=self._mtime(st),
                devmajor=os.major(st.st_rdev),
                devminor=os.minor(st.st_rdev),
                xattrs=read_xattrs(source),
            )
            self._put(encode_header(header))
            return
        else:
            return  # sockets and doors are not archived
        self._put(self._header(name, flag, (st, 0, linkname), read_xattrs(source)))

    def _header(
        self,
        name: bytes,
        flag: bytes,
        entry: tuple[os.stat_result, int, bytes],
        xattrs: dict[str, bytes],
    ) -> bytes:
        """The header of a non-device entry; ``entry`` is (lstat, size, linkname)."""
        st, size, linkname = entry
        numbers = (st.st_mode, st.st_uid, st.st_gid, size, self._mtime(st))
        if not xattrs:
            plain = encode_plain(name, flag, numbers, linkname)
            if plain is not None:
                return plain
        mode, uid, gid, _, mtime = numbers
        full = Header(name, flag, stat.S_IMODE(mode), uid, gid, size, mtime, linkname)
        return encode_header(replace(full, xattrs=xattrs) if xattrs else full)


def _whiteout_name(path: str) -> str:
    head, _, base = path.rpartition("/")
    return f"{head}/{WHITEOUT_PREFIX}{base}" if head else WHITEOUT_PREFIX + base
