"""Layer compression: gzip and zstd codecs, magic-byte detection, streaming decompression.

May import: stdlib, zstandard and isal (this is the only door of both), builder.errors.

gzip goes through python-isal's ``isal_zlib`` (Intel ISA-L deflate/inflate) when it
is installed: on the bench machine it compressed 4-10x faster than stdlib ``zlib``
with a better ratio (bench/layers.py). Its levels are 0-3, so gzip levels 1-9 map
onto them (1-3 → 1, 4-6 → 2, 7-9 → 3; the default 6 → 2). Without isal, stdlib
``zlib`` is used; the layer bytes (not the diff_id) then differ from isal's, so a
deployment must pick one (pyproject declares isal).

Compressors are incremental (``compress(chunk) -> bytes``, ``flush() -> bytes``) so a
layer is never held whole in memory. Output is deterministic for a given algorithm,
level and library: the gzip header carries mtime 0 and no file name (``zlib`` with
``wbits=31``), and zstd frames are written single-threaded without a content size.

``open_decompressed`` sniffs the first bytes of a stream and returns a reader of the
uncompressed bytes; a truncated or corrupt stream raises ``InvalidInputError`` rather
than silently ending early.
"""

from __future__ import annotations

import enum
import io
import types
import zlib
from typing import BinaryIO, Protocol, cast

import zstandard

from builder.errors import InvalidInputError, UsageError

_deflate: types.ModuleType
try:
    from isal import isal_zlib

    _deflate, GZIP_BACKEND = isal_zlib, "isal"
except ImportError:  # pragma: no cover - isal is a declared dependency
    _deflate, GZIP_BACKEND = zlib, "zlib"
_CODEC_ERRORS: tuple[type[Exception], ...] = (
    zlib.error,
    getattr(_deflate, "error", zlib.error),
    zstandard.ZstdError,
)

__all__ = [
    "Compression",
    "Compressor",
    "GZIP_BACKEND",
    "default_level",
    "detect_compression",
    "new_compressor",
    "open_decompressed",
]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_READ_SIZE = 1 << 20
_SOURCE_CHUNK = 1 << 16  # small input chunks bound the output of one decompress call


class Compression(enum.Enum):
    """How a layer's tar stream is compressed."""

    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"

    @classmethod
    def parse(cls, text: str) -> Compression:
        """Parse ``none``/``uncompressed``/``gzip``/``zstd`` (case-insensitive).

        Raises:
            UsageError: ``text`` names no supported compression.
        """
        value = text.strip().lower()
        if value == "uncompressed":
            value = "none"
        for member in cls:
            if member.value == value:
                return member
        raise UsageError(
            f"unknown compression {text!r}", hint="use one of: uncompressed, gzip, zstd"
        )


_LEVELS = {Compression.GZIP: (1, 9, 6), Compression.ZSTD: (1, 22, 3)}


def default_level(compression: Compression) -> int | None:
    """The level used when none is given: gzip 6 (as docker), zstd 3 (as BuildKit)."""
    bounds = _LEVELS.get(compression)
    return bounds[2] if bounds else None


class Compressor(Protocol):
    """An incremental compressor."""

    def compress(self, data: bytes | bytearray) -> bytes: ...

    def flush(self) -> bytes: ...


class _Identity:
    def compress(self, data: bytes | bytearray) -> bytes:
        return data if isinstance(data, bytes) else bytes(data)

    def flush(self) -> bytes:
        return b""


def new_compressor(compression: Compression, level: int | None = None) -> Compressor:
    """A fresh compressor for ``compression`` at ``level`` (None: the default).

    Raises:
        UsageError: ``level`` is outside the algorithm's range (gzip 1-9, zstd 1-22).
    """
    if compression is Compression.NONE:
        return _Identity()
    low, high, default = _LEVELS[compression]
    chosen = default if level is None else level
    if not low <= chosen <= high:
        raise UsageError(
            f"{compression.value} compression level {chosen} is out of range",
            hint=f"use {low}-{high}",
        )
    if compression is Compression.GZIP:
        backend_level = (chosen + 2) // 3 if GZIP_BACKEND == "isal" else chosen
        return cast(Compressor, _deflate.compressobj(backend_level, zlib.DEFLATED, 31))
    cctx = zstandard.ZstdCompressor(level=chosen, write_content_size=False)
    return cctx.compressobj()


def detect_compression(head: bytes) -> Compression:
    """The compression of a stream that starts with ``head`` (at least 6 bytes if any).

    Raises:
        InvalidInputError: the stream is bzip2 or xz, which layers never use.
    """
    if head.startswith(_GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(_ZSTD_MAGIC):
        return Compression.ZSTD
    if head.startswith((_BZIP2_MAGIC, _XZ_MAGIC)):
        raise InvalidInputError(
            "layer is bzip2 or xz compressed", hint="layers must be tar, tar+gzip or tar+zstd"
        )
    return Compression.NONE


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


def _new_decompressor(compression: Compression) -> _Decompressor:
    if compression is Compression.GZIP:
        return cast(_Decompressor, _deflate.decompressobj(31))
    return zstandard.ZstdDecompressor().decompressobj()


class _DecompressingReader(io.RawIOBase):
    """Reads the concatenated members of a gzip or zstd stream, strictly."""

    def __init__(self, source: BinaryIO, head: bytes, compression: Compression) -> None:
        self._source = source
        self._pending = head
        self._compression = compression
        self._dec: _Decompressor | None = _new_decompressor(compression)
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._out:
            if not self._fill():
                return 0
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _fill(self) -> bool:
        data = self._pending or self._source.read(_SOURCE_CHUNK)
        self._pending = b""
        name = self._compression.value
        if not data:
            if self._dec is not None:
                raise InvalidInputError(f"truncated {name} stream: it ends mid-member")
            return False
        if self._dec is None:
            if not data.strip(b"\0"):
                return True  # zero padding after the last member, as tar writers add
            self._dec = _new_decompressor(self._compression)
        try:
            self._out = self._dec.decompress(data)
        except _CODEC_ERRORS as exc:
            raise InvalidInputError(f"corrupt {name} stream: {exc}") from None
        if self._dec.eof:
            self._pending = self._dec.unused_data
            self._dec = None
        return True


def open_decompressed(stream: BinaryIO) -> BinaryIO:
    """A reader of the uncompressed bytes of ``stream`` (none, gzip or zstd, sniffed).

    Raises:
        InvalidInputError: on read, when the stream is truncated or corrupt; at once when
            it is bzip2 or xz.
    """
    head = stream.read(8)
    while 0 < len(head) < 8:
        more = stream.read(8 - len(head))
        if not more:
            break
        head += more
    compression = detect_compression(head)
    raw: io.RawIOBase
    if compression is Compression.NONE:
        raw = _PrefixedReader(stream, head)
    else:
        raw = _DecompressingReader(stream, head, compression)
    return io.BufferedReader(raw, _READ_SIZE)


class _PrefixedReader(io.RawIOBase):
    """``head`` followed by the rest of ``source``."""

    def __init__(self, source: BinaryIO, head: bytes) -> None:
        self._source = source
        self._head = head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._head or self._source.read(len(buffer))
        self._head = b""
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        if n < len(data):
            self._head = data[n:]
        return n
