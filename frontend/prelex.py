"""Logical-line assembly: continuations, comments, blank lines and heredoc bodies, with positions.

May import: frontend.errors, frontend.directives, frontend.nodes, solver.source.

This is where the Dockerfile's non-context-free parts live (BuildKit's
``parser.go`` scanner loop), so that the grammar sees one clean logical line
per instruction. The rules, as BuildKit applies them:

- a UTF-8 BOM at the very start is dropped; ``\\r\\n`` endings are accepted;
- leading whitespace of an instruction's first line is dropped, that of its
  continuation lines is kept;
- ``#`` starts a comment only as the first non-blank character of a line; a
  comment line cannot continue, and comment lines inside a continuation are
  removed (their line numbers are recorded);
- a line continues when its last non-blank (space/tab) character is the
  escape character and the character before it is not also the escape
  character; the escape character and the blanks after it are removed;
- blank lines inside a continuation are skipped (recorded for the
  ``NoEmptyContinuation`` check) and do not end it; a continuation still
  open at the end of the file ends there;
- heredocs (``<<EOF``, ``<<-EOF``, ``<<'EOF'``, ``<<"EOF"``, ``3<<EOF``, several
  per line, bodies read in order) are recognised only for RUN, COPY and ADD,
  also as ONBUILD triggers; a body line is taken verbatim, the terminator is
  the name alone on a line (after leading tabs for ``<<-``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

from frontend.directives import DirectiveBlock, parse_directives
from frontend.errors import DockerfileSyntaxError
from frontend.nodes import Heredoc
from solver.source import Span

__all__ = [
    "LogicalLine",
    "Origin",
    "Prelexed",
    "Reader",
    "Simple",
    "prelex",
    "simple_line",
]

_BLANKS = " \t\v\f\r"
# First characters after which str.lstrip() may remove something.
_SPACE_START = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
_HEREDOC_KEYWORDS = frozenset({"run", "copy", "add"})
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_LEADING_TABS = re.compile(r"(?m)^\t+")
_QUOTES = frozenset("'\"")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the text starts in its file (for re-parsing an ONBUILD trigger)."""

    file: str = "Dockerfile"
    line: int = 1
    col: int = 1


class LogicalLine(NamedTuple):
    """One instruction's text with continuations joined, and how to map back.

    ``offsets[k]`` is the offset in ``text`` where the piece taken from
    physical line ``lines[k]`` (starting at column ``cols[k]``) begins.
    (A NamedTuple rather than a frozen dataclass: one is made per
    instruction, and it is five times cheaper to build.)
    """

    text: str
    offsets: tuple[int, ...]
    lines: tuple[int, ...]
    cols: tuple[int, ...]
    end_line: int
    end_col: int
    comments: tuple[str, ...] = ()
    comment_lines: tuple[int, ...] = ()
    empty_lines: tuple[int, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, col) of the character at ``offset`` in ``text``."""
        k = bisect_right(self.offsets, offset) - 1
        return self.lines[k], self.cols[k] + offset - self.offsets[k]

    def span(self, file: str, start: int, end: int) -> Span:
        """The span of ``text[start:end]`` (``end`` exclusive, ``end > start``)."""
        if len(self.offsets) == 1:
            line, col = self.lines[0], self.cols[0]
            return Span(file, line, col + start, line, col + end)
        line, col = self.position(start)
        end_line, end_col = self.position(end - 1 if end > start else start)
        return Span(file, line, col, end_line, end_col + 1)


@dataclass(frozen=True, slots=True)
class Prelexed:
    """The directive block, the logical lines, and the text they came from (BOM removed)."""

    directives: DirectiveBlock
    lines: tuple[LogicalLine, ...]
    text: str


# A one-line instruction without continuation or heredoc, the common case, as
# ``(text, line, col, end_col, comments)``: a plain tuple, so that the parser's
# fast path makes its node with no LogicalLine in between. ``simple_line``
# gives the LogicalLine it stands for.
Simple = tuple[str, int, int, int, tuple[str, ...]]


def prelex(
    text: str, origin: Origin = Origin(), escape: str | None = None
) -> Prelexed:
    """Split ``text`` into logical lines.

    Args:
        text: the Dockerfile text (a leading BOM is dropped).
        origin: file name and position of the text's first character.
        escape: the escape character; None reads the directive block first
            (an ONBUILD trigger is re-read with its file's escape character).

    Returns:
        The directives and the logical lines, in order.

    Raises:
        DockerfileSyntaxError: a bad directive or an unterminated heredoc.
    """
    reader = Reader(text, origin, escape)
    lines = tuple(
        item if isinstance(item, LogicalLine) else simple_line(item) for item in reader.read()
    )
    return Prelexed(reader.directives, lines, reader.text)


def simple_line(item: Simple) -> LogicalLine:
    """The LogicalLine a ``Simple`` tuple stands for."""
    text, number, col, end_col, comments = item
    return LogicalLine(text, (0,), (number,), (col,), number, end_col, comments)


class Reader:
    """The scanner over one text's physical lines (``lines``, 0-based, line
    endings removed; ``start`` is the first line after the directive block).

    ``read`` gives every instruction; ``next_item`` reads one line's worth,
    for a caller (the parser's fast loop) that skips simple lines itself.
    """

    def __init__(self, text: str, origin: Origin, escape: str | None) -> None:
        """Split ``text`` and read its directive block (unless ``escape`` is given).

        Raises:
            DockerfileSyntaxError: a bad directive.
        """
        if text.startswith("\ufeff"):
            text = text[1:]
        physical = text.split("\n")
        if physical[-1] == "":
            physical.pop()
        lines = [p.rstrip("\r") for p in physical] if "\r" in text else physical
        if escape is None:
            self.directives = parse_directives(lines, origin.file)
        else:
            self.directives = DirectiveBlock(escape=escape)
        self.text = text
        self.lines = lines
        self.physical = physical
        self.origin = origin
        self.escape = self.directives.escape
        self.start = self.directives.line_count
        self.final_newline = text.endswith("\n")
        self.delta = origin.line - 1

    def read(self) -> tuple[LogicalLine | Simple, ...]:
        """Every instruction after the directive block, in order.

        Raises:
            DockerfileSyntaxError: an unterminated heredoc.
        """
        out: list[LogicalLine | Simple] = []
        comments: tuple[str, ...] = ()
        i = self.start
        count = len(self.lines)
        next_item = self.next_item
        while i < count:
            item, i, comments = next_item(i, comments)
            if item is not None:
                out.append(item)
        return tuple(out)

    def next_item(
        self, i: int, comments: tuple[str, ...]
    ) -> tuple[LogicalLine | Simple | None, int, tuple[str, ...]]:
        """Read from line ``i``: an instruction (None for a blank or comment
        line, or a continuation holding nothing), the next line's index, and
        the comments that now precede the next instruction.

        Raises:
            DockerfileSyntaxError: an unterminated heredoc.
        """
        line = self.lines[i]
        i += 1
        if not line:
            return None, i, comments
        body = line.lstrip() if line[0] in _SPACE_START else line
        if not body:
            return None, i, comments
        if body[0] == "#":
            note = body[1:].strip()
            return None, i, (*comments, note) if note else ()
        last = body[-1]
        escape = self.escape
        if last == escape or last == " " or last == "\t" or "<<" in body:
            logical, i = self._assemble(i, len(line) - len(body), body, comments)
            return logical, i, ()
        # the common case: a one-line instruction, no heredoc
        col = len(line) - len(body) + (self.origin.col if i == 1 else 1)
        return (body, i + self.delta, col, len(line) + 1, comments), i, ()

    def _assemble(
        self, i: int, indent: int, body: str, comments: tuple[str, ...]
    ) -> tuple[LogicalLine | None, int]:
        """Join the continuation lines of the instruction whose first line is
        physical line ``i`` (1-based); returns it and the next line index."""
        lines = self.lines
        escape = self.escape
        delta = self.delta
        first_col = indent + 1 + (self.origin.col - 1 if i == 1 else 0)
        content, more = _trim_continuation(body, escape)
        parts = [content]
        offsets, numbers = [0], [i + delta]
        size = len(content)
        comment_lines: list[int] = []
        empty: list[int] = []
        count = len(lines)
        while more and i < count:
            line = lines[i]
            i += 1
            if not line or line[0] in _SPACE_START:
                stripped = line.lstrip()
                if not stripped:
                    empty.append(i + delta)
                    continue
                first = stripped[0]
            else:
                first = line[0]
            if first == "#":
                comment_lines.append(i + delta)
                continue
            last = line[-1]
            if last == escape and (len(line) == 1 or line[-2] != escape):
                content = line[:-1]
            elif last == escape or (last != " " and last != "\t"):
                content, more = line, False
            else:
                content, more = _trim_continuation(line, escape)
            offsets.append(size)
            numbers.append(i + delta)
            parts.append(content)
            size += len(content)
        text = "".join(parts)
        if not text.strip():
            return None, i
        end_col = len(lines[i - 1]) + 1
        logical = LogicalLine(
            text, tuple(offsets), tuple(numbers), (first_col,) + (1,) * (len(numbers) - 1),
            i + delta, end_col, comments, tuple(comment_lines), tuple(empty),
        )
        if "<<" in text and _may_have_heredocs(text):
            heredocs, i = self._heredocs(logical, i)
            if heredocs:
                logical = LogicalLine(
                    text, logical.offsets, logical.lines, logical.cols, i + delta,
                    len(lines[i - 1]) + 1, comments, logical.comment_lines, logical.empty_lines,
                    heredocs,
                )
        return logical, i

    def _heredocs(self, logical: LogicalLine, i: int) -> tuple[tuple[Heredoc, ...], int]:
        found: list[Heredoc] = []
        file = self.origin.file
        for word, offset in _shell_words(logical.text):
            opener = _parse_opener(word) if "<<" in word else None
            if opener is None:
                continue
            name, expand, chomp, fd = opener
            opener_span = logical.span(file, offset, offset + len(word))
            start = i
            body: list[str] = []
            while True:
                if i >= len(self.lines):
                    raise DockerfileSyntaxError(
                        f"unterminated heredoc {name!r}",
                        opener_span,
                        hint=f"end it with a line holding only {name}"
                        + (" (leading tabs allowed with <<-)" if chomp else ""),
                    )
                candidate = self.lines[i]
                i += 1
                if (candidate.lstrip("\t") if chomp else candidate) == name:
                    break
                newline = "\n" if i < len(self.lines) or self.final_newline else ""
                body.append(self.physical[i - 1] + newline)
            text = "".join(body)
            if chomp:
                text = _LEADING_TABS.sub("", text)
            span = Span(file, start + 1 + self.delta, 1, i + self.delta, len(self.lines[i - 1]) + 1)
            found.append(Heredoc(name, text, expand, chomp, span, fd, opener_span))
        return tuple(found), i


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """BuildKit's ``([^E])E[ \\t]*$|^E[ \\t]*$``: drop a trailing escape char."""
    trimmed = line.rstrip(" \t")
    if trimmed.endswith(escape) and (len(trimmed) == 1 or trimmed[-2] != escape):
        return trimmed[:-1], True
    return line, False


def _may_have_heredocs(text: str) -> bool:
    """RUN, COPY, ADD, or ONBUILD of one of them (its flags skipped).

    A JSON-form argument list never holds a heredoc word (every word of a
    valid JSON string array starts with ``[``, ``,``, ``]`` or ``"``), so
    the exec-form exclusion of BuildKit needs no test here.
    """
    words = text.split(None, 3)
    keyword = words[0].lower()
    if keyword == "onbuild":
        rest = [w for w in words[1:] if not w.startswith("--")]
        keyword = rest[0].lower() if rest else ""
    return keyword in _HEREDOC_KEYWORDS


# A shell word with quotes and escapes kept raw (BuildKit's lexer with
# RawQuotes and RawEscapes); an unterminated quote cannot match.
_WORD = re.compile(r"""(?:[^ \t\v\f\r\\'"]|\\.?|'[^']*'|"(?:[^"\\]|\\.?)*")+""", re.DOTALL)


def _shell_words(text: str) -> list[tuple[str, int]]:
    """Shell words with quotes and escapes kept raw, and their offsets.

    An unterminated quote gives no words at all, as BuildKit's lexer error
    does (its heredoc scan then finds nothing).
    """
    words: list[tuple[str, int]] = []
    covered = 0
    for match in _WORD.finditer(text):
        if text[covered : match.start()].strip(_BLANKS):
            return []
        words.append((match.group(), match.start()))
        covered = match.end()
    if text[covered:].strip(_BLANKS):
        return []
    return words


def _parse_opener(word: str) -> tuple[str, bool, bool, int | None] | None:
    """``(name, expand, chomp, fd)`` when ``word`` opens a heredoc."""
    match = _HEREDOC_RE.match(word)
    if match is None or not match.group(3):
        return None
    raw = match.group(3)
    name = _unquote(raw)
    if not name:
        return None
    expand = sum(c in _QUOTES for c in name) == sum(c in _QUOTES for c in raw)
    fd = int(match.group(1)) if match.group(1) else None
    return name, expand, match.group(2) == "-", fd


def _unquote(raw: str) -> str:
    """Remove shell quotes and backslash escapes (no variable expansion)."""
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "'":
            j = raw.find("'", i + 1)
            j = n if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        elif ch == '"':
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n and raw[i + 1] in '"\\$`':
                    i += 1
                out.append(raw[i])
                i += 1
            i += 1
        elif ch == "\\":
            out.append(raw[i + 1 : i + 2])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
