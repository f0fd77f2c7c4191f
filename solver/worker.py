"""The protocols the solver executes through (``Worker``, ``Ref``, ``ContentHasher``)
and the values they exchange. No implementation: builder/worker implements these.

May import: solver.ops, solver.digest, solver.progress, stdlib.

Execution is **synchronous**: the sandbox and file operations block, so the
scheduler calls ``Worker.run``, ``Worker.load`` and ``ContentHasher.checksum`` in
worker threads and passes a ``RunContext`` whose ``cancel`` token tells them to
stop (a failing sibling, Ctrl-C). A worker that sees ``ctx.cancel.cancelled``
stops its process, cleans up and raises ``Cancelled``; the scheduler waits for the
call to return before it reports the build as ended, so nothing stays running.

Ownership: every ``Ref`` a worker returns is owned by the caller, who calls
``release()`` exactly once; ``clone()`` gives another owned handle to the same
immutable result. Refs returned by ``run`` are durable (committed): the
scheduler writes the cache record only after ``run`` returns them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from solver.digest import Digest
from solver.ops import Input, Op
from solver.progress import Event, LogStream, VertexLog, VertexStatus

__all__ = [
    "CancelToken",
    "Cancelled",
    "ContentChecksum",
    "ContentHasher",
    "FileDigest",
    "Ref",
    "ResultId",
    "ResultRecord",
    "RunContext",
    "Worker",
]


class Cancelled(Exception):
    """Raised by a worker call that stopped because its cancel token fired."""


class CancelToken:
    """A thread-safe, one-way cancellation flag with callbacks.

    ``on_cancel(fn)`` runs ``fn`` (in the cancelling thread) when the token fires,
    or at once if it already has: the sandbox uses it to kill its process.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            fn()

    def on_cancel(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(fn)
                return
        fn()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds; True if the token fired."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        """Raises:
        Cancelled: the token fired."""
        if self._event.is_set():
            raise Cancelled("cancelled")


@dataclass(frozen=True, slots=True)
class ResultId:
    """What the cache stores about one result: the worker's durable id for it
    (a snapshot id), its layer digests if known, and its size in bytes."""

    id: str
    layers: tuple[Digest, ...] = ()
    size: int = 0


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """A cache index entry: the results of a vertex, durable when written.
    ``identity`` is the cache key dependants build their own keys from (the
    content key when the vertex has one), whichever key found the record."""

    identity: Digest
    results: tuple[ResultId, ...]
    created_at: float
    last_used: float

    @property
    def size(self) -> int:
        return sum(r.size for r in self.results)


@dataclass(frozen=True, slots=True)
class FileDigest:
    """One file an op read: its path (relative to the input) and content digest
    (covering content, mode and ownership, never mtime)."""

    path: str
    digest: Digest


@dataclass(frozen=True, slots=True)
class ContentChecksum:
    """The checksum of exactly the files an op reads from one input. ``files``
    lists them for ``--explain`` (it may be empty); only ``digest`` is keyed."""

    digest: Digest
    files: tuple[FileDigest, ...] = ()


class RunContext:
    """Per-call context: the vertex, the build session, cancellation, and progress
    reporting (``log``/``status`` are safe from the worker's thread). The last
    ``TAIL_BYTES`` logged are kept for the error message if the step fails."""

    TAIL_BYTES = 16_384

    def __init__(
        self, vertex: Digest, name: str, session: str, emit: Callable[[Event], None]
    ) -> None:
        self.vertex = vertex
        self.name = name
        self.session = session
        self.cancel = CancelToken()
        self._emit = emit
        self._lock = threading.Lock()
        self._tail = bytearray()

    def log(self, stream: LogStream, data: bytes) -> None:
        """Report output the step produced."""
        with self._lock:
            self._tail += data
            del self._tail[: max(0, len(self._tail) - self.TAIL_BYTES)]
        self._emit(VertexLog(self.vertex, stream, data))

    def log_tail(self, lines: int = 20) -> tuple[str, ...]:
        """The last ``lines`` lines logged (decoded leniently)."""
        with self._lock:
            text = bytes(self._tail).decode("utf-8", "replace")
        return tuple(text.splitlines()[-lines:])

    def status(self, task: str, current: int, total: int | None = None) -> None:
        """Report a sub-task's progress (bytes downloaded, files copied …)."""
        self._emit(VertexStatus(self.vertex, task, current, total))


R = TypeVar("R", bound="Ref")
R_contra = TypeVar("R_contra", bound="Ref", contravariant=True)


class Ref(Protocol):
    """An immutable, durable result of an op (a committed snapshot)."""

    def describe(self) -> ResultId: ...

    def clone(self) -> Ref: ...

    def release(self) -> None: ...


class Worker(Protocol[R]):
    """Executes ops with its own ref type ``R``. Both methods block and are called
    in worker threads."""

    def run(self, op: Op, inputs: Sequence[R], ctx: RunContext) -> Sequence[R]:
        """Execute ``op``; ``inputs`` match ``op.inputs`` in order. Returns the
        op's outputs (one per output index), committed.

        Raises:
            OpFailed: the op ran and failed (a non-zero exit, a missing file).
            Cancelled: ``ctx.cancel`` fired; everything the call started is undone.
        """
        ...

    def load(self, results: Sequence[ResultId], ctx: RunContext) -> Sequence[R] | None:
        """Refs for results recorded in the cache, or None when any is gone."""
        ...


class ContentHasher(Protocol[R_contra]):
    """Checksums the files an op reads (BuildKit's "slow" content cache key)."""

    def checksum(self, op: Op, source: Input, ref: R_contra, ctx: RunContext) -> ContentChecksum:
        """The content checksum of what ``op`` reads from its input ``source``
        (materialised as ``ref``): for a COPY, the files its patterns match
        after excludes, with path, content, mode and uid/gid; for a bind mount,
        the tree under the mount's selector.

        Raises:
            OpFailed: a path the op names does not exist.
            Cancelled: ``ctx.cancel`` fired.
        """
        ...
