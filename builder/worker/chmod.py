"""``--chmod`` values: octal (``0755``) or symbolic (``u=rwX,go=rX``), parsed once.

May import: stdlib, builder.worker.errors.

``X`` sets execute only for directories and for files already executable by
someone (chmod(1)); ``u``/``g``/``o``/``a`` with ``=``, ``+``, ``-`` and permissions
from ``rwxXst``; copying another class (``g=u``) is supported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from builder.worker.errors import FileOpError

__all__ = ["ModeSpec", "parse_chmod"]

_CLAUSE = re.compile(r"([ugoa]*)([-+=])([rwxXst]*|[ugo])")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
_BITS = {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000}


@dataclass(frozen=True, slots=True)
class _Clause:
    who: str
    op: str
    perms: str


@dataclass(frozen=True, slots=True)
class ModeSpec:
    """A parsed ``--chmod``: ``octal`` when numeric, else symbolic ``clauses``."""

    octal: int | None
    clauses: tuple[_Clause, ...] = ()

    def apply(self, mode: int, is_dir: bool) -> int:
        """The permission bits (``& 0o7777``) for an entry whose mode is ``mode``."""
        if self.octal is not None:
            return self.octal
        perm = mode & 0o7777
        for clause in self.clauses:
            perm = _apply_clause(clause, perm, is_dir)
        return perm


def _mask(who: str) -> int:
    mask = 0
    for w in who or "ugo":
        mask |= 0o7777 if w == "a" else _WHO[w]
    return mask


def _apply_clause(clause: _Clause, perm: int, is_dir: bool) -> int:
    mask = _mask(clause.who)
    if clause.perms in ("u", "g", "o"):
        shift = {"u": 6, "g": 3, "o": 0}[clause.perms]
        rwx = (perm >> shift) & 0o7
        bits = rwx << 6 | rwx << 3 | rwx
    else:
        bits = 0
        for p in clause.perms:
            if p == "X":
                if is_dir or perm & 0o111:
                    bits |= 0o111
            else:
                bits |= _BITS[p]
    bits &= mask
    if clause.op == "+":
        return perm | bits
    if clause.op == "-":
        return perm & ~bits
    keep = 0o6000 if is_dir else 0  # chmod(1): '=' keeps a directory's setuid/setgid
    return (perm & ~(mask & ~keep)) | bits


def parse_chmod(text: str) -> ModeSpec:
    """Parse a ``--chmod`` value.

    Raises:
        FileOpError: neither an octal number up to 7777 nor symbolic clauses.
    """
    if text and all(c in "01234567" for c in text):
        value = int(text, 8)
        if value > 0o7777:
            raise FileOpError(f"invalid --chmod={text}: more than 4 octal digits")
        return ModeSpec(value)
    clauses = []
    for part in text.split(","):
        found = _CLAUSE.fullmatch(part)
        if not found:
            raise FileOpError(f"invalid --chmod={text}", hint="use octal or u=rwX,go=rX")
        clauses.append(_Clause(*found.groups()))
    return ModeSpec(None, tuple(clauses))
