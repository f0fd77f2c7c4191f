"""Content-addressed blob store (``blobs/sha256/<hex>``) with verified writes and reads.

May import: stdlib, solver.digest, builder.{errors,root}, builder.oci.

Writes go to a file in the process's staging directory, are hashed as they
stream, fsynced, checked against the expected digest and size, and only then
renamed into ``blobs/sha256/`` (followed by an fsync of that directory). A writer
that is abandoned, fails verification or dies leaves nothing in ``blobs/``.
Reads re-hash as they stream and fail at EOF if the bytes on disk no longer
match their name (umoci's verified reads).

Concurrent writers of the same blob are safe: both stage privately and the
renames are atomic; the second one finds the blob present and drops its copy.
Garbage collection (builder.images.gc) holds ``Root.lock("gc")`` exclusively;
``ContentStore.lease()`` takes it shared so that blobs written during a build
are not collected before an image refers to them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from builder.errors import InvalidInputError, NotFoundError, StoreError
from builder.oci.descriptor import Descriptor
from builder.root import Root, fsync_dir
from solver.digest import Digest, DigestError

__all__ = ["BlobInfo", "BlobWriter", "ContentStore", "VerifiedReader"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A committed blob: its digest and size."""

    digest: Digest
    size: int

    def descriptor(self, media_type: str) -> Descriptor:
        """A ``Descriptor`` for this blob with ``media_type``."""
        return Descriptor(media_type, self.digest, self.size)


class BlobWriter:
    """Streams one blob into staging; ``commit`` verifies it and moves it into place.

    Obtain one from ``ContentStore.writer()``; do not construct directly.
    """

    def __init__(self, store: ContentStore, path: Path) -> None:
        self._store = store
        self._path = path
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115 - closed in _close
        self._hash = hashlib.sha256()
        self._size = 0
        self._committed: BlobInfo | None = None

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data``; returns its length.

        Raises:
            StoreError: the writer is already committed or closed.
        """
        if self._file is None:
            raise StoreError("blob writer is closed")
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)
        return len(data)

    def commit(self, expected: Digest | None = None,
               expected_size: int | None = None) -> BlobInfo:
        """Verify the written bytes and publish them as ``blobs/sha256/<hex>``.

        Raises:
            InvalidInputError: the digest or size differs from what was expected
                (nothing is published, the staged bytes are removed).
            StoreError: the writer is closed, or the disk refused the write.
        """
        if self._committed is not None:
            return self._committed
        if self._file is None:
            raise StoreError("blob writer is closed")
        digest = Digest("sha256:" + self._hash.hexdigest())
        try:
            if expected_size is not None and expected_size != self._size:
                raise InvalidInputError(
                    f"size mismatch for {expected or digest}: expected {expected_size} "
                    f"bytes, got {self._size}")
            if expected is not None and expected != digest:
                raise InvalidInputError(
                    f"digest mismatch: expected {expected}, got {digest}",
                    hint="the source sent different bytes than it announced")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._close()
            self._committed = self._store._publish(self._path, BlobInfo(digest, self._size))
            return self._committed
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Discard the staged bytes (no-op after ``commit``)."""
        self._close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class VerifiedReader(io.RawIOBase):
    """A read-only stream over a blob that checks size and digest at EOF.

    Raises ``InvalidInputError`` from ``read`` when the end is reached and the
    bytes do not match, or as soon as more bytes than expected arrive.
    """

    def __init__(self, raw: BinaryIO, digest: Digest, size: int | None) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest
        self._size = size
        self._hash = hashlib.sha256()
        self._seen = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        n = self._raw.readinto(view)  # type: ignore[attr-defined]
        if n:
            self._hash.update(view[:n])
            self._seen += n
            if self._size is not None and self._seen > self._size:
                raise self._corrupt(f"more than {self._size} bytes")
        elif not self._verified:
            self._check_end()
        return int(n or 0)

    def _check_end(self) -> None:
        if self._size is not None and self._seen != self._size:
            raise self._corrupt(f"{self._seen} bytes instead of {self._size}")
        actual = "sha256:" + self._hash.hexdigest()
        if actual != self._digest:
            raise self._corrupt(f"content hashes to {actual}")
        self._verified = True

    def _corrupt(self, what: str) -> InvalidInputError:
        return InvalidInputError(
            f"blob {self._digest} is corrupt: {what}",
            hint="remove the image that uses it and pull or build it again",
        )

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class ContentStore:
    """Blobs by sha256 digest under ``root.blobs``."""

    def __init__(self, root: Root) -> None:
        self.root = root

    def path(self, digest: Digest) -> Path:
        """Where the blob ``digest`` lives (whether or not it exists)."""
        return self.root.blobs / Digest(digest).hex

    def has(self, digest: Digest) -> bool:
        """True if the blob is present."""
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        """The blob's size in bytes.

        Raises:
            NotFoundError: no such blob.
        """
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"blob {digest} not found") from None

    @contextlib.contextmanager
    def writer(self) -> Iterator[BlobWriter]:
        """A ``BlobWriter``; anything not committed when the block exits is discarded.

        Raises:
            StoreError: the staging area cannot be written.
        """
        with self.root.tempfile(prefix="blob-") as path:
            w = BlobWriter(self, path)
            try:
                yield w
            finally:
                w.abort() if w._committed is None else w._close()

    def put_bytes(self, data: bytes, expected: Digest | None = None) -> Digest:
        """Store ``data``; returns its digest.

        Raises:
            InvalidInputError: ``data`` does not hash to ``expected``.
        """
        with self.writer() as w:
            w.write(data)
            return w.commit(expected, None).digest

    def put_stream(self, stream: BinaryIO, expected: Digest | None = None,
                   expected_size: int | None = None) -> BlobInfo:
        """Store everything read from ``stream``.

        Raises:
            InvalidInputError: digest or size differ from the expected ones.
        """
        with self.writer() as w:
            while chunk := stream.read(_CHUNK):
                w.write(chunk)
                if expected_size is not None and w.size > expected_size:
                    raise InvalidInputError(
                        f"size mismatch for {expected or 'blob'}: more than "
                        f"{expected_size} bytes")
            return w.commit(expected, expected_size)

    def open_blob(self, digest: Digest, size: int | None = None) -> BinaryIO:
        """Open the blob for reading, verifying ``digest`` (and ``size``) while streaming.

        Raises:
            NotFoundError: no such blob.
        """
        try:
            raw = open(self.path(digest), "rb")  # noqa: SIM115 - owned by the reader
        except FileNotFoundError:
            raise NotFoundError(f"blob {digest} not found") from None
        return io.BufferedReader(VerifiedReader(raw, Digest(digest), size), _CHUNK)

    def read_bytes(self, digest: Digest, size: int | None = None) -> bytes:
        """The blob's bytes, verified.

        Raises:
            NotFoundError: no such blob.
            InvalidInputError: the blob on disk is corrupt.
        """
        with self.open_blob(digest, size) as f:
            return f.read()

    def delete(self, digest: Digest) -> bool:
        """Remove the blob; returns False if it was not there."""
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            return False
        return True

    def digests(self) -> Iterator[Digest]:
        """Every stored blob's digest (in no particular order)."""
        with os.scandir(self.root.blobs) as entries:
            for entry in entries:
                try:
                    yield Digest.from_hex(entry.name)
                except DigestError:
                    continue

    @contextlib.contextmanager
    def lease(self) -> Iterator[None]:
        """Keep garbage collection away while blobs are written but not yet referenced."""
        with self.root.lock("gc", shared=True):
            yield

    def _publish(self, staged: Path, info: BlobInfo) -> BlobInfo:
        final = self.path(info.digest)
        try:
            if final.stat().st_size == info.size:
                os.unlink(staged)  # already stored (e.g. by a concurrent writer)
                return info
        except FileNotFoundError:
            pass
        # absent, or damaged on disk (wrong size): the verified copy replaces it
        try:
            os.chmod(staged, 0o644)
            os.replace(staged, final)
            fsync_dir(final.parent)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
            raise StoreError(f"cannot store blob {info.digest}: {exc.strerror}") from exc
        return info
