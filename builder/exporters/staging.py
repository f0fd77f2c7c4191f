"""Stage the members of an untrusted archive as uncommitted content-store blobs.

May import: stdlib, builder.errors, builder.content, builder.layers, solver.digest,
builder.exporters.tarsafe.

Each large regular member is streamed into its own open ``ContentStore.writer()``
(data lands in the root's tmp/ only) while its sha256 and size are computed;
small members (≤ 4 MiB: manifests, configs, legacy ``json``/``VERSION`` files) are
kept in memory only, so they can be parsed without reading them back and hold
no file descriptor. Nothing reaches ``blobs/`` until the loader has
checked every digest and calls ``Stage.commit``; leaving the ``with`` block
abandons every uncommitted writer, so a hostile or broken archive leaves the
store as it was. Layers are never held in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from builder.content.store import ContentStore
from builder.errors import InvalidInputError
from builder.exporters.tarsafe import link_target, member_path
from solver.digest import Digest, sha256_bytes

__all__ = ["Stage", "StagedBlob"]

CHUNK = 1 << 20
SMALL = 4 << 20  # members up to this size are also kept in memory (manifests, configs)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class StagedBlob:
    """A staged member: its digest and size, its uncompressed digest when known
    (``diff_id``: equal to ``digest`` for plain data, computed for gzip), and its
    bytes when it is small."""

    path: str
    digest: Digest
    size: int
    diff_id: Digest | None
    data: bytes | None


class Stage:
    """Archive members staged in open content writers; use as a context manager."""

    def __init__(self, content: ContentStore) -> None:
        self._content = content
        self._stack = contextlib.ExitStack()
        self._writers: dict[str, Any] = {}
        self._committed: set[Digest] = set()
        self.blobs: dict[str, StagedBlob] = {}
        self._links: dict[str, str] = {}

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def get(self, path: str) -> StagedBlob | None:
        """The staged member at archive path ``path``, following links inside the archive."""
        path = member_path(path)
        for _ in range(32):
            if path in self.blobs:
                return self.blobs[path]
            if path not in self._links:
                return None
            path = self._links[path]
        raise InvalidInputError(f"archive member {path!r}: too many levels of links")

    def commit(self, blob: StagedBlob) -> None:
        """Move ``blob`` into the content store, verified against its digest and size.

        Raises:
            InvalidInputError: the data does not match (the content store refuses it).
        """
        if blob.digest in self._committed or self._content.has(blob.digest):
            self._committed.add(blob.digest)
            return
        if blob.data is not None:
            self._content.put_bytes(blob.data, expected=blob.digest)
        else:
            writer = self._writers.pop(blob.path)
            writer.commit(expected=blob.digest, expected_size=blob.size)
        self._committed.add(blob.digest)

    # reading ----------------------------------------------------------------

    def read_tar(self, stream: IO[bytes]) -> None:
        """Stage every member of the tar ``stream`` (read once, front to back).

        Raises:
            InvalidInputError: the tar is truncated or corrupt, or a member name,
                link or type is not allowed.
        """
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for info in tar:
                    self._member(tar, info)
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise InvalidInputError(f"cannot read archive: {exc}",
                                    hint="the archive is truncated or corrupt") from None

    def _member(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        name = member_path(info.name)
        if info.isdir() or not name:
            return
        if info.issym():
            self._links[name] = link_target(name, info.linkname)
        elif info.islnk():
            self._links[name] = member_path(info.linkname)
        elif info.isreg():
            fileobj = tar.extractfile(info)
            assert fileobj is not None
            self._add(name, fileobj, info.size)
        elif info.type in (tarfile.XHDTYPE, tarfile.XGLTYPE):
            return
        else:
            raise InvalidInputError(
                f"archive member {info.name!r}: unsupported type {info.type!r} "
                "(only files, directories and links)"
            )

    def read_dir(self, root: Path) -> None:
        """Stage the files of an OCI layout directory ``root`` (symlinks are refused).

        Raises:
            InvalidInputError: the directory holds a symlink or special file.
            OSError: a file cannot be read.
        """
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fname in sorted(filenames) + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
                path = Path(dirpath, fname)
                rel = path.relative_to(root).as_posix()
                if path.is_symlink() or not path.is_file():
                    raise InvalidInputError(f"{rel}: only regular files are allowed in a layout")
                with open(path, "rb") as fh:
                    self._add(rel, fh, os.fstat(fh.fileno()).st_size)

    def _add(self, name: str, fileobj: IO[bytes], size: int) -> None:
        if size <= SMALL:  # manifests, configs, small files: memory only, no open writer
            data = fileobj.read(size + 1)
            if len(data) != size:
                raise InvalidInputError(f"archive member {name!r} is truncated")
            digest = sha256_bytes(data)
            diff_id: Digest | None = digest
            if data[:2] == _GZIP_MAGIC and not name.startswith("blobs/"):
                diff_id = _gunzip_digest(data, name)
            self.blobs[name] = StagedBlob(name, digest, size, diff_id, data)
            return
        writer = self._stack.enter_context(self._content.writer())
        sha = hashlib.sha256()
        inflate: Any = None
        plain = None
        seen = 0
        for chunk in _chunks(fileobj):
            if seen == 0 and not name.startswith("blobs/") and chunk[:2] == _GZIP_MAGIC:
                inflate, plain = zlib.decompressobj(wbits=31), hashlib.sha256()
            sha.update(chunk)
            writer.write(chunk)
            if inflate is not None and plain is not None:
                _feed(inflate, plain, chunk, name)
            seen += len(chunk)
        if seen != size:
            raise InvalidInputError(f"archive member {name!r} is truncated")
        digest = Digest.from_hex(sha.hexdigest())
        diff_id = digest
        if inflate is not None and plain is not None:
            diff_id = Digest.from_hex(plain.hexdigest()) if inflate.eof else None
        self._writers[name] = writer
        self.blobs[name] = StagedBlob(name, digest, size, diff_id, None)


def _gunzip_digest(data: bytes, name: str) -> Digest | None:
    inflate, plain = zlib.decompressobj(wbits=31), hashlib.sha256()
    _feed(inflate, plain, data, name)
    return Digest.from_hex(plain.hexdigest()) if inflate.eof else None


def _feed(inflate: Any, plain: Any, chunk: bytes, name: str) -> None:
    try:
        while chunk and not inflate.eof:
            plain.update(inflate.decompress(chunk, CHUNK))
            chunk = inflate.unconsumed_tail
    except zlib.error as exc:
        raise InvalidInputError(f"archive member {name!r}: corrupt gzip data: {exc}") from None


def _chunks(fileobj: IO[bytes]) -> Iterator[bytes]:
    while chunk := fileobj.read(CHUNK):
        yield chunk
