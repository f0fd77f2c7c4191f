"""Lark tree of ``dockerfile.lark`` to frozen ``frontend.nodes``, with exact spans.

May import: lark (types only), frontend.errors, frontend.nodes, frontend.prelex, solver.source.

Rule, method and node share a stem: ``command``/``inner``/``onbuild`` give an
``Instruction``, ``flag`` a ``Flag``, ``exec_form`` an ``ExecForm``,
``shell_form`` a ``ShellForm``. Positions come from the tokens: token line
``k`` is logical line ``k`` of the prelexer, whose offset map gives the real
line and column, so a flag on a continuation line points at that line.

Errors raised here are ``DockerfileSyntaxError``s; Lark wraps them in
``VisitError`` and ``frontend.parser`` unwraps them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta

from frontend.errors import DockerfileSyntaxError
from frontend.nodes import (
    KEYWORDS,
    ExecForm,
    Flag,
    Instruction,
    ShellForm,
    new_exec_form,
    new_flag,
    new_instruction,
    new_shell_form,
)
from frontend.prelex import LogicalLine
from solver.source import Span, new_span

__all__ = [
    "DockerfileTransformer",
    "FAST_KEYWORDS",
    "GO_SPACE",
    "NO_ARGS_OK",
    "Payload",
    "Piece",
    "USAGE",
    "build_instruction",
    "check_trigger",
    "line_flag",
    "make_flag",
]

_BLANKS = " \t\v\f\r"
# Go's unicode.IsSpace: what strings.TrimSpace removes around the arguments.
GO_SPACE = (
    " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_KNOWN = frozenset(KEYWORDS)
# Keywords that ``build_instruction`` makes a node for directly (ONBUILD wraps another).
FAST_KEYWORDS = _KNOWN - {"ONBUILD"}
# Instructions that BuildKit accepts with nothing after the keyword (and flags).
NO_ARGS_OK = frozenset({"CMD", "ENTRYPOINT", "RUN"})
# Instructions whose JSON form must be an array of strings (BuildKit's parseMaybeJSON…).
_JSON_KEYWORDS = frozenset({"ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"})
_NOT_TRIGGERS = {"FROM", "MAINTAINER"}
_EMPTY = ShellForm("")

USAGE = {
    "ADD": "usage: ADD [--chown=…] [--chmod=…] <src>... <dest>",
    "ARG": "usage: ARG <name>[=<default value>]",
    "COPY": "usage: COPY [--from=<stage>] <src>... <dest>",
    "ENV": "usage: ENV <key>=<value> ...",
    "EXPOSE": "usage: EXPOSE <port>[/<protocol>] ...",
    "FROM": "usage: FROM [--platform=<platform>] <image> [AS <name>]",
    "HEALTHCHECK": "usage: HEALTHCHECK [options] CMD <command>, or HEALTHCHECK NONE",
    "LABEL": "usage: LABEL <key>=<value> ...",
    "MAINTAINER": "usage: MAINTAINER <name> (deprecated: LABEL maintainer=<name>)",
    "ONBUILD": "usage: ONBUILD <INSTRUCTION>, e.g. ONBUILD RUN make",
    "SHELL": 'usage: SHELL ["executable", "parameters"]',
    "STOPSIGNAL": "usage: STOPSIGNAL <signal>",
    "USER": "usage: USER <user>[:<group>]",
    "VOLUME": 'usage: VOLUME ["/data"] or VOLUME /data',
    "WORKDIR": "usage: WORKDIR /path/to/workdir",
}


# A payload as found in a logical line: (is_json, token text, token offset).
Payload = tuple[bool, str, int]
# A keyword or flag token and its offset in the logical line.
Piece = tuple[str, int]


class DockerfileTransformer(Transformer[Token, list[Instruction]]):
    """Builds nodes for one parse; holds the prelexed lines for position lookup."""

    def __init__(self, lines: tuple[LogicalLine, ...], file: str) -> None:
        super().__init__()
        self._lines = lines
        self._file = file

    def start(self, children: list[Instruction]) -> list[Instruction]:
        return children

    @v_args(meta=True)
    def flag(self, meta: Meta, children: list[Token]) -> Piece:
        return str(children[0]), _col(children[0])

    @v_args(meta=True)
    def exec_form(self, meta: Meta, children: list[Token]) -> Payload:
        return True, str(children[0]), _col(children[0])

    @v_args(meta=True)
    def shell_form(self, meta: Meta, children: list[Token]) -> Payload:
        return False, str(children[0]), _col(children[0])

    @v_args(meta=True)
    def command(self, meta: Meta, children: list[Any]) -> Instruction:
        return self._instruction(children)

    @v_args(meta=True)
    def inner(self, meta: Meta, children: list[Any]) -> Instruction:
        return self._instruction(children)

    @v_args(meta=True)
    def onbuild(self, meta: Meta, children: list[Any]) -> Instruction:
        keyword: Token = children[0]
        line = self._lines[_line(keyword) - 1]
        flags = tuple(make_flag(line, self._file, f) for f in children[1:] if isinstance(f, tuple))
        trigger = children[-1] if isinstance(children[-1], Instruction) else None
        kw_span = line.span(self._file, 0, len(keyword))
        if trigger is None:
            raise _missing("ONBUILD", kw_span)
        check_trigger(trigger)
        offset = _offset_of(line, trigger.span.line, trigger.span.col)
        text = line.text[offset:].rstrip(GO_SPACE)
        return Instruction(
            keyword="ONBUILD",
            args=ShellForm(text),
            span=_whole(kw_span, line),
            flags=flags,
            heredocs=line.heredocs,
            keyword_text=str(keyword),
            original=line.text,
            comments=line.comments,
            empty_continuation_lines=line.empty_lines,
            args_span=line.span(self._file, offset, offset + len(text)),
            comment_lines=line.comment_lines,
            inner=trigger,
        )

    def _instruction(self, children: list[Any]) -> Instruction:
        keyword: Token = children[0]
        line = self._lines[_line(keyword) - 1]
        flags = [c for c in children[1:] if isinstance(c, tuple) and len(c) == 2]
        last = children[-1]
        payload = last if isinstance(last, tuple) and len(last) == 3 else None
        return build_instruction(line, self._file, (str(keyword), _col(keyword)), flags, payload)


def build_instruction(
    line: LogicalLine,
    file: str,
    keyword: Piece,
    flags: Sequence[Piece],
    payload: Payload | None,
) -> Instruction:
    """The node for one instruction from its tokens (shared by the Lark
    transformer and the parser's fast path, so both give identical nodes).

    Raises:
        DockerfileSyntaxError: unknown instruction, missing arguments, or a
            JSON array with non-string elements where BuildKit rejects it.
    """
    word, kw_start = keyword
    if word[0] in _BLANKS:
        stripped = word.lstrip(_BLANKS)
        kw_start += len(word) - len(stripped)
        word = stripped
    upper = word.upper()
    if upper not in _KNOWN:
        raise _unknown(word, line.span(file, kw_start, kw_start + len(word)))
    single = len(line.offsets) == 1  # one physical line: plain column arithmetic
    row, base = line.lines[0], line.cols[0]
    args: ExecForm | ShellForm = _EMPTY
    args_span = None
    if payload is not None:
        is_json, text, start = payload
        body = text.lstrip(_BLANKS)
        start += len(text) - len(body)
        if body[-1] in GO_SPACE:
            body = body.rstrip(GO_SPACE)
        end = start + len(body)
        if single:
            args_span = new_span(file, row, base + start, row, base + end)
        else:
            args_span = line.span(file, start, end)
        if is_json:
            args = new_exec_form(tuple([_go_string(v) for v in json.loads(body)]))
        else:
            args = new_shell_form(body)
            if body[0] == "[" and upper in _JSON_KEYWORDS:
                _check_json_strings(body, args_span)
    if (args is _EMPTY or args.__class__ is ExecForm and not args.args) and upper not in NO_ARGS_OK:
        raise _missing(upper, line.span(file, kw_start, kw_start + len(word)))
    if single:
        kw_line, kw_col = row, base + kw_start
    else:
        kw_line, kw_col = line.position(kw_start)
    return new_instruction(
        upper,
        args,
        new_span(file, kw_line, kw_col, line.end_line, line.end_col),
        tuple([make_flag(line, file, f) for f in flags]) if flags else (),
        line.heredocs,
        word,
        line.text,
        line.comments,
        line.empty_lines,
        args_span,
        line.comment_lines,
    )


def line_flag(word: str, file: str, line: int, col: int) -> Flag:
    """A ``Flag`` from a flag word (no blanks) at ``line:col`` of one physical line."""
    name, sep, value = _flag_word(word)[2:].partition("=")
    span = new_span(file, line, col, line, col + len(word))
    return new_flag(name, value if sep else None, span, word)


def make_flag(line: LogicalLine, file: str, token: Piece) -> Flag:
    """A ``Flag`` from a FLAG token (leading blanks included) and its offset."""
    text, start = token
    word = text.lstrip(_BLANKS)
    start += len(text) - len(word)
    name, sep, value = _flag_word(word)[2:].partition("=")
    return Flag(name, value if sep else None, line.span(file, start, start + len(word)), word)


def _line(token: Token) -> int:
    return token.line or 1


def _col(token: Token) -> int:
    """The 0-based offset of ``token`` in its logical line."""
    return (token.column or 1) - 1


def _whole(keyword: Span, line: LogicalLine) -> Span:
    return Span(keyword.file, keyword.line, keyword.col, line.end_line, line.end_col)


def _offset_of(line: LogicalLine, number: int, col: int) -> int:
    for k in range(len(line.lines) - 1, -1, -1):
        if line.lines[k] == number and line.cols[k] <= col:
            return line.offsets[k] + col - line.cols[k]
    return 0


def _flag_word(word: str) -> str:
    """BuildKit's flag word reading: quotes removed, ``\\x`` gives ``x``."""
    if "\\" not in word and '"' not in word and "'" not in word:
        return word
    out: list[str] = []
    quote = ""
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if quote and ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch
        elif ch == "\\":
            if i + 1 < n:
                i += 1
                out.append(word[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _go_string(value: str) -> str:
    """Go's JSON decoder turns lone surrogate escapes into U+FFFD; so do we."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def _reject_constant(name: str) -> object:
    raise ValueError(name)


def _check_json_strings(text: str, span: Span) -> None:
    """BuildKit: a *valid* JSON array with a non-string element is an error,
    not a fallback to shell form."""
    if not text.startswith("["):
        return
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise DockerfileSyntaxError(
            "when using JSON array syntax, arrays must be comprised of strings only",
            span,
            hint='quote every element, e.g. ["sleep", "10"]',
        )


def _missing(keyword: str, span: Span) -> DockerfileSyntaxError:
    return DockerfileSyntaxError(
        f"{keyword} requires at least one argument", span, hint=USAGE.get(keyword)
    )


def _unknown(word: str, span: Span) -> DockerfileSyntaxError:
    upper = word.upper()
    glued = [k for k in KEYWORDS if upper.startswith(k) and not upper[len(k)].isalpha()]
    close = difflib.get_close_matches(upper, KEYWORDS, n=1, cutoff=0.6)
    if glued:
        keyword = word[: len(glued[-1])]
        hint = f"put a space between {keyword} and its arguments"
    elif close:
        hint = f"did you mean {close[0]}?"
    else:
        hint = "instructions are: " + ", ".join(KEYWORDS)
    return DockerfileSyntaxError(f"unknown instruction: {word}", span, hint=hint)


def check_trigger(trigger: Instruction) -> None:
    if trigger.keyword == "ONBUILD":
        raise DockerfileSyntaxError(
            "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
            trigger.span,
            hint="an ONBUILD trigger cannot itself be ONBUILD",
        )
    if trigger.keyword in _NOT_TRIGGERS:
        raise DockerfileSyntaxError(
            f"{trigger.keyword} isn't allowed as an ONBUILD trigger",
            Span(
                trigger.span.file,
                trigger.span.line,
                trigger.span.col,
                trigger.span.line,
                trigger.span.col + len(trigger.keyword_text),
            ),
            hint="triggers may be any instruction except ONBUILD, FROM and MAINTAINER",
        )
