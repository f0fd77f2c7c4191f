"""Layers: directory changes to deterministic tar+gzip/zstd blobs, and blobs back to trees.

May import: stdlib, solver.digest, builder.errors, builder.root, builder.oci,
builder.content, builder.layers.* (zstandard and isal only in compress.py).

    write_layer(changes, out, LayerOptions()) -> LayerInfo(diff_id, digest, size, media_type)
    store_layer(content, changes, opts)        the same, streamed into the content store
    changes_from_dir / changes_from_upper / changes_from_diff   where changes come from
    apply_layer(stream, target, ApplyOptions()) -> diff_id      safe, staged unpacking
"""

from builder.layers.apply import ApplyOptions, WhiteoutMode, apply_layer, unpack_layer
from builder.layers.compress import Compression, detect_compression, open_decompressed
from builder.layers.diff import (
    Change,
    ChangeKind,
    changes_from_diff,
    changes_from_dir,
    changes_from_upper,
)
from builder.layers.layer import (
    LayerInfo,
    LayerOptions,
    media_type_for,
    parse_source_date_epoch,
    store_layer,
    write_layer,
)

__all__ = [
    "ApplyOptions",
    "Change",
    "ChangeKind",
    "Compression",
    "LayerInfo",
    "LayerOptions",
    "WhiteoutMode",
    "apply_layer",
    "changes_from_diff",
    "changes_from_dir",
    "changes_from_upper",
    "detect_compression",
    "media_type_for",
    "open_decompressed",
    "parse_source_date_epoch",
    "store_layer",
    "unpack_layer",
    "write_layer",
]
