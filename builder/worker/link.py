"""``COPY --link``: merge a scratch tree onto a root as a layer would be applied.

May import: stdlib, builder.worker.errors.

Each scratch entry replaces what ``root`` has at the same path, except that a
directory onto a directory merges (and the existing directory takes the scratch
one's mode, owner and mtime). Nothing in ``root`` is followed: a symlink where the
scratch tree has a directory is replaced by that directory. Entries are moved
(renamed), so hard links made inside the scratch tree stay hard links.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

__all__ = ["merge_tree"]


def merge_tree(scratch: Path, root: Path) -> None:
    """Move every entry of ``scratch`` onto ``root`` (same filesystem).

    Raises:
        OSError: the filesystem refused a change.
    """
    for name in sorted(os.listdir(scratch)):
        _merge(scratch / name, root / name)


def _merge(src: Path, dst: Path) -> None:
    st = os.lstat(src)
    try:
        existing: os.stat_result | None = os.lstat(dst)
    except FileNotFoundError:
        existing = None
    if stat.S_ISDIR(st.st_mode) and existing is not None and stat.S_ISDIR(existing.st_mode):
        for name in sorted(os.listdir(src)):
            _merge(src / name, dst / name)
        if os.geteuid() == 0:
            os.lchown(dst, st.st_uid, st.st_gid)
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        return
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            shutil.rmtree(dst)
        else:
            os.unlink(dst)
    os.rename(src, dst)
