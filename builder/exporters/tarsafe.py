"""Safe names for members of archives pybuild reads: no absolute paths, no ``..``.

May import: stdlib, builder.errors.

Every name that comes out of an untrusted tar passes through ``member_path``
before it is used for anything, and every link target through ``link_target``,
so a hostile archive is refused with one clear line instead of writing or
reading outside where it should.
"""

from __future__ import annotations

import posixpath

from builder.errors import InvalidInputError

__all__ = ["link_target", "member_path"]


def member_path(name: str, what: str = "archive") -> str:
    """The normalised relative form of a tar member name (``./a//b/`` → ``a/b``).

    Raises:
        InvalidInputError: the name is absolute, empty, holds a NUL byte, or has a
            ``..`` component (it would escape the archive's root).
    """
    if "\x00" in name:
        raise InvalidInputError(f"{what} member {name!r}: name holds a NUL byte")
    if name.startswith("/"):
        raise InvalidInputError(
            f"{what} member {name!r}: absolute paths are not allowed",
            hint="the archive is malformed or hostile; members must be relative",
        )
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInputError(
            f"{what} member {name!r}: '..' would escape the archive root",
            hint="the archive is malformed or hostile; members must stay inside it",
        )
    return "/".join(parts)


def link_target(member: str, linkname: str, what: str = "archive") -> str:
    """Where a symlink member ``member`` pointing at ``linkname`` lands, inside the archive.

    Raises:
        InvalidInputError: the target is absolute or leaves the archive root.
    """
    if linkname.startswith("/"):
        raise InvalidInputError(f"{what} member {member!r}: link to absolute path {linkname!r}")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(member), linkname))
    if joined == ".." or joined.startswith("../"):
        raise InvalidInputError(
            f"{what} member {member!r}: link {linkname!r} escapes the archive root"
        )
    return member_path(joined, what)
