"""Chroot-like path resolution: symlinks are followed but never out of a root.

May import: stdlib, builder.worker.errors.

``resolve_in_root(root, "/a/b")`` walks ``a`` then ``b`` below ``root``; a symlink
met on the way is read and its target resolved *inside* ``root`` (an absolute
target restarts at ``root``, ``..`` stops at ``root``), as containerd's
``fs.RootPath`` does. A link to ``/etc/passwd`` thus means ``root/etc/passwd``.
"""

from __future__ import annotations

import os
from pathlib import Path

from builder.worker.errors import FileOpError

__all__ = ["resolve_in_root", "split_path"]

_MAX_LINKS = 255


def split_path(path: str) -> list[str]:
    """The components of ``path``, ``.`` and empty ones dropped (``..`` kept)."""
    return [p for p in path.split("/") if p not in ("", ".")]


def resolve_in_root(root: Path, path: str, follow_last: bool = True) -> Path:
    """The host path of ``path`` inside ``root``, with every symlink confined to it.

    Args:
        root: the directory playing ``/``.
        path: absolute or relative to ``root``.
        follow_last: also follow a symlink in the final component.

    Raises:
        FileOpError: too many levels of symbolic links.
    """
    pending = split_path(path)
    pending.reverse()
    done: list[str] = []
    links = 0
    while pending:
        part = pending.pop()
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = root.joinpath(*done, part)
        if (pending or follow_last) and candidate.is_symlink():
            links += 1
            if links > _MAX_LINKS:
                raise FileOpError(f"{path}: too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                done = []
            pending.extend(reversed(split_path(target)))
            continue
        done.append(part)
    return root.joinpath(*done)
