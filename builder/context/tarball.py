"""A tar stream as the build context: stdin, a file, or bytes downloaded from a URL.

May import: stdlib, builder.errors, builder.layers, builder.exporters.tarsafe,
builder.context.base.

The stream may be plain tar, gzip, bzip2, xz or zstd (sniffed from its first
bytes). It is extracted into a fresh temporary directory with ``tarfile``'s
``data`` filter plus pybuild's own rules: absolute names, ``..``, writing
through a symlink, hard links out of the tree and device nodes are refused with
one clear line, and the directory is removed again. Symlinks whose *targets* are
absolute are kept: COPY resolves them inside the context root.

``open_stdin(stream, tmp_parent)`` decides what ``-`` is: a tar (a context) or
anything else (a Dockerfile, with an empty context).
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

from builder.context.base import ContextError, DirContext
from builder.errors import InvalidInputError
from builder.exporters.tarsafe import member_path
from builder.layers import open_decompressed

__all__ = ["TarballContext", "open_stdin"]

_BZIP2, _XZ = b"BZh", b"\xfd7zXZ\x00"
_HEAD = 1024


class _Chain(io.RawIOBase):
    """``head`` then the rest of ``source``."""

    def __init__(self, head: bytes, source: BinaryIO) -> None:
        self._head, self._source = head, source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._head or self._source.read(len(buffer))
        n = min(len(buffer), len(data))
        buffer[:n] = data[:n]
        self._head = data[n:]
        return n


def _peek(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    head = b""
    while len(head) < size:
        more = stream.read(size - len(head))
        if not more:
            break
        head += more
    return head, io.BufferedReader(_Chain(head, stream))


def _open_tar(stream: BinaryIO) -> tarfile.TarFile:
    head, stream = _peek(stream, 8)
    if head.startswith(_BZIP2):
        return tarfile.open(fileobj=stream, mode="r|bz2")
    if head.startswith(_XZ):
        return tarfile.open(fileobj=stream, mode="r|xz")
    return tarfile.open(fileobj=open_decompressed(stream), mode="r|")


def _filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    name = member_path(member.name, "context tar")
    if member.ischr() or member.isblk() or member.isfifo():
        raise InvalidInputError(
            f"context tar member {member.name!r}: device nodes and fifos are not allowed",
            hint="a build context holds regular files, directories and links only",
        )
    if member.islnk():
        member_path(member.linkname, "context tar")
    try:
        safe = tarfile.data_filter(member, dest)
    except (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError):
        if not member.issym():
            raise
        safe = member  # a symlink's target is resolved inside the context later
    except tarfile.FilterError as exc:
        raise InvalidInputError(
            f"context tar member {member.name!r}: {exc}",
            hint="the archive is malformed or hostile",
        ) from None
    mode = member.mode & 0o7777
    return safe.replace(name=name or ".", mode=mode, uid=0, gid=0, uname="", gname="",
                        deep=False)


def extract_tar(stream: BinaryIO, dest: Path) -> None:
    """Extract a (possibly compressed) tar stream into the existing directory ``dest``.

    Raises:
        ContextError: the stream is not a tar, is truncated, or is hostile.
    """
    try:
        with _open_tar(stream) as archive:
            archive.extractall(dest, filter=_filter)
    except InvalidInputError as exc:
        message = exc.message if "context tar" in exc.message else f"context tar: {exc.message}"
        raise ContextError(message, exc.hint) from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ContextError(f"cannot read the context tar: {exc}") from None


class TarballContext(DirContext):
    """A context extracted from a tar stream into a temporary directory."""

    @classmethod
    def from_stream(
        cls, stream: BinaryIO, tmp_parent: Path, dockerfile_path: str | None = None
    ) -> TarballContext:
        """Extract ``stream`` under ``tmp_parent`` and read its Dockerfile.

        Raises:
            ContextError: the tar is malformed or hostile, or has no Dockerfile;
                nothing is left under ``tmp_parent`` then.
        """
        tmp = Path(tempfile.mkdtemp(prefix="context-", dir=tmp_parent))
        try:
            extract_tar(stream, tmp)
            return cls(tmp, dockerfile_path, owned=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _looks_like_tar(head: bytes) -> bool:
    if head.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd", _BZIP2, _XZ)):
        return True
    if len(head) < tarfile.BLOCKSIZE:
        return False
    try:
        tarfile.TarInfo.frombuf(head[: tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def open_stdin(stream: BinaryIO, tmp_parent: Path) -> DirContext:
    """``pybuild build -``: a tar context, or a Dockerfile with an empty context.

    Raises:
        ContextError: a tar that is malformed or hostile.
    """
    head, chained = _peek(stream, _HEAD)
    if _looks_like_tar(head):
        return TarballContext.from_stream(chained, tmp_parent)
    text = chained.read()
    tmp = Path(tempfile.mkdtemp(prefix="context-", dir=tmp_parent))
    return DirContext(tmp, dockerfile=text, owned=True)
