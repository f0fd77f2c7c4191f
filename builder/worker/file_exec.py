"""FileOp on the local worker: file actions on an overlay of the base, committed as a layer.

May import: stdlib, solver.ops, builder lower layers (layers, snapshots),
builder.worker.{file_op,copy_paths,refs}.

The base chain is mounted as overlay lowerdirs under a fresh upperdir; the actions
run on the merged view (``apply_file_actions``), so the upperdir afterwards holds
exactly the changes, whiteouts included, and becomes the new layer. Copy sources
that are snapshots are mounted read-only beside it; a build context is read in place
through its ignore rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

from builder.layers import LayerOptions
from builder.snapshots.overlay import overlay_mounted
from builder.worker.copy_paths import SourceTree
from builder.worker.file_op import FileOpOptions, apply_file_actions
from builder.worker.refs import DirRef, LocalRef, SnapshotRef, Stores, commit_upper, merged_view
from solver.errors import OpFailed
from solver.ops import Copy, FileOp, Input

__all__ = ["run_file_op"]


def run_file_op(stores: Stores, op: FileOp, refs: Mapping[Input, LocalRef],
                layer: LayerOptions) -> SnapshotRef:
    """Apply ``op`` on its base (``refs[op.base]``, or scratch) and commit the changes.

    Args:
        stores: the root and its stores.
        op: the file operation.
        refs: the result each of ``op.inputs`` resolved to.
        layer: how the new layer blob is written.

    Raises:
        FileOpError: an action failed (a missing source, a bad --chown …).
        OpFailed: the base is not a filesystem snapshot.
        OverlayError: the overlay mount failed.
    """
    base = _base(op, refs)
    with stores.root.tempdir("fileop-") as tmp:
        upper, work, mnt, empty = tmp / "upper", tmp / "work", tmp / "root", tmp / "empty"
        for path in (upper, work, mnt, empty):
            path.mkdir()
        lowers = base.diff_dirs(stores.snapshots) or [empty]
        with contextlib.ExitStack() as stack:
            stack.enter_context(overlay_mounted(lowers, upper, work, mnt))
            trees: dict[Input, Path | SourceTree] = {}
            read = {a.source for a in op.actions if isinstance(a, Copy)}
            for inp, ref in refs.items():
                if inp not in read:
                    continue
                if isinstance(ref, DirRef):
                    trees[inp] = ref.tree
                else:
                    trees[inp] = SourceTree(stack.enter_context(merged_view(stores, ref)))
            apply_file_actions(mnt, op.actions, trees, FileOpOptions(scratch_dir=mnt))
        return commit_upper(stores, base, upper, layer)


def _base(op: FileOp, refs: Mapping[Input, LocalRef]) -> SnapshotRef:
    if op.base is None:
        return SnapshotRef()
    ref = refs[op.base]
    if isinstance(ref, SnapshotRef):
        return ref
    raise OpFailed(f"cannot change files of the build context {ref.name!r} in place")
