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
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["BLOCK", "Header", "TypeFlag", "encode_header", "padding"]

BLOCK = 512
# name, the five numbers, checksum, type, linkname, magic+version, names, device numbers
_USTAR = struct.Struct("100s48s8sc100s8s64s16s167x")
_MAGIC = b"ustar\x0000"
_MAX_ID = 8**7 - 1
_MAX_SIZE = 8**11 - 1
_ZERO_PAD = bytes(BLOCK)


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
    return raw[:148] + b"%06o\0 " % sum(raw) + raw[156:]


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
