"""Go's ``filepath.Match`` pattern syntax translated to Python regular expressions.

May import: stdlib only. Pure; shared by ``.dockerignore`` matching
(frontend/dockerignore.py) and COPY source wildcards (builder/worker/globmatch.py).

A pattern is read into `Token`s: a literal character, a ``\\``-escaped one,
``*`` and ``?`` (never crossing ``/``), a ``[...]`` class (negated by ``^``;
``[!a]`` is the class ``!``/``a``, as in Go) and, where the `Dialect` says so,
``**`` spanning directories. What differs between the users is a `Dialect`:
whether ``**`` is special, when a class that runs off the end is reported, and
how a reversed range is worded. A malformed pattern raises `GoPatternError`,
whose message is the bare reason; callers add the pattern and the position.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = [
    "COPY_DIALECT",
    "ClassEnd",
    "Dialect",
    "DoubleStar",
    "GoPatternError",
    "IGNORE_DIALECT",
    "Token",
    "TokenKind",
    "tokenize",
    "translate",
]


class GoPatternError(ValueError):
    """A pattern ``filepath.Match`` calls malformed; ``str(err)`` is the reason."""


class DoubleStar(enum.Enum):
    """What ``**`` means."""

    TWO_STARS = "two-stars"
    """Two ``*``, neither crossing ``/`` (``filepath.Match``)."""
    ANY_DIRS = "any-dirs"
    """Any number of directories (moby/patternmatcher); a ``/`` after it is part of it."""


class ClassEnd(enum.Enum):
    """When a ``[...]`` class cut off by the end of the pattern is reported."""

    LAST_MEMBER = "last-member"
    """As Go's ``getEsc``: a class member may not be the pattern's last character."""
    NO_MEMBER = "no-member"
    """Only where a member is expected and missing, so ``[z-a`` is a reversed range."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """The choices in which the users of the syntax differ.

    ``range_reason`` words a reversed range such as ``[z-a]``; it is formatted
    with ``lo`` and ``hi``.
    """

    double_star: DoubleStar
    class_end: ClassEnd
    range_reason: str


COPY_DIALECT = Dialect(DoubleStar.TWO_STARS, ClassEnd.NO_MEMBER, "bad range {lo}-{hi}")
"""COPY/ADD source wildcards (fsutil's ``filepath.Match``)."""
IGNORE_DIALECT = Dialect(
    DoubleStar.ANY_DIRS, ClassEnd.LAST_MEMBER, "invalid character range {lo}-{hi}"
)
"""``.dockerignore`` lines (moby/patternmatcher)."""


class TokenKind(enum.Enum):
    """What one piece of a pattern is."""

    LITERAL = "literal"
    """A character that stands for itself."""
    ESCAPED = "escaped"
    """``\\`` and the character it makes literal."""
    STAR = "star"
    """``*``: any run of characters other than ``/``."""
    QUESTION = "question"
    """``?``: one character other than ``/``."""
    CLASS = "class"
    """``[...]`` or ``[^...]``: one character (``/`` too) in or not in the set."""
    ANY_DIRS = "any-dirs"
    """``**`` (and its ``/``, if one follows) before more pattern: ``(.*/)?``."""
    ANY_TAIL = "any-tail"
    """``**`` (and its ``/``, if one follows) ending the pattern: ``.*``."""


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of a pattern: its kind, its source text and its regex."""

    kind: TokenKind
    text: str
    regex: str


_STAR = Token(TokenKind.STAR, "*", "[^/]*")
_QUESTION = Token(TokenKind.QUESTION, "?", "[^/]")


def tokenize(pattern: str, dialect: Dialect) -> tuple[Token, ...]:
    """Read ``pattern`` into tokens under ``dialect``.

    Raises:
        GoPatternError: an unterminated or empty class, a reversed range, a
            trailing ``\\``.
    """
    tokens: list[Token] = []
    pos, n = 0, len(pattern)
    any_dirs = DoubleStar.ANY_DIRS
    while pos < n:
        start, ch = pos, pattern[pos]
        pos += 1
        if ch == "*" and pattern[pos : pos + 1] == "*" and dialect.double_star is any_dirs:
            pos += 2 if pattern[pos + 1 : pos + 2] == "/" else 1
            kind, regex = (TokenKind.ANY_DIRS, "(.*/)?") if pos < n else (TokenKind.ANY_TAIL, ".*")
            tokens.append(Token(kind, pattern[start:pos], regex))
        elif ch in "*?":
            tokens.append(_STAR if ch == "*" else _QUESTION)
        elif ch == "\\":
            if pos == n:
                raise GoPatternError("trailing backslash")
            pos += 1
            tokens.append(Token(TokenKind.ESCAPED, pattern[start:pos], re.escape(pattern[pos - 1])))
        elif ch == "[":
            regex, pos = _char_class(pattern, pos, dialect)
            tokens.append(Token(TokenKind.CLASS, pattern[start:pos], regex))
        else:
            tokens.append(Token(TokenKind.LITERAL, ch, re.escape(ch)))
    return tuple(tokens)


def translate(pattern: str, dialect: Dialect) -> str:
    """The regex (unanchored) equivalent of ``pattern`` under ``dialect``.

    Raises:
        GoPatternError: the pattern is malformed (see `tokenize`).
    """
    return "".join(token.regex for token in tokenize(pattern, dialect))


def _char_class(pattern: str, pos: int, dialect: Dialect) -> tuple[str, int]:
    """The regex of the class whose ``[`` ends just before ``pos``, and the
    position after its ``]``."""
    negated = pattern[pos : pos + 1] == "^"
    out = ["[^" if negated else "["]
    pos += negated
    members = 0
    while True:
        if pattern[pos : pos + 1] == "]" and members:
            out.append("]")
            return "".join(out), pos + 1
        lo, pos = _class_member(pattern, pos, dialect)
        hi = lo
        if pattern[pos : pos + 1] == "-":
            hi, pos = _class_member(pattern, pos + 1, dialect)
        if lo > hi:
            raise GoPatternError(dialect.range_reason.format(lo=lo, hi=hi))
        out.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
        members += 1


def _class_member(pattern: str, pos: int, dialect: Dialect) -> tuple[str, int]:
    """Go's ``getEsc``: one (possibly escaped) class character at ``pos``."""
    ch = pattern[pos : pos + 1]
    if ch in ("", "-", "]"):
        raise GoPatternError("unterminated or empty character class")
    if ch == "\\":
        pos += 1
        ch = pattern[pos : pos + 1]
        if not ch:
            raise GoPatternError("unterminated character class")
    if dialect.class_end is ClassEnd.LAST_MEMBER and pos + 1 >= len(pattern):
        raise GoPatternError("unterminated character class")
    return ch, pos + 1
