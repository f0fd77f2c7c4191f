"""``--chown`` resolution against the destination rootfs's /etc/passwd and /etc/group.

May import: stdlib, solver.ops, builder.worker.{errors,rootpath}.

BuildKit's rules: a numeric user with no group gives gid = uid; a user name with
no group gives that user's primary gid from passwd; a group name is looked up in
group; a name with no entry fails the step (a numeric id always works).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builder.worker.errors import FileOpError
from builder.worker.rootpath import resolve_in_root
from solver.ops import ChownOpt

__all__ = ["Owner", "resolve_chown"]

_MAX_ID = 2**32 - 2


@dataclass(frozen=True, slots=True)
class Owner:
    """Numeric ownership applied to copied or created files."""

    uid: int
    gid: int


def _read_db(root: Path, path: str) -> list[list[str]]:
    try:
        text = resolve_in_root(root, path).read_text(errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        rows.append(line.split(":"))
    return rows


def _numeric(text: str, what: str) -> int | None:
    if not text.isdigit():
        return None
    value = int(text)
    if value > _MAX_ID:
        raise FileOpError(f"--chown: {what} id {text} is out of range")
    return value


def _user(root: Path, name: str) -> Owner:
    for row in _read_db(root, "/etc/passwd"):
        if len(row) >= 4 and row[0] == name:
            try:
                return Owner(int(row[2]), int(row[3]))
            except ValueError:
                break
    raise FileOpError(
        f"unable to find user {name}: no matching entries in passwd file",
        hint="create the user in an earlier step, or use a numeric --chown",
    )


def _group(root: Path, name: str) -> int:
    for row in _read_db(root, "/etc/group"):
        if len(row) >= 3 and row[0] == name:
            try:
                return int(row[2])
            except ValueError:
                break
    raise FileOpError(
        f"unable to find group {name}: no matching entries in group file",
        hint="create the group in an earlier step, or use a numeric gid",
    )


def resolve_chown(root: Path, opt: ChownOpt) -> Owner:
    """Numeric ids for ``opt``, names read from ``root``'s /etc/passwd and /etc/group.

    Raises:
        FileOpError: a name has no entry, or an id is out of range.
    """
    if not opt.user and not opt.group:
        raise FileOpError("--chown needs a user or a group")
    uid = _numeric(opt.user, "user") if opt.user else 0
    owner = Owner(uid, uid) if uid is not None else _user(root, opt.user)
    if opt.group:
        gid = _numeric(opt.group, "group")
        owner = Owner(owner.uid, gid if gid is not None else _group(root, opt.group))
    return owner
