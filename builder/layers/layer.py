"""Making a layer blob: tar, diff_id, compression, digest and size in one streaming pass.

May import: stdlib, solver.digest, builder.errors, builder.content,
builder.layers.{compress,diff,pipeline,tar}.

The tar writer runs in the calling thread and feeds a ``Pipeline``, whose worker
threads hash, compress and write (see pipeline.py). zstd runs single-threaded: its
multi-threaded frames differ from single-threaded ones, and the bytes of a layer
must not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from builder.content.store import ContentStore
from builder.errors import UsageError
from builder.layers.compress import Compression, new_compressor
from builder.layers.diff import Change
from builder.layers.pipeline import Pipeline
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


def write_layer(changes: Iterable[Change], out: Sink, opts: LayerOptions) -> LayerInfo:
    """Write the layer blob of ``changes`` to ``out``.

    Raises:
        InvalidInputError: a source file vanished or shrank while being archived.
        UsageError: the compression level is out of range.
        OSError: reading the tree or writing ``out`` failed.
    """
    pipeline = Pipeline(out, new_compressor(opts.compression, opts.level))
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
