"""Image store (names → manifests), garbage collection, prune and disk usage.

May import: stdlib, solver.digest, builder.{errors,root,oci,content}, builder.images.*.
"""

from builder.images.gc import (
    DiskUsage,
    GcOptions,
    GcResult,
    ImageUsage,
    PruneResult,
    PruneScope,
    SnapshotPruner,
    Usage,
    collect_garbage,
    disk_usage,
    live_chain_ids,
    prune_images,
    reachable,
)
from builder.images.store import ANNOTATION_PYBUILD_CREATED, ImageRecord, ImageStore

__all__ = [
    "ANNOTATION_PYBUILD_CREATED",
    "DiskUsage",
    "GcOptions",
    "GcResult",
    "ImageRecord",
    "ImageStore",
    "ImageUsage",
    "PruneResult",
    "PruneScope",
    "SnapshotPruner",
    "Usage",
    "collect_garbage",
    "disk_usage",
    "live_chain_ids",
    "prune_images",
    "reachable",
]
