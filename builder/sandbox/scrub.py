"""Remove the sandbox's own mount points from a step's upperdir so they never reach a layer.

May import: stdlib.

The init reports every mount point it had to create (``etc/hosts`` in an image without
one, ``proc`` in an image without /proc, …). Those entries are empty files or directories
in the upperdir; so is a directory that overlayfs copied up only because such a mount
point was created inside it (``etc`` when /etc/hosts was missing). Anything the step
itself put there makes the entry non-empty, and then it stays.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

__all__ = ["scrub_upper"]

_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")


def scrub_upper(upper: Path, created: Sequence[str], lowers: Sequence[Path]) -> None:
    """Delete the created mount points (deepest first) and the empty copied-up parents."""
    parents: set[str] = set()
    for rel in sorted(created, key=lambda p: p.count("/"), reverse=True):
        _remove_if_empty(upper / rel)
        parent = os.path.dirname(rel)
        while parent:
            parents.add(parent)
            parent = os.path.dirname(parent)
    for rel in sorted(parents, key=lambda p: p.count("/"), reverse=True):
        path = upper / rel
        if rel not in created and _only_copied_up(path, rel, lowers):
            _remove_if_empty(path)


def _remove_if_empty(path: Path) -> None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(st.st_mode):
            path.rmdir()  # fails when the step put something inside: it stays
        elif stat.S_ISREG(st.st_mode) and st.st_size == 0:
            path.unlink()


def _only_copied_up(path: Path, rel: str, lowers: Sequence[Path]) -> bool:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode) or any(_has_xattr(path, x) for x in _OPAQUE_XATTRS):
        return False
    for lower in reversed(lowers):
        try:
            low = (lower / rel).lstat()
        except OSError:
            continue
        same = (low.st_mode, low.st_uid, low.st_gid) == (st.st_mode, st.st_uid, st.st_gid)
        return stat.S_ISDIR(low.st_mode) and same
    return False


def _has_xattr(path: Path, name: str) -> bool:
    try:
        os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return False
    return True
