"""Resolve Docker's ``USER`` syntax against an image's /etc/passwd and /etc/group.

May import: stdlib, builder.sandbox.errors.

Follows runc's ``GetExecUser``: ``name``/``uid`` with an optional ``:group``/``:gid``;
a numeric uid missing from passwd is allowed (gid 0, home /); a name is not.
Supplementary groups are the groups listing the user as a member, unless a group was
given explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.sandbox.errors import SandboxError

__all__ = ["ExecUser", "resolve_user"]


@dataclass(frozen=True, slots=True)
class ExecUser:
    """The ids a step runs as, plus the home directory for ``HOME``."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


@dataclass(frozen=True, slots=True)
class _Passwd:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    gid: int
    members: tuple[str, ...]


def _parse_passwd(text: str) -> list[_Passwd]:
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 7 or line.startswith("#"):
            continue
        try:
            out.append(_Passwd(parts[0], int(parts[2]), int(parts[3]), parts[5] or "/"))
        except ValueError:
            continue
    return out


def _parse_group(text: str) -> list[_Group]:
    out = []
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) < 4 or line.startswith("#"):
            continue
        try:
            members = tuple(m for m in parts[3].split(",") if m)
            out.append(_Group(parts[0], int(parts[2]), members))
        except ValueError:
            continue
    return out


def resolve_user(spec: str, passwd: str, group: str, extra: tuple[str, ...] = ()) -> ExecUser:
    """Turn ``user[:group]`` into ids using the image's passwd and group file contents.

    Raises:
        SandboxError: a name has no entry, or an id is out of range.
    """
    user_part, _, group_part = spec.partition(":")
    users, groups = _parse_passwd(passwd), _parse_group(group)
    entry = _find_user(user_part or "0", users)
    name = entry.name if entry else ""
    uid = entry.uid if entry else _numeric(user_part or "0", "user")
    gid = entry.gid if entry else 0
    home = entry.home if entry else "/"
    if group_part:
        gid = _find_group(group_part, groups)
        sgids = [gid]
    else:
        sgids = [gid] + [g.gid for g in groups if name and name in g.members]
    sgids += [_find_group(g, groups) for g in extra]
    return ExecUser(uid=uid, gid=gid, groups=tuple(dict.fromkeys(sgids)), home=home)


def _find_user(text: str, users: list[_Passwd]) -> _Passwd | None:
    for u in users:
        if u.name == text or (text.isdigit() and u.uid == int(text)):
            return u
    if not text.isdigit():
        raise SandboxError(
            f"unable to find user {text}: no matching entries in passwd file",
            hint="create the user in an earlier step, or give a numeric uid",
        )
    return None


def _find_group(text: str, groups: list[_Group]) -> int:
    for g in groups:
        if g.name == text:
            return g.gid
    if text.isdigit():
        return _numeric(text, "group")
    raise SandboxError(
        f"unable to find group {text}: no matching entries in group file",
        hint="create the group in an earlier step, or give a numeric gid",
    )


def _numeric(text: str, what: str) -> int:
    value = int(text)
    if value >= 2**32 - 1:
        raise SandboxError(f"{what} id {text} is out of range")
    return value
