"""Tar header bytes: USTAR blocks, with a PAX extended header only when needed.

May import: stdlib only.

pybuild encodes headers itself instead of using ``tarfile.TarInfo.tobuf`` so the
bytes of a layer do not change with the Python version (tarfile's output has
changed between releases) and so the common case costs one ``struct`` call. The
format follows Go's ``archive/tar`` as BuildKit uses it: USTAR when every field
fits, else a PAX ``x`` header named ``DIR/PaxHeaders.0/BASE`` whose records are
sorted by key and carry raw bytes (paths as UTF-8, xattr values as they are);
no uname/gname, no atime/ctime, device numbers only on device entries.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["BLOCK", "Header", "TypeFlag", "encode_header", "encode_plain", "padding"]

BLOCK = 512
# name, the five numbers, checksum, type, linkname, magic+version, names, device numbers
_USTAR = struct.Struct("100s48s8sc100s8s64s16s167x")
_MAGIC = b"ustar\x0000"
_MAX_ID = 8**7 - 1
_MAX_SIZE = 8**11 - 1
_ZERO_PAD = bytes(BLOCK)
# what the checksum field (as spaces) and the magic add to every header's byte sum
_CONSTANT_SUM = 8 * 0x20 + sum(_MAGIC)
_HALF = BLOCK // 2


class TypeFlag:
    """Tar type flags (single bytes)."""

    REG = b"0"
    LINK = b"1"
    SYMLINK = b"2"
    CHAR = b"3"
    BLOCK = b"4"
    DIR = b"5"
    FIFO = b"6"
    PAX = b"x"


@dataclass(frozen=True, slots=True)
class Header:
    """One tar entry's metadata; ``name`` and ``linkname`` are raw path bytes."""

    name: bytes
    typeflag: bytes
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime: int = 0
    linkname: bytes = b""
    devmajor: int = 0
    devminor: int = 0
    xattrs: Mapping[str, bytes] = field(default_factory=dict)


def padding(size: int) -> bytes:
    """The zero bytes that round ``size`` up to a whole block."""
    return _ZERO_PAD[: -size % BLOCK]


def _block(h: Header, name: bytes, linkname: bytes, numbers: tuple[int, int, int, int]) -> bytes:
    uid, gid, size, mtime = numbers
    fields = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (h.mode & 0o7777, uid, gid, size, mtime)
    device = b""
    if h.typeflag in (TypeFlag.CHAR, TypeFlag.BLOCK):
        device = b"%07o\0%07o\0" % (h.devmajor, h.devminor)
    raw = _USTAR.pack(name, fields, b" " * 8, h.typeflag, linkname, _MAGIC, b"", device)
    return raw[:148] + b"%06o\0 " % _byte_sum(raw) + raw[156:]


def _byte_sum(block: bytes) -> int:
    """``sum(block)`` for one 512-byte block, in C: Adler-32's first half is 1 + the
    byte sum modulo 65521, exact for 256 bytes (at most 65280)."""
    return (zlib.adler32(block[:_HALF]) & 0xFFFF) + (zlib.adler32(block[_HALF:]) & 0xFFFF) - 2


def encode_plain(
    name: bytes, typeflag: bytes, numbers: tuple[int, int, int, int, int], linkname: bytes = b""
) -> bytes | None:
    """The one USTAR block of an entry without xattrs or device numbers, or None.

    The fast path of ``encode_header`` for the common entry: when it returns bytes
    they equal ``encode_header(Header(name, typeflag, *numbers, linkname=linkname))``;
    it returns None when that entry needs a PAX header (long or non-ASCII names,
    numbers out of USTAR range). ``numbers`` is (mode, uid, gid, size, mtime).
    """
    mode, uid, gid, size, mtime = numbers
    if not (
        len(name) <= 100
        and len(linkname) <= 100
        and name.isascii()
        and linkname.isascii()
        and 0 <= uid <= _MAX_ID
        and 0 <= gid <= _MAX_ID
        and 0 <= size <= _MAX_SIZE
        and 0 <= mtime <= _MAX_SIZE
    ):
        return None
    fields = b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode & 0o7777, uid, gid, size, mtime)
    # name, fields and linkname are at most 248 bytes: one exact Adler-32 sum
    total = (zlib.adler32(name + fields + linkname) & 0xFFFF) - 1 + typeflag[0] + _CONSTANT_SUM
    return _USTAR.pack(name, fields, b"%06o\0 " % total, typeflag, linkname, _MAGIC, b"", b"")


def _record(key: bytes, value: bytes) -> bytes:
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(b"%d" % length) + len(body) != length:
        length = len(b"%d" % length) + len(body)
    return b"%d" % length + body


def _fits(text: bytes, limit: int) -> bool:
    return len(text) <= limit and text.isascii()


def _pax_records(h: Header) -> dict[bytes, bytes]:
    records: dict[bytes, bytes] = {}
    if not _fits(h.name, 100):
        records[b"path"] = h.name
    if not _fits(h.linkname, 100):
        records[b"linkpath"] = h.linkname
    for key, value, limit in (
        (b"uid", h.uid, _MAX_ID),
        (b"gid", h.gid, _MAX_ID),
        (b"size", h.size, _MAX_SIZE),
        (b"mtime", h.mtime, _MAX_SIZE),
    ):
        if not 0 <= value <= limit:
            records[key] = b"%d" % value
    for xname, xvalue in h.xattrs.items():
        records[b"SCHILY.xattr." + xname.encode("utf-8", "surrogateescape")] = xvalue
    return records


def _simple(h: Header) -> bool:
    return (
        not h.xattrs
        and len(h.name) <= 100
        and len(h.linkname) <= 100
        and h.name.isascii()
        and h.linkname.isascii()
        and 0 <= h.uid <= _MAX_ID
        and 0 <= h.gid <= _MAX_ID
        and 0 <= h.size <= _MAX_SIZE
        and 0 <= h.mtime <= _MAX_SIZE
    )


def _ascii_prefix(text: bytes, limit: int) -> bytes:
    return bytes(c if c < 0x80 else 0x3F for c in text[:limit])


def encode_header(h: Header) -> bytes:
    """The header block(s) of ``h``: one USTAR block, or a PAX header and then it.

    Raises:
        ValueError: the PAX records exceed 1 MiB (Go's limit for special files).
    """
    if _simple(h):
        return _block(h, h.name, h.linkname, (h.uid, h.gid, h.size, h.mtime))
    records = _pax_records(h)
    data = b"".join(_record(k, records[k]) for k in sorted(records))
    if len(data) > 1 << 20:
        raise ValueError("PAX records exceed 1 MiB")
    head, _, base = h.name.rstrip(b"/").rpartition(b"/")
    pax_name = (head + b"/" if head else b"") + b"PaxHeaders.0/" + base
    pax = Header(pax_name, TypeFlag.PAX, size=len(data))
    pax_block = _block(pax, _ascii_prefix(pax_name, 100), b"", (0, 0, len(data), 0))
    numbers = (
        0 if b"uid" in records else h.uid,
        0 if b"gid" in records else h.gid,
        0 if b"size" in records else h.size,
        0 if b"mtime" in records else h.mtime,
    )
    main = _block(h, _ascii_prefix(h.name, 100), _ascii_prefix(h.linkname, 100), numbers)
    return pax_block + data + padding(len(data)) + main
