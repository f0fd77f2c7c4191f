"""File metadata the layer code shares: xattrs, overlay markers, sorted directory listings.

May import: stdlib only.

Overlay's own bookkeeping xattrs (``trusted.overlay.*``, ``user.overlay.*``) are never
part of a layer; every other xattr, ``security.capability`` included, is.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
import sys
from pathlib import Path

__all__ = [
    "OPAQUE_MARKER",
    "OVERLAY_OPAQUE_XATTRS",
    "WHITEOUT_PREFIX",
    "is_overlay_opaque",
    "is_overlay_whiteout",
    "read_xattrs",
    "sort_names",
    "sorted_names",
]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")
_OVERLAY_PREFIXES = ("trusted.overlay.", "user.overlay.")
_FS_UTF8 = codecs.lookup(sys.getfilesystemencoding()).name == "utf-8"
_NO_XATTRS = (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.ENODATA, errno.ENOENT)


def read_xattrs(path: str | Path | int) -> dict[str, bytes]:
    """The xattrs of ``path`` (not following symlinks), minus overlay bookkeeping.

    ``path`` may also be an open descriptor (of a regular file or directory), which
    spares the kernel a path walk.

    Raises:
        OSError: ``path`` cannot be read for a reason other than missing xattr support.
    """
    try:
        if isinstance(path, int):
            names = os.listxattr(path)
        else:
            names = os.listxattr(path, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _NO_XATTRS:
            return {}
        raise
    if not names:
        return {}
    out: dict[str, bytes] = {}
    for name in sorted(names):
        if name.startswith(_OVERLAY_PREFIXES):
            continue
        try:
            if isinstance(path, int):
                out[name] = os.getxattr(path, name)
            else:
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
    return sort_names(os.listdir(path))


def sort_names(names: list[str]) -> list[str]:
    """``names`` sorted in the byte order of their file-system encoding, in place.

    UTF-8 keeps code point order, so a plain ``str`` sort is already byte order
    unless a name holds surrogate escapes (undecodable bytes); only then are the
    names encoded for the comparison.
    """
    joined = "".join(names)
    if joined.isascii() or (_FS_UTF8 and not _has_surrogates(joined)):
        names.sort()
    else:
        names.sort(key=os.fsencode)
    return names


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
