"""Go's ``filepath.Match`` for COPY sources: ``*``, ``?``, ``[...]``, ``\\`` escapes.

May import: stdlib, builder.worker.errors.

``*`` and ``?`` never match ``/``; ``**`` is not special (it is two ``*``); a class
is negated by ``^`` (``[!a]`` is the class ``!``/``a``, as in Go); a malformed
pattern (unterminated class, trailing ``\\``) is an error, not a silent miss.
"""

from __future__ import annotations

import functools
import re

from builder.worker.errors import FileOpError

__all__ = ["compile_match", "has_wildcards", "match"]


def has_wildcards(name: str) -> bool:
    """Whether ``name`` holds an unescaped ``*``, ``?`` or ``[`` (fsutil's rule)."""
    i = 0
    while i < len(name):
        if name[i] == "\\":
            i += 2
            continue
        if name[i] in "*?[":
            return True
        i += 1
    return False


def _class(pattern: str, pos: int) -> tuple[str, int]:
    out = "["
    if pattern[pos : pos + 1] == "^":
        out, pos = "[^", pos + 1
    count = 0
    while True:
        ch = pattern[pos : pos + 1]
        if ch == "]" and count:
            return out + "]", pos + 1
        lo, pos = _class_char(pattern, pos)
        hi = lo
        if pattern[pos : pos + 1] == "-":
            hi, pos = _class_char(pattern, pos + 1)
            if hi < lo:
                raise ValueError(f"bad range {lo}-{hi}")
        out += re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}"
        count += 1


def _class_char(pattern: str, pos: int) -> tuple[str, int]:
    ch = pattern[pos : pos + 1]
    if ch in ("", "-", "]"):
        raise ValueError("unterminated or empty character class")
    if ch == "\\":
        pos += 1
        ch = pattern[pos : pos + 1]
        if not ch:
            raise ValueError("unterminated character class")
    return ch, pos + 1


@functools.lru_cache(maxsize=256)
def compile_match(pattern: str) -> re.Pattern[str]:
    """The regular expression equivalent of Go pattern ``pattern``.

    Raises:
        FileOpError: the pattern is malformed.
    """
    out, pos = "", 0
    try:
        while pos < len(pattern):
            ch = pattern[pos]
            pos += 1
            if ch == "*":
                out += "[^/]*"
            elif ch == "?":
                out += "[^/]"
            elif ch == "[":
                part, pos = _class(pattern, pos)
                out += part
            elif ch == "\\":
                if pos >= len(pattern):
                    raise ValueError("trailing backslash")
                out += re.escape(pattern[pos])
                pos += 1
            else:
                out += re.escape(ch)
    except ValueError as exc:
        raise FileOpError(
            f"bad pattern {pattern!r}: {exc}", hint="see Go's filepath.Match"
        ) from None
    return re.compile(out + r"\Z", re.DOTALL)


def match(pattern: str, name: str) -> bool:
    """Whether ``name`` matches Go pattern ``pattern`` as a whole.

    Raises:
        FileOpError: the pattern is malformed.
    """
    return compile_match(pattern).match(name) is not None
