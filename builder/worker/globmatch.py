"""Go's ``filepath.Match`` for COPY sources: ``*``, ``?``, ``[...]``, ``\\`` escapes.

May import: stdlib, frontend.gomatch, builder.worker.errors.

``*`` and ``?`` never match ``/``; ``**`` is not special (it is two ``*``); a class
is negated by ``^`` (``[!a]`` is the class ``!``/``a``, as in Go); a malformed
pattern (unterminated class, trailing ``\\``) is an error, not a silent miss.
"""

from __future__ import annotations

import functools
import re

from builder.worker.errors import FileOpError
from frontend.gomatch import COPY_DIALECT, GoPatternError, translate

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


@functools.lru_cache(maxsize=256)
def compile_match(pattern: str) -> re.Pattern[str]:
    """The regular expression equivalent of Go pattern ``pattern``.

    Raises:
        FileOpError: the pattern is malformed.
    """
    try:
        out = translate(pattern, COPY_DIALECT)
    except GoPatternError as exc:
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
