"""The copy engine behind a Copy action: ``cp -a`` with BuildKit's (fsutil's) rules.

May import: stdlib, builder.worker.{errors,chown,chmod,copy_paths,rootpath}.

A directory source copies its *contents*, merged entry by entry into the target;
a file replaces a non-directory target (unlinked first, so nothing is written
through a symlink) and is an error onto a directory; symlinks are copied as
symlinks; hard links among copied files are kept; modes, mtimes and xattrs are
kept; owners become ``--chown``'s, 0:0 for a root-owned source, else the source's.
Directories created to hold the destination get 0755 and ``--chown``'s owner.
A newly created top-level destination directory keeps those (0755), not the
source directory's metadata; nested directories take the source's.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from builder.worker.chmod import ModeSpec
from builder.worker.chown import Owner
from builder.worker.copy_paths import CopyFilter
from builder.worker.errors import FileOpError

__all__ = ["Copier", "CopyRules", "ensure_file_target", "mkdir_all", "write_bytes"]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 30
_OVERLAY_XATTRS = ("trusted.overlay.", "user.overlay.")


@dataclass(frozen=True, slots=True)
class CopyRules:
    """How entries are written: owner, mode override, privilege to chown/mknod."""

    owner: Owner | None = None
    root_owned: bool = False
    mode: ModeSpec | None = None
    same_owner: bool = True


def mkdir_all(root: Path, path: Path, mode: int, owner: Owner | None) -> None:
    """Create ``path`` (already resolved inside ``root``) and missing parents.

    Raises:
        FileOpError: a component exists and is not a directory.
    """
    rel = path.relative_to(root)
    here = root
    for part in rel.parts:
        here = here / part
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            os.mkdir(here, 0o700)
            os.chmod(here, mode)
            if owner is not None:
                os.lchown(here, owner.uid, owner.gid)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise FileOpError(f"/{here.relative_to(root)}: not a directory")


def ensure_file_target(target: Path, root: Path) -> None:
    """Make room for a non-directory at ``target``: unlink what is there.

    Raises:
        FileOpError: ``target`` is a directory.
    """
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise FileOpError(f"cannot replace directory /{target.relative_to(root)} with a file")
    os.unlink(target)


def write_bytes(target: Path, data: bytes, mode: int) -> None:
    """Create ``target`` (which must not exist) with ``data``, never following a symlink."""
    fd = os.open(target, _CREATE, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _copy_xattrs(src: Path, target: Path) -> None:
    """Copy extended attributes, best effort (as BuildKit's xattr error handler),
    never overlayfs's own bookkeeping."""
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        return
    for name in names:
        if name.startswith(_OVERLAY_XATTRS):
            continue
        try:
            value = os.getxattr(src, name, follow_symlinks=False)
            os.setxattr(target, name, value, follow_symlinks=False)
        except OSError:
            pass


def _copy_content(src: Path, target: Path) -> None:
    with open(src, "rb") as fin:
        fd = os.open(target, _CREATE, 0o600)
        try:
            try:
                while os.copy_file_range(fin.fileno(), fd, _CHUNK):
                    pass
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                fin.seek(0)
                while data := fin.read(1 << 20):
                    os.write(fd, data)
        finally:
            os.close(fd)


@dataclass
class Copier:
    """Copies entries of one source into a destination tree (one per Copy action)."""

    dest_root: Path
    rules: CopyRules
    filters: CopyFilter
    inodes: dict[tuple[int, int], Path] = field(default_factory=dict)

    def copy(self, src: Path, rel: str, comp: str, target: Path, overwrite: bool) -> None:
        """Copy ``src`` (source-root path ``rel``, ``comp`` below the copied source)
        to ``target``; ``overwrite`` sets an existing directory's metadata."""
        st = os.lstat(src)
        is_dir = stat.S_ISDIR(st.st_mode)
        if comp and self.filters.skips(comp, rel, is_dir):
            return
        info = True
        if is_dir:
            hidden = bool(comp) and self.filters.hides(comp, rel)
            info = self._directory(src, rel, comp, target, (st, overwrite, hidden))
        elif stat.S_ISREG(st.st_mode):
            ensure_file_target(target, self.dest_root)
            self._file(src, st, target)
        elif stat.S_ISLNK(st.st_mode):
            ensure_file_target(target, self.dest_root)
            os.symlink(os.readlink(src), target)
        elif stat.S_ISFIFO(st.st_mode):
            ensure_file_target(target, self.dest_root)
            os.mkfifo(target, 0o600)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            if not self.rules.same_owner:
                return
            ensure_file_target(target, self.dest_root)
            os.mknod(target, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev)
        else:
            return  # sockets are never copied
        if info:
            self.copy_metadata(src, st, target)

    def _file(self, src: Path, st: os.stat_result, target: Path) -> None:
        key = (st.st_dev, st.st_ino)
        first = self.inodes.get(key) if st.st_nlink > 1 else None
        if first is not None and os.path.lexists(first):
            os.link(first, target, follow_symlinks=False)
            return
        _copy_content(src, target)
        if st.st_nlink > 1:
            self.inodes[key] = target

    def _directory(
        self, src: Path, rel: str, comp: str, target: Path,
        state: tuple[os.stat_result, bool, bool],
    ) -> bool:
        st, overwrite, hidden = state
        created = False
        if not hidden:
            created = self._dir_only(st, target, overwrite)
        for name in sorted(os.listdir(src)):
            child_rel = f"{rel}/{name}" if rel else name
            child_comp = f"{comp}/{name}" if comp else name
            if hidden and not os.path.lexists(target):
                child_dir = stat.S_ISDIR(os.lstat(src / name).st_mode)
                if self.filters.skips(child_comp, child_rel, child_dir):
                    continue
                created = self._dir_only(st, target, False)
            self.copy(src / name, child_rel, child_comp, target / name, True)
        return created or (overwrite and not hidden)

    def _dir_only(self, st: os.stat_result, target: Path, overwrite: bool) -> bool:
        try:
            existing = os.lstat(target)
        except FileNotFoundError:
            os.mkdir(target, 0o700)
            return True
        if not stat.S_ISDIR(existing.st_mode):
            raise FileOpError(
                f"cannot copy a directory onto non-directory /{target.relative_to(self.dest_root)}"
            )
        if overwrite:
            os.chmod(target, self._mode(st))
        return False

    def _mode(self, st: os.stat_result) -> int:
        if self.rules.mode is not None:
            return self.rules.mode.apply(st.st_mode, stat.S_ISDIR(st.st_mode))
        return stat.S_IMODE(st.st_mode)

    def copy_metadata(self, src: Path, st: os.stat_result, target: Path) -> None:
        if self.rules.same_owner:
            owner = self.rules.owner
            if owner is None:
                owner = Owner(0, 0) if self.rules.root_owned else Owner(st.st_uid, st.st_gid)
            os.lchown(target, owner.uid, owner.gid)
        link = stat.S_ISLNK(st.st_mode)
        if not link:
            os.chmod(target, self._mode(st))
        _copy_xattrs(src, target)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
