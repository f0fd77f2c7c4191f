"""Change sources: what a layer holds, from a directory, an overlay upperdir or two trees.

May import: stdlib, builder.errors, builder.layers.fsmeta.

Each source is a generator of ``Change`` values in tar order: depth first, names in
byte order, a directory before its contents. Nothing is read into memory beyond the
current directory listing, so a million-file tree streams.

    changes_from_dir(path)            every entry as ADD (a whole tree, for import)
    changes_from_upper(upperdir)      overlay upperdir: char dev 0:0 → DELETE,
                                      opaque xattr → OPAQUE, anything else → ADD
    changes_from_diff(lower, upper)   compare two plain trees: ADD, MODIFY, DELETE;
                                      the parents of a change are emitted (MODIFY) before it
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from builder.errors import InvalidInputError
from builder.layers.fsmeta import is_overlay_opaque, is_overlay_whiteout, read_xattrs, sorted_names

__all__ = ["Change", "ChangeKind", "changes_from_diff", "changes_from_dir", "changes_from_upper"]

_CHUNK = 1 << 16


class ChangeKind(enum.Enum):
    """What a change does to the layers below it."""

    ADD = "add"
    MODIFY = "modify"
    DELETE = "delete"  # becomes a ``.wh.NAME`` whiteout
    OPAQUE = "opaque"  # a directory whose lower contents are hidden (``.wh..wh..opq``)


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a layer.

    Attributes:
        path: relative POSIX path inside the layer, no leading ``./`` or ``/``.
        kind: what the entry does.
        source: the file on disk holding the new content (None for DELETE).
        stat: the source's ``lstat`` when the change source already has it.
    """

    path: str
    kind: ChangeKind
    source: str | None
    stat: os.stat_result | None = field(default=None, compare=False, repr=False)


def _root(path: str | Path) -> str:
    root = os.fspath(path)
    if not os.path.isdir(root) or os.path.islink(root):
        raise InvalidInputError(f"{root}: not a directory")
    return root


def changes_from_dir(path: str | Path) -> Iterator[Change]:
    """Every entry below ``path`` as ADD (the directory itself is not an entry).

    Raises:
        InvalidInputError: ``path`` is not a directory.
    """
    return _walk_all(_root(path), "", ChangeKind.ADD)


def _walk_all(root: str, rel: str, kind: ChangeKind) -> Iterator[Change]:
    # ``directory + name`` is ``os.path.join(root, rel + name)``, without the call
    directory = os.path.join(root, rel)
    lstat, is_dir = os.lstat, stat.S_ISDIR
    for name in sorted_names(directory):
        child = rel + name
        source = directory + name
        st = lstat(source)
        yield Change(child, kind, source, st)
        if is_dir(st.st_mode):
            yield from _walk_all(root, child + "/", kind)


def changes_from_upper(upperdir: str | Path) -> Iterator[Change]:
    """The changes an overlayfs upperdir records over its lower layers.

    Raises:
        InvalidInputError: ``upperdir`` is not a directory.
    """
    return _walk_upper(_root(upperdir), "")


def _walk_upper(root: str, rel: str) -> Iterator[Change]:
    directory = os.path.join(root, rel)
    for name in sorted_names(directory):
        child = rel + name
        source = directory + name
        st = os.lstat(source)
        if is_overlay_whiteout(st):
            yield Change(child, ChangeKind.DELETE, None)
        elif stat.S_ISDIR(st.st_mode):
            opaque = is_overlay_opaque(source)
            yield Change(child, ChangeKind.OPAQUE if opaque else ChangeKind.ADD, source, st)
            yield from _walk_upper(root, child + "/")
        else:
            yield Change(child, ChangeKind.ADD, source, st)


def changes_from_diff(lower: str | Path, upper: str | Path) -> Iterator[Change]:
    """What turns tree ``lower`` into tree ``upper``.

    Entries are compared by type, permission bits, owner, xattrs, symlink target,
    device number, and for files size and mtime; when both mtimes are whole seconds
    (a truncating copy or filesystem) the contents are compared too.

    Raises:
        InvalidInputError: ``lower`` or ``upper`` is not a directory.
    """
    return _diff_dir(_root(lower), _root(upper), "", [])


def _diff_dir(lower: str, upper: str, rel: str, pending: list[Change]) -> Iterator[Change]:
    lnames = set(os.listdir(os.path.join(lower, rel)))
    unames = set(os.listdir(os.path.join(upper, rel)))
    for name in sorted(lnames | unames, key=os.fsencode):
        child = rel + name
        if name not in unames:
            yield from _flush(pending)
            yield Change(child, ChangeKind.DELETE, None)
            continue
        source = os.path.join(upper, child)
        ust = os.lstat(source)
        if name not in lnames:
            yield from _flush(pending)
            yield Change(child, ChangeKind.ADD, source, ust)
            if stat.S_ISDIR(ust.st_mode):
                yield from _walk_all(upper, child + "/", ChangeKind.ADD)
            continue
        lpath = os.path.join(lower, child)
        lst = os.lstat(lpath)
        same = _same(lpath, lst, source, ust)
        if stat.S_ISDIR(ust.st_mode) and stat.S_ISDIR(lst.st_mode):
            entry = Change(child, ChangeKind.MODIFY, source, ust)
            if not same:
                yield from _flush(pending)
                yield entry
            else:
                pending.append(entry)
            yield from _diff_dir(lower, upper, child + "/", pending)
            if pending and pending[-1] is entry:
                pending.pop()
        elif not same:
            yield from _flush(pending)
            yield Change(child, ChangeKind.MODIFY, source, ust)
            if stat.S_ISDIR(ust.st_mode):
                yield from _walk_all(upper, child + "/", ChangeKind.ADD)


def _flush(pending: list[Change]) -> Iterator[Change]:
    yield from pending
    pending.clear()


def _same(lpath: str, lst: os.stat_result, upath: str, ust: os.stat_result) -> bool:
    if (lst.st_mode, lst.st_uid, lst.st_gid) != (ust.st_mode, ust.st_uid, ust.st_gid):
        return False
    if lst.st_mtime_ns != ust.st_mtime_ns:
        return False
    if stat.S_ISCHR(ust.st_mode) or stat.S_ISBLK(ust.st_mode):
        if lst.st_rdev != ust.st_rdev:
            return False
    if read_xattrs(lpath) != read_xattrs(upath):
        return False
    if stat.S_ISLNK(ust.st_mode):
        return os.readlink(lpath) == os.readlink(upath)
    if stat.S_ISREG(ust.st_mode):
        if lst.st_size != ust.st_size:
            return False
        if ust.st_mtime_ns % 1_000_000_000 == 0:
            return _same_content(lpath, upath)
    return True


def _same_content(a: str, b: str) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ca, cb = fa.read(_CHUNK), fb.read(_CHUNK)
            if ca != cb:
                return False
            if not ca:
                return True
