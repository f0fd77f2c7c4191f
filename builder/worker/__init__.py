"""Worker: executes solver ops on snapshots; here, file operations without a container.

May import: stdlib, solver.*, frontend.dockerignore, frontend.errors, builder lower
layers (errors, oci, content, layers, snapshots, sandbox).

    apply_file_actions(root, actions, sources, FileOpOptions()) -> None
    ContentHasher(cache).checksum(tree, copy) -> Digest
"""

from __future__ import annotations

from builder.worker.contenthash import ContentHasher, HashCache
from builder.worker.copy_paths import SourceTree
from builder.worker.errors import FileOpError
from builder.worker.file_op import FileOpOptions, apply_file_actions

__all__ = [
    "ContentHasher",
    "FileOpError",
    "FileOpOptions",
    "HashCache",
    "SourceTree",
    "apply_file_actions",
]
