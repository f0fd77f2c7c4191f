"""Confined path resolution for unpacking: every component is opened with O_NOFOLLOW.

May import: stdlib, builder.errors.

An archive entry name is split into components once (``split_entry``): absolute
names and ``..`` are refused. Its parent directory is then reached from an open
descriptor of the unpack root, one ``openat(O_DIRECTORY | O_NOFOLLOW)`` at a time
(``open_parent``), so a symlink anywhere on the way (planted by this layer, an
earlier one, or anyone) stops the walk instead of leading outside the root.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat

from builder.errors import InvalidInputError

__all__ = ["open_dir_fd", "open_parent", "remove_entry", "split_entry"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def split_entry(name: str) -> list[str]:
    """The components of archive entry ``name`` (``./`` and empty parts dropped).

    Raises:
        InvalidInputError: the name is absolute or has a ``..`` component.
    """
    if name.startswith("/"):
        raise InvalidInputError(
            f"layer entry {name!r} has an absolute path", hint="the archive is malformed or hostile"
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInputError(
            f"layer entry {name!r} points outside the target with '..'",
            hint="the archive is malformed or hostile",
        )
    return parts


def open_dir_fd(path: str | os.PathLike[str]) -> int:
    """An O_NOFOLLOW directory descriptor of ``path`` (the unpack root).

    Raises:
        OSError: ``path`` is not a directory or is a symlink.
    """
    return os.open(path, _DIR_FLAGS)


def open_parent(root_fd: int, parts: list[str], entry: str, create: bool) -> int:
    """A descriptor of the directory holding ``parts[-1]``, confined to ``root_fd``.

    Missing directories on the way are made (mode 0755) when ``create`` is set.
    The caller closes the returned descriptor.

    Raises:
        InvalidInputError: a component is a symlink, is not a directory, or is missing
            (and ``create`` is unset); ``entry`` names the archive entry in the message.
    """
    fd = os.dup(root_fd)
    try:
        for i, part in enumerate(parts[:-1]):
            nfd = _open_component(fd, part, create, entry, "/".join(parts[: i + 1]))
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_component(fd: int, part: str, create: bool, entry: str, prefix: str) -> int:
    for _ in range(2):
        try:
            return os.open(part, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise InvalidInputError(
                    f"layer entry {entry!r}: {prefix!r} does not exist"
                ) from None
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            st = os.stat(part, dir_fd=fd, follow_symlinks=False)
            what = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a directory"
            raise InvalidInputError(
                f"layer entry {entry!r} would be written through {prefix!r}, which is {what}",
                hint="the archive is malformed or hostile",
            ) from None
    raise InvalidInputError(f"layer entry {entry!r}: cannot create directory {prefix!r}")


def remove_entry(parent_fd: int, name: str) -> None:
    """Remove ``name`` (a whole tree if a directory) from ``parent_fd``, if present."""
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=parent_fd)
    else:
        os.unlink(name, dir_fd=parent_fd)
