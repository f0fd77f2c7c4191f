"""``LocalWorker``: executes solver ops on this machine by dispatching on the op type.

May import: stdlib, solver.*, builder lower layers (errors, oci, content, images,
registry, layers, snapshots, sandbox), builder.worker.*.

    worker = LocalWorker(stores, images, WorkerOptions(contexts={"context": tree}))
    Scheduler(worker, cache, sink, hasher=LocalHasher(worker))

``SourceOp(ImageSource)`` resolves the image (``BaseImages``: the local store unless
``--pull``) and unpacks its layers; ``SourceOp(LocalSource)`` is the named context
directory; ``ExecOp`` and ``FileOp`` run on overlays of their inputs and commit a
new layer. Results are ``SnapshotRef``/``DirRef`` (``builder.worker.refs``); a
cached result is loaded back from its top snapshot's chain.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from builder.images.store import ImageStore
from builder.sandbox.executor import Executor, ExecutorOptions
from builder.worker.contenthash import ContentHasher, HashCache
from builder.worker.copy_paths import SourceTree
from builder.worker.exec_op import ExecSettings, run_exec_op
from builder.worker.file_exec import run_file_op
from builder.worker.refs import (
    SCRATCH_ID,
    DirRef,
    LocalRef,
    SnapshotRef,
    Stores,
    load_chain,
    merged_view,
)
from builder.worker.source_op import BaseImages, image_snapshot
from solver.digest import Digest, digest_of
from solver.errors import OpFailed
from solver.ops import Copy, ExecOp, FileOp, ImageSource, Input, LocalSource, Op, SourceOp
from solver.worker import ContentChecksum, ResultId, RunContext

__all__ = ["LocalHasher", "LocalWorker", "WorkerOptions"]


@dataclass(frozen=True)
class WorkerOptions:
    """What one build gives the worker.

    Attributes:
        contexts: named build contexts (``context`` is the main one).
        exec: settings of RUN steps (layer options, proxies, network, secrets).
        base_images: the build's base-image resolver (shared with the frontend).
    """

    contexts: Mapping[str, SourceTree] = field(default_factory=dict)
    exec: ExecSettings = field(default_factory=ExecSettings)
    base_images: BaseImages | None = None


class LocalWorker:
    """Implements ``solver.worker.Worker`` with overlay snapshots and the sandbox."""

    def __init__(self, stores: Stores, images: ImageStore, options: WorkerOptions,
                 executor: Executor | None = None) -> None:
        self.stores = stores
        self.images = images
        self.options = options
        self.base_images = options.base_images or BaseImages(images)
        self.executor = executor or Executor(ExecutorOptions(state_dir=stores.root.tmp))

    def run(self, op: Op, inputs: Sequence[LocalRef], ctx: RunContext) -> Sequence[LocalRef]:
        """Execute ``op`` on ``inputs`` (matching ``op.inputs``); see ``solver.worker``.

        Raises:
            OpFailed: the op failed (exit code, missing context, unsupported source).
            FileOpError: a file action failed.
            Cancelled: the build was cancelled.
        """
        ctx.cancel.raise_if_cancelled()
        refs = dict(zip(op.inputs, inputs, strict=True))
        match op:
            case SourceOp(source=ImageSource() as src):
                base = self.base_images.lookup(src.ref, src.platform)
                return (image_snapshot(self.stores, self.images, base),)
            case SourceOp(source=LocalSource() as src):
                return (self._context(src.name),)
            case SourceOp():
                raise OpFailed(f"{type(op.source).__name__} sources are not supported yet")
            case ExecOp():
                return (run_exec_op(self.stores, self.executor, op, refs, ctx,
                                    self.options.exec),)
            case FileOp():
                return (run_file_op(self.stores, op, refs, self.options.exec.layer),)
            case _:
                raise OpFailed(f"{type(op).__name__} is not supported yet")

    def load(self, results: Sequence[ResultId], ctx: RunContext) -> Sequence[LocalRef] | None:
        """Refs for cached results, or None when any snapshot or blob is gone."""
        out: list[LocalRef] = []
        for result in results:
            if result.id.startswith("context:"):
                name = result.id.split(":", 1)[1]
                if name not in self.options.contexts:
                    return None
                out.append(self._context(name))
                continue
            if result.id != SCRATCH_ID and not self.stores.snapshots.has(
                    Digest.from_hex(result.id)):
                return None
            ref = load_chain(self.stores, result.id)
            if ref is None:
                return None
            out.append(ref)
        return out

    def _context(self, name: str) -> DirRef:
        tree = self.options.contexts.get(name)
        if tree is None:
            raise OpFailed(f"build context {name!r} was not given")
        return DirRef(name, tree)


class LocalHasher:
    """``solver.worker.ContentHasher`` over ``builder.worker.contenthash``."""

    def __init__(self, worker: LocalWorker, cache: HashCache | None = None) -> None:
        self.worker = worker
        self.hasher = ContentHasher(cache)
        self._lock = threading.Lock()  # the hash cache is not safe for concurrent use

    def checksum(self, op: Op, source: Input, ref: LocalRef,
                 ctx: RunContext) -> ContentChecksum:
        """What ``op`` reads from ``source`` (see ``solver.worker.ContentHasher``).

        Raises:
            FileOpError: a path the op names does not exist.
        """
        ctx.cancel.raise_if_cancelled()
        with self._lock, merged_view(self.worker.stores, ref) as view:
            tree = ref.tree if isinstance(ref, DirRef) else SourceTree(view)
            if isinstance(op, FileOp):
                return self.hasher.op_checksum(op, source, tree)
            selectors = sorted({m.selector or "/" for m in getattr(op, "mounts", ())
                                if m.source == source})
            parts = [str(self.hasher.checksum(tree, Copy(source, sel, "/")))
                     for sel in selectors]
            if isinstance(ref, SnapshotRef) and not parts:
                parts = [ref.describe().id]
        return ContentChecksum(digest_of(tuple(parts)))
