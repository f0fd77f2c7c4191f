"""Snapshots: image layers unpacked once per chain ID, ready for overlayfs to stack.

May import: stdlib, solver.digest, builder lower layers (errors, root, oci, content,
images, layers).

    SnapshotStore(root, content).ensure(layer_blobs(manifest, config)) -> [diff dirs]
    SnapshotStore.materialize(layers, target)   a plain rootfs, for non-overlay uses
"""

from builder.snapshots.store import LayerBlob, SnapshotStore, layer_blobs

__all__ = ["LayerBlob", "SnapshotStore", "layer_blobs"]
