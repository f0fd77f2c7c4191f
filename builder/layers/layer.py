"""Making a layer blob: tar, diff_id, compression, digest and size in one streaming pass.

May import: stdlib, solver.digest, builder.errors, builder.content,
builder.layers.{compress,diff,tar}.

The tar writer runs in the calling thread and hashes the uncompressed bytes (the
diff_id); a second thread compresses, hashes the compressed bytes (the blob digest)
and writes them out. zlib, zstandard and hashlib release the GIL on large buffers,
so the two overlap. The queue between them is bounded (``_DEPTH`` chunks of
``_CHUNK`` bytes), so memory stays flat whatever the layer size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from builder.content.store import ContentStore
from builder.errors import UsageError
from builder.layers.compress import Compression, Compressor, new_compressor
from builder.layers.diff import Change
from builder.layers.tar import Sink, write_tar
from solver.digest import Digest

__all__ = [
    "LayerInfo",
    "LayerOptions",
    "media_type_for",
    "parse_source_date_epoch",
    "store_layer",
    "write_layer",
]

_CHUNK = 1 << 20
_DEPTH = 8
_MEDIA_TYPES = {
    Compression.NONE: "application/vnd.oci.image.layer.v1.tar",
    Compression.GZIP: "application/vnd.oci.image.layer.v1.tar+gzip",
    Compression.ZSTD: "application/vnd.oci.image.layer.v1.tar+zstd",
}


@dataclass(frozen=True, slots=True)
class LayerOptions:
    """How to make a layer.

    Attributes:
        compression: the blob's compression (gzip by default, as docker expects).
        level: compression level; None means gzip 6 / zstd 3.
        source_date_epoch: clamp every mtime to at most this many seconds since 1970.
    """

    compression: Compression = Compression.GZIP
    level: int | None = None
    source_date_epoch: int | None = None


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """What was written: the uncompressed tar's digest and the blob's digest and size."""

    diff_id: Digest
    digest: Digest
    size: int
    media_type: str


def parse_source_date_epoch(text: str | None) -> int | None:
    """``SOURCE_DATE_EPOCH`` as seconds (None when unset or empty).

    Raises:
        UsageError: the value is not a non-negative whole number of seconds.
    """
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isdigit() or not value.isascii():
        raise UsageError(
            f"invalid SOURCE_DATE_EPOCH {text!r}",
            hint="use whole seconds since 1970, e.g. 1700000000",
        )
    return int(value)


def media_type_for(compression: Compression) -> str:
    """The OCI layer media type for ``compression``."""
    return _MEDIA_TYPES[compression]


class _Pipeline:
    """Sink for tar bytes: hash, then compress/hash/write on a worker thread."""

    def __init__(self, out: Sink, compressor: Compressor) -> None:
        self._out = out
        self._compressor = compressor
        self._diff = hashlib.sha256()
        self._blob = hashlib.sha256()
        self._size = 0
        self._buf = bytearray()
        self._queue: queue.Queue[bytes | None] = queue.Queue(_DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="layer-compress", daemon=True)
        self._thread.start()

    def write(self, data: bytes, /) -> int:
        if not self._buf and len(data) >= _CHUNK:
            self._ship(data)
        else:
            self._buf += data
            if len(self._buf) >= _CHUNK:
                self._ship(bytes(self._buf))
                self._buf.clear()
        return len(data)

    def _ship(self, chunk: bytes) -> None:
        self._diff.update(chunk)
        self._queue.put(chunk)

    def _emit(self, data: bytes) -> None:
        if data:
            self._blob.update(data)
            self._size += len(data)
            self._out.write(data)

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._emit(self._compressor.compress(chunk))
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def close(self, *, abort: bool = False) -> tuple[Digest, Digest, int]:
        if self._buf and not abort:
            self._ship(bytes(self._buf))
            self._buf.clear()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._emit(self._compressor.flush())
        return (
            Digest.from_hex(self._diff.hexdigest()),
            Digest.from_hex(self._blob.hexdigest()),
            self._size,
        )


def write_layer(changes: Iterable[Change], out: Sink, opts: LayerOptions) -> LayerInfo:
    """Write the layer blob of ``changes`` to ``out``.

    Raises:
        InvalidInputError: a source file vanished or shrank while being archived.
        UsageError: the compression level is out of range.
        OSError: reading the tree or writing ``out`` failed.
    """
    pipeline = _Pipeline(out, new_compressor(opts.compression, opts.level))
    try:
        write_tar(changes, pipeline, opts.source_date_epoch)
    except BaseException:
        pipeline.close(abort=True)
        raise
    diff_id, digest, size = pipeline.close()
    return LayerInfo(diff_id, digest, size, media_type_for(opts.compression))


def store_layer(content: ContentStore, changes: Iterable[Change], opts: LayerOptions) -> LayerInfo:
    """Stream the layer blob of ``changes`` into ``content`` (a ``ContentStore``).

    The blob is committed only once it is complete and its digest verified; on any
    failure the store is left as it was. Hold ``content.lease()`` until an image
    references the blob, so garbage collection does not take it.

    Raises:
        InvalidInputError: a source file vanished or shrank while being archived.
        StoreError: the content store refused the blob.
    """
    with content.writer() as writer:
        info = write_layer(changes, writer, opts)
        writer.commit(expected=info.digest, expected_size=info.size)
    return info
