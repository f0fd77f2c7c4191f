"""Deterministic layer tar streams: ``Change`` values in, PAX tar bytes out.

May import: stdlib, builder.errors, builder.layers.{diff,entries,fsmeta,header}.

The bytes depend only on the tree: entries in the order the change source gives
(sorted), numeric uid/gid with empty uname/gname, whole-second mtimes (clamped to
``SOURCE_DATE_EPOCH`` when given, as umoci and BuildKit do), no atime/ctime, PAX
records only where USTAR cannot say it (long or non-ASCII names, large ids, xattrs
as ``SCHILY.xattr.*``), directories with a trailing ``/``, the second and later
paths of a hard-linked file as links to the first, deletions as ``.wh.NAME`` and
opaque directories as ``DIR/.wh..wh..opq``, and the archive ends with two zero
blocks, as Go's ``archive/tar`` writes it. Sockets are skipped, as docker does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from typing import Protocol

from builder.errors import InvalidInputError
from builder.layers.diff import Change, ChangeKind
from builder.layers.entries import Prepared, prepared
from builder.layers.fsmeta import OPAQUE_MARKER, WHITEOUT_PREFIX
from builder.layers.header import BLOCK, Header, TypeFlag, encode_header, padding

__all__ = ["Sink", "write_tar"]

_READ = 1 << 20


class Sink(Protocol):
    """Where tar bytes go."""

    def write(self, data: bytes, /) -> object: ...


def write_tar(changes: Iterable[Change], sink: Sink, source_date_epoch: int | None) -> None:
    """Write the tar stream of ``changes`` to ``sink``.

    Raises:
        InvalidInputError: a source file vanished, shrank or cannot be read while
            being archived.
    """
    links: dict[tuple[int, int], bytes] = {}
    for item in prepared(changes):
        change = item.change
        if change.kind is ChangeKind.DELETE:
            _write_marker(sink, _whiteout_name(change.path), source_date_epoch)
            continue
        if item.stat is None:
            raise InvalidInputError(f"{change.path}: change has no source file")
        try:
            _write_entry(item, sink, links, source_date_epoch)
        except FileNotFoundError:
            raise InvalidInputError(f"{change.path}: vanished while being archived") from None
        except PermissionError:
            raise InvalidInputError(f"{change.path}: permission denied") from None
        if change.kind is ChangeKind.OPAQUE:
            _write_marker(sink, f"{change.path}/{OPAQUE_MARKER}", source_date_epoch)
    sink.write(bytes(2 * BLOCK))


def _whiteout_name(path: str) -> str:
    head, _, base = path.rpartition("/")
    return f"{head}/{WHITEOUT_PREFIX}{base}" if head else WHITEOUT_PREFIX + base


def _write_marker(sink: Sink, name: str, epoch: int | None) -> None:
    sink.write(encode_header(Header(os.fsencode(name), TypeFlag.REG, mtime=epoch or 0)))


def _write_entry(
    item: Prepared, sink: Sink, links: dict[tuple[int, int], bytes], epoch: int | None
) -> None:
    change, st = item.change, item.stat
    assert change.source is not None and st is not None
    name = os.fsencode(change.path)
    mtime = st.st_mtime_ns // 1_000_000_000
    if epoch is not None:
        mtime = min(mtime, epoch)
    mode = st.st_mode
    size, linkname, major, minor = 0, b"", 0, 0
    if stat.S_ISREG(mode):
        key = (st.st_dev, st.st_ino)
        first = links.get(key) if st.st_nlink > 1 else None
        if first is not None:
            flag, linkname = TypeFlag.LINK, first
        else:
            if st.st_nlink > 1:
                links[key] = name
            flag, size = TypeFlag.REG, st.st_size
    elif stat.S_ISDIR(mode):
        flag, name = TypeFlag.DIR, name + b"/"
    elif stat.S_ISLNK(mode):
        flag, linkname = TypeFlag.SYMLINK, os.fsencode(os.readlink(change.source))
    elif stat.S_ISFIFO(mode):
        flag = TypeFlag.FIFO
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        flag = TypeFlag.CHAR if stat.S_ISCHR(mode) else TypeFlag.BLOCK
        major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    else:
        return  # sockets and doors are not archived
    header = encode_header(
        Header(
            name,
            flag,
            stat.S_IMODE(mode),
            st.st_uid,
            st.st_gid,
            size,
            mtime,
            linkname,
            major,
            minor,
            item.xattrs,
        )
    )
    if not size:
        sink.write(header)
    elif item.data is not None:
        sink.write(header + item.data + padding(size))
    else:
        _write_with_data(change, sink, header, size)


def _write_with_data(change: Change, sink: Sink, header: bytes, size: int) -> None:
    assert change.source is not None
    fd = os.open(change.source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        sink.write(header)
        _copy(change, fd, sink, size)
    finally:
        os.close(fd)
    sink.write(padding(size))


def _copy(change: Change, fd: int, sink: Sink, remaining: int) -> None:
    while remaining:
        data = os.read(fd, min(_READ, remaining))
        if not data:
            raise InvalidInputError(
                f"{change.path}: file shrank while being archived",
                hint="do not modify the tree while a layer is being made",
            )
        sink.write(data)
        remaining -= len(data)
