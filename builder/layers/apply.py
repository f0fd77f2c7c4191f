"""Unpacking a layer (tar, tar+gzip or tar+zstd) into a directory, safely.

May import: stdlib, solver.digest, builder.errors,
builder.layers.{compress,fsmeta,safefs}.

Every entry is confined to the target (see ``safefs``): absolute names, ``..``,
writing through any symlink and hard links to anything outside are refused with
``InvalidInputError`` naming the entry. Whiteouts either delete what they name
(``WhiteoutMode.APPLY``, for a full rootfs) or are kept as overlayfs whiteouts, a
char device 0:0 and ``trusted.overlay.opaque=y`` (``WhiteoutMode.OVERLAY``, for a
snapshot that overlayfs will stack). Owners are set (when root), then modes (so
setuid/setgid survive chown), xattrs and mtimes; directory mtimes are set last,
deepest first, after their contents. ``apply_layer`` unpacks into a fresh sibling
directory and renames it into place, so a failure leaves nothing behind.
"""

from __future__ import annotations

import enum
import errno
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from builder.errors import InvalidInputError, StoreError
from builder.layers.compress import open_decompressed
from builder.layers.fsmeta import OPAQUE_MARKER, OVERLAY_OPAQUE_XATTRS, WHITEOUT_PREFIX
from builder.layers.safefs import open_dir_fd, open_parent, remove_entry, split_entry
from solver.digest import Digest

__all__ = ["ApplyOptions", "WhiteoutMode", "apply_layer", "unpack_layer"]

_READ = 1 << 20
_XATTR_KEY = "SCHILY.xattr."
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.GNUTYPE_SPARSE)


class WhiteoutMode(enum.Enum):
    """What a whiteout entry becomes."""

    APPLY = "apply"  # delete what it names: the result is a plain rootfs
    OVERLAY = "overlay"  # keep as overlayfs whiteouts: a snapshot to stack


def _is_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """How to unpack a layer.

    Attributes:
        whiteouts: delete (APPLY) or keep as overlay whiteouts (OVERLAY).
        allow_devices: create device nodes; when unset they are skipped (rootless).
        same_owner: chown entries to the archive's uid/gid (default: when root).
    """

    whiteouts: WhiteoutMode = WhiteoutMode.APPLY
    allow_devices: bool = True
    same_owner: bool = field(default_factory=_is_root)


class _HashingReader(io.RawIOBase):
    """Passes bytes through, hashing them: the diff_id of the tar read."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.hash = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.hash.update(data)
        self.count += n
        return n

    def read_rest(self) -> None:
        while data := self._source.read(_READ):
            self.hash.update(data)
            self.count += len(data)


def apply_layer(stream: BinaryIO, target: str | Path, opts: ApplyOptions | None = None) -> Digest:
    """Unpack the layer ``stream`` into the new directory ``target``.

    ``target`` must not exist, or be an empty directory. The layer is unpacked into a
    fresh sibling directory that is renamed to ``target`` when complete.

    Returns:
        The diff_id: the sha256 of the uncompressed tar stream.

    Raises:
        InvalidInputError: the layer is hostile, malformed, truncated or corrupt.
        StoreError: ``target`` exists and is not an empty directory, its parent is
            missing, or the filesystem refused an entry (e.g. mknod without privilege).
    """
    dest = Path(target)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise StoreError(f"{dest}: exists and is not an empty directory")
    if not dest.parent.is_dir():
        raise StoreError(f"{dest.parent}: no such directory")
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        diff_id = unpack_layer(stream, stage, opts)
        os.chmod(stage, 0o755)
        os.rename(stage, dest)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return diff_id


def unpack_layer(stream: BinaryIO, target: str | Path, opts: ApplyOptions | None = None) -> Digest:
    """Unpack the layer ``stream`` onto the existing tree ``target``, in place.

    Not atomic: callers stage ``target`` in a temporary directory themselves.

    Returns:
        The diff_id: the sha256 of the uncompressed tar stream.

    Raises:
        InvalidInputError: the layer is hostile, malformed, truncated or corrupt.
        StoreError: the filesystem refused an entry (e.g. mknod without privilege).
    """
    reader = _HashingReader(open_decompressed(stream))
    root_fd = open_dir_fd(target)
    try:
        _Unpacker(root_fd, opts or ApplyOptions()).run(reader)
    finally:
        os.close(root_fd)
    return Digest.from_hex(reader.hash.hexdigest())


class _Unpacker:
    def __init__(self, root_fd: int, opts: ApplyOptions) -> None:
        self._root = root_fd
        self._opts = opts
        self._seen: set[str] = set()
        self._dir_times: list[tuple[list[str], int]] = []

    def run(self, reader: _HashingReader) -> None:
        try:
            archive = tarfile.open(fileobj=reader, mode="r|", errors="surrogateescape")
            for member in archive:
                self._extract(archive, member)
            reader.read_rest()
        except tarfile.ReadError as exc:
            if reader.count == 0:
                return  # an empty blob is an empty layer, as Go's tar reader sees it
            raise InvalidInputError(f"malformed layer tar: {exc}") from None
        except tarfile.TarError as exc:
            raise InvalidInputError(f"malformed layer tar: {exc}") from None
        except EOFError as exc:
            raise InvalidInputError(f"truncated layer: {exc}") from None
        for parts, mtime_ns in reversed(self._dir_times):
            self._set_time(parts, mtime_ns)

    def _extract(self, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = split_entry(member.name)
        if not parts:
            return  # the root itself ("./"): its metadata belongs to the parent layer
        try:
            self._extract_at(archive, member, parts)
        except OSError as exc:
            raise StoreError(
                f"cannot unpack layer entry {member.name!r}: {exc.strerror or exc}"
            ) from None

    def _extract_at(
        self, archive: tarfile.TarFile, member: tarfile.TarInfo, parts: list[str]
    ) -> None:
        base, rel = parts[-1], "/".join(parts)
        pfd = open_parent(self._root, parts, member.name, create=True)
        try:
            if base == OPAQUE_MARKER:
                self._opaque(pfd, parts[:-1])
            elif base.startswith(WHITEOUT_PREFIX):
                self._whiteout(pfd, base[len(WHITEOUT_PREFIX) :], member.name)
            elif self._create(archive, member, pfd, base):
                self._seen.add(rel)
                if member.isdir():
                    self._dir_times.append((parts, _mtime_ns(member)))
        finally:
            os.close(pfd)

    def _whiteout(self, pfd: int, name: str, entry: str) -> None:
        if name in ("", ".", "..") or "/" in name:
            raise InvalidInputError(f"layer entry {entry!r} is a whiteout of nothing")
        remove_entry(pfd, name)
        if self._opts.whiteouts is WhiteoutMode.OVERLAY:
            os.mknod(name, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=pfd)

    def _opaque(self, pfd: int, dir_parts: list[str]) -> None:
        if self._opts.whiteouts is WhiteoutMode.OVERLAY:
            os.setxattr(pfd, OVERLAY_OPAQUE_XATTRS[0], b"y")
            return
        prefix = "/".join(dir_parts)
        for name in os.listdir(pfd):
            if (f"{prefix}/{name}" if prefix else name) not in self._seen:
                remove_entry(pfd, name)

    def _create(
        self, archive: tarfile.TarFile, member: tarfile.TarInfo, pfd: int, base: str
    ) -> bool:
        try:
            existing = os.stat(base, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and not (stat.S_ISDIR(existing.st_mode) and member.isdir()):
            remove_entry(pfd, base)
            existing = None
        if member.isdir():
            if existing is None:
                os.mkdir(base, 0o700, dir_fd=pfd)
        elif member.type in _REGULAR:
            self._write_file(archive, member, pfd, base)
        elif member.issym():
            os.symlink(member.linkname, base, dir_fd=pfd)
        elif member.islnk():
            self._hardlink(member, pfd, base)
            return True
        elif member.isfifo():
            os.mkfifo(base, 0o600, dir_fd=pfd)
        elif member.ischr() or member.isblk():
            if not self._opts.allow_devices:
                return False
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            os.mknod(base, kind | 0o600, os.makedev(member.devmajor, member.devminor), dir_fd=pfd)
        else:
            raise InvalidInputError(
                f"layer entry {member.name!r} has unsupported type {member.type!r}"
            )
        self._set_metadata(member, pfd, base)
        return True

    def _write_file(
        self, archive: tarfile.TarFile, member: tarfile.TarInfo, pfd: int, base: str
    ) -> None:
        source = archive.extractfile(member)
        fd = os.open(base, _FILE_FLAGS, 0o600, dir_fd=pfd)
        try:
            remaining = member.size
            while remaining and source is not None:
                data = source.read(min(_READ, remaining))
                if not data:
                    raise InvalidInputError(
                        f"layer entry {member.name!r} claims {member.size} bytes "
                        "but the archive ends early"
                    )
                os.write(fd, data)
                remaining -= len(data)
        finally:
            os.close(fd)

    def _hardlink(self, member: tarfile.TarInfo, pfd: int, base: str) -> None:
        target = split_entry(member.linkname)
        if not target:
            raise InvalidInputError(f"layer entry {member.name!r} links to the root")
        tfd = open_parent(self._root, target, member.name, create=False)
        try:
            os.link(target[-1], base, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            raise InvalidInputError(
                f"layer entry {member.name!r} links to missing {member.linkname!r}"
            ) from None
        except PermissionError:
            raise InvalidInputError(
                f"layer entry {member.name!r} cannot link to {member.linkname!r}"
            ) from None
        finally:
            os.close(tfd)

    def _set_metadata(self, member: tarfile.TarInfo, pfd: int, base: str) -> None:
        if self._opts.same_owner:
            os.chown(base, member.uid, member.gid, dir_fd=pfd, follow_symlinks=False)
        proc = f"/proc/self/fd/{pfd}/{base}"
        for key, value in member.pax_headers.items():
            if key.startswith(_XATTR_KEY):
                _set_xattr(proc, key[len(_XATTR_KEY) :], value)
        if not member.issym():
            os.chmod(base, member.mode & 0o7777, dir_fd=pfd)
        if not member.isdir():
            ns = _mtime_ns(member)
            os.utime(base, ns=(ns, ns), dir_fd=pfd, follow_symlinks=False)

    def _set_time(self, parts: list[str], mtime_ns: int) -> None:
        try:
            pfd = open_parent(self._root, parts, "/".join(parts), create=False)
        except InvalidInputError:
            return  # a later entry replaced a parent: the directory is gone
        try:
            os.utime(parts[-1], ns=(mtime_ns, mtime_ns), dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            pass  # removed by a later whiteout
        finally:
            os.close(pfd)


def _mtime_ns(member: tarfile.TarInfo) -> int:
    return round(float(member.mtime) * 1_000_000_000)


def _set_xattr(path: str, name: str, value: str) -> None:
    if name.startswith(("trusted.overlay.", "user.overlay.")):
        return  # a layer may not forge overlay bookkeeping
    try:
        os.setxattr(path, name, value.encode("utf-8", "surrogateescape"), follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EPERM):  # the filesystem or privilege lacks it
            raise
