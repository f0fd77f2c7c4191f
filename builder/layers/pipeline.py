"""The layer pipeline: tar chunks in; diff_id, compressed blob, digest and size out.

May import: stdlib, solver.digest, builder.layers.{compress,tar}.

The tar writer runs in the calling thread and hands chunks of about ``CHUNK`` bytes
to two worker threads: one hashes the uncompressed stream (the diff_id), the other
compresses it, hashes the compressed bytes (the blob digest) and writes them out.
hashlib, zlib, isal and zstandard release the GIL on large buffers, so on two cores
the kernel balances the three: walking many small files is the heavy part of one
layer, hashing and compressing a big file of another, and neither waits on the
other's fixed share. Each queue is bounded (``_DEPTH`` chunks), so memory stays flat
whatever the layer size; a chunk is shared by both workers, never copied.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable

from builder.layers.compress import Compressor
from builder.layers.tar import CHUNK, Sink
from solver.digest import Digest

__all__ = ["Pipeline"]

_DEPTH = 8


class _Stage:
    """A worker thread applying ``step`` to each queued chunk, in order."""

    def __init__(self, name: str, step: Callable[[bytes | bytearray], object]) -> None:
        self.error: BaseException | None = None
        self._step = step
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(_DEPTH)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, chunk: bytes | bytearray) -> None:
        self._queue.put(chunk)

    def join(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._step(chunk)
                except BaseException as exc:  # re-raised in the caller's thread
                    self.error = exc


class Pipeline:
    """A ``Sink`` for tar bytes that hashes, compresses and writes them to ``out``.

    Call ``close`` exactly once, also on failure (with ``abort=True``), so the
    worker threads end.
    """

    def __init__(self, out: Sink, compressor: Compressor) -> None:
        self._out = out
        self._compressor = compressor
        self._diff = hashlib.sha256()
        self._blob = hashlib.sha256()
        self._size = 0
        self._buf = bytearray()
        self._stages = (
            _Stage("layer-diff-id", self._diff.update),
            _Stage("layer-compress", self._compress),
        )

    def write(self, data: bytes | bytearray, /) -> int:
        """Take ``data``; it is queued once a whole chunk is gathered.

        Raises:
            BaseException: whatever a worker failed with (hashing, compressing or
                writing ``out``), as soon as it is known.
        """
        if not self._buf and len(data) >= CHUNK:
            self._ship(data)
        else:
            self._buf += data
            if len(self._buf) >= CHUNK:
                self._ship(self._buf)
                self._buf = bytearray()
        return len(data)

    def close(self, *, abort: bool = False) -> tuple[Digest, Digest, int]:
        """Finish: (diff_id, blob digest, blob size); ``abort`` drops pending bytes.

        Raises:
            BaseException: whatever a worker failed with.
        """
        rest = None if abort or not self._buf else self._buf
        self._buf = bytearray()
        for stage in self._stages:
            if rest is not None:
                stage.put(rest)
            stage.join()
        for stage in self._stages:
            if stage.error is not None:
                raise stage.error
        self._emit(self._compressor.flush())
        return (
            Digest.from_hex(self._diff.hexdigest()),
            Digest.from_hex(self._blob.hexdigest()),
            self._size,
        )

    def _ship(self, chunk: bytes | bytearray) -> None:
        for stage in self._stages:
            if stage.error is not None:
                raise stage.error  # fail fast: that worker has given up
            stage.put(chunk)

    def _compress(self, chunk: bytes | bytearray) -> None:
        self._emit(self._compressor.compress(chunk))

    def _emit(self, data: bytes) -> None:
        if data:
            self._blob.update(data)
            self._size += len(data)
            self._out.write(data)
