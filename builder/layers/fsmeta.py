"""File metadata the layer code shares: xattrs, overlay markers, sorted directory listings.

May import: stdlib only.

Overlay's own bookkeeping xattrs (``trusted.overlay.*``, ``user.overlay.*``) are never
part of a layer; every other xattr, ``security.capability`` included, is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = [
    "OPAQUE_MARKER",
    "OVERLAY_OPAQUE_XATTRS",
    "WHITEOUT_PREFIX",
    "is_overlay_opaque",
    "is_overlay_whiteout",
    "read_xattrs",
    "sorted_names",
]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
_OVERLAY_PREFIXES = ("trusted.overlay.", "user.overlay.")
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.ENODATA, errno.ENOENT)


def read_xattrs(path: str | Path) -> dict[str, bytes]:
    """The xattrs of ``path`` (not following symlinks), minus overlay bookkeeping.

    Raises:
        OSError: ``path`` cannot be read for a reason other than missing xattr support.
    """
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _NO_XATTRS:
            return {}
        raise
    out: dict[str, bytes] = {}
    for name in sorted(names):
        if name.startswith(_OVERLAY_PREFIXES):
            continue
        try:
            out[name] = os.getxattr(path, name, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in _NO_XATTRS:
                raise
    return out


def is_overlay_whiteout(st: os.stat_result) -> bool:
    """Whether ``st`` is an overlayfs whiteout: a character device 0:0."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_overlay_opaque(path: str | Path) -> bool:
    """Whether directory ``path`` carries overlayfs's opaque xattr (trusted. or user.)."""
    for name in OVERLAY_OPAQUE_XATTRS:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError as exc:
            if exc.errno not in _NO_XATTRS:
                raise
    return False


def sorted_names(path: str | Path) -> list[str]:
    """The entries of directory ``path`` in byte order (the order tar entries use)."""
    return sorted(os.listdir(path), key=os.fsencode)
