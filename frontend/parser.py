"""Dockerfile text to a ``frontend.nodes.Dockerfile``: the one owner of the Lark parser.

May import: lark, frontend.errors, frontend.nodes, frontend.prelex, frontend.scan,
frontend.transformer, solver.source.

The pipeline is ``prelex`` (directives, continuations, comments, heredoc
bodies) → the instruction grammar ``dockerfile.lark`` over the logical
lines → nodes with spans (``frontend.transformer``). This is the only module that
builds a ``Lark`` parser or sees a Lark exception: ``UnexpectedInput`` becomes
a ``DockerfileSyntaxError`` with a span and a hint, and ``VisitError`` is
unwrapped so the transformer's own ``FrontendError`` keeps its type.

Speed: one Lark LALR parse costs 10–30 µs per instruction however it is
fed (measured: whole file in one call, one call per line, a custom lexer),
several times what dockerfile-parse spends on a whole instruction. The
``command`` rule is a regular language, so ``_fast_path`` compiles it, from
the grammar's own terminal patterns, into one regular expression; plain
lines go through it and ONBUILD lines (and any line it does not match)
through Lark. Both build their nodes with ``transformer.build_instruction``,
and a property test checks they agree on arbitrary input.

``parse_dockerfile`` goes one step further: ``frontend.scan`` makes the
nodes of ordinary lines, continuation blocks and heredocs with a few regular
expressions over the whole text and no Lark at all, and hands everything
else back, line by line, to ``_parse_lines`` (through a ``scan.Grammar``
holding this module's compiled patterns). Numbers: ``bench/parse.py``.

``parse_inner`` re-reads an ONBUILD trigger (from this file, or from a base
image's config, whose triggers are stored as text with heredoc bodies
appended) as one instruction at a given position.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from pathlib import Path

from lark import Lark, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from frontend.errors import DockerfileSyntaxError, FrontendError
from frontend.nodes import Dockerfile, Heredoc, Instruction
from frontend.prelex import LogicalLine, Origin, Reader, prelex
from frontend.scan import Grammar, scan_lines
from frontend.transformer import (
    FAST_KEYWORDS,
    GO_SPACE,
    DockerfileTransformer,
    Payload,
    Piece,
    build_instruction,
    check_trigger,
)
from solver.source import SourceFile, Span

__all__ = ["parse_dockerfile", "parse_inner"]

_GRAMMAR = Path(__file__).with_name("dockerfile.lark")
# Terminal names of dockerfile.lark as words for error messages.
_TERMINAL_WORDS = {
    "FLAG": "flag",
    "INNER_KEYWORD": "instruction",
    "JSON_ARRAY": "JSON array",
    "KEYWORD": "instruction",
    "ONBUILD": "ONBUILD",
    "REST": "arguments",
    "$END": "end of instruction",
}


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
    )


def parse_dockerfile(text: str | bytes, name: str = "Dockerfile") -> Dockerfile:
    """Parse a whole Dockerfile.

    Args:
        text: the file's bytes (must be UTF-8) or its decoded text.
        name: the file name used in spans and error headers.

    Returns:
        The directives, the instructions (with spans, flags, heredocs) and
        the escape character.

    Raises:
        DockerfileSyntaxError: anything that does not parse; its
            ``source_text`` is set so ``render()`` shows an excerpt.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    source = _decode(raw, name) if isinstance(text, bytes) else text
    source = source.removeprefix("\ufeff")
    origin = Origin(name)
    try:
        reader = Reader(source, origin, None)
        if "\r" in source:  # the fast loop assumes "\n" endings
            instructions = _parse_lines(prelex(source, origin).lines, name)
        else:
            try:
                instructions = scan_lines(reader, name, _grammar())
            except FrontendError:
                # prelex reads the whole text before any instruction is
                # parsed, so its errors (heredocs) win over a parse error
                Reader(source, origin, None).read()
                raise
        if not instructions:
            last = max(1, source.count("\n") + (0 if source.endswith("\n") else 1))
            raise DockerfileSyntaxError(
                "file with no instructions",
                Span.point(name, last, 1),
                hint="a Dockerfile needs at least one instruction, usually FROM",
            )
    except FrontendError as err:
        err.source_text = source
        raise
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    return Dockerfile(
        instructions,
        reader.directives.directives,
        reader.directives.escape,
        SourceFile(name, source, digest),
    )


def parse_inner(
    text: str, span: Span, escape: str, heredocs: tuple[Heredoc, ...] = ()
) -> Instruction:
    """Parse the instruction an ONBUILD wraps.

    Args:
        text: the trigger text, e.g. ``RUN make`` (for a base image's
            trigger, heredoc bodies may follow on later lines).
        span: where ``text`` starts; its file, line and column anchor the
            spans of the result.
        escape: the escape character of the file the trigger comes from.
        heredocs: heredoc bodies already read for the trigger (the outer
            ONBUILD's), attached when ``text`` itself carries none.

    Returns:
        The trigger instruction.

    Raises:
        DockerfileSyntaxError: the text is not exactly one instruction, or
            it is ONBUILD, FROM or MAINTAINER (not allowed as triggers).
    """
    pre = prelex(text, Origin(span.file, span.line, span.col), escape=escape)
    if len(pre.lines) != 1:
        count = "no" if not pre.lines else str(len(pre.lines))
        raise DockerfileSyntaxError(
            f"an ONBUILD trigger must be exactly one instruction, not {count}",
            span,
            hint="usage: ONBUILD <INSTRUCTION>, e.g. ONBUILD RUN make",
        )
    instruction = _parse_lines(pre.lines, span.file)[0]
    check_trigger(instruction)
    if heredocs and not instruction.heredocs:
        instruction = dataclasses.replace(instruction, heredocs=heredocs)
    return instruction


def _parse_lines(
    lines: tuple[LogicalLine, ...], name: str, fast: bool = True
) -> tuple[Instruction, ...]:
    """Instructions for ``lines``: each plain line through the fast path,
    the rest (ONBUILD, or all of them with ``fast=False``) through Lark."""
    if not fast:
        return _parse_with_lark(lines, name)
    line_re, flag_re = _fast_path()
    out: list[Instruction] = []
    for line in lines:
        text = line.text
        plain = _KEYWORD_REST.match(text)
        if plain is not None and (rest := plain.group(2)) and rest[0] not in "[-":
            if rest[-1] not in GO_SPACE and plain.group(1).upper() in FAST_KEYWORDS:
                # then the grammar can only read ``rest`` as REST (see _scan_pattern)
                shell: Payload = (False, rest, plain.start(2))
                out.append(build_instruction(line, name, (plain.group(1), 0), (), shell))
                continue
        match = line_re.match(text)
        if match is None or (text[0] in "oO" and match.group(1).lower() == "onbuild"):
            out += _parse_with_lark((line,), name)
            continue
        keyword, flag_text, exec_text, shell_text = match.groups()
        flags: list[Piece] = []
        if flag_text:
            flags = [(f.group(1), f.start(1)) for f in flag_re.finditer(text, 0, match.end(2))]
        payload: Payload | None = None
        if shell_text is not None:
            payload = (False, shell_text, match.start(4))
        elif exec_text is not None:
            payload = (True, exec_text, match.start(3))
        out.append(build_instruction(line, name, (keyword, 0), flags, payload))
    return tuple(out)


# A logical line's first word and what follows the blanks after it.
_KEYWORD_REST = re.compile(r"([^ \t\v\f\r\n]++)(?:[ \t\v\f\r]++(.*+))?", re.DOTALL)


@functools.lru_cache(maxsize=1)
def _fast_path() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The ``command`` rule as one regular expression over the grammar's own
    terminals (the rule is regular: KEYWORD FLAG* [--] [JSON_ARRAY | REST]).

    The contextual lexer takes, at each point, the highest-priority terminal
    that matches; the greedy expression below takes the same tokens because
    a FLAG always ends at a blank or the end of the line, and the payload
    alternatives are tried in the grammar's priority order. The property
    test ``test_fast_path_equals_lark`` checks the two agree.

    Groups: 1 the keyword, 2 the flags, 3 the JSON array and 4 the shell
    form, each of 3 and 4 without the blanks before it; the flag expression's
    group 1 is the flag word without its blanks.
    """
    terms = {t.name: t.pattern.to_regexp() for t in _lark().terminals}
    trail = f"(?:{terms['_TRAIL']})"
    line = (
        f"({terms['KEYWORD']})((?:{terms['FLAG']})*)(?:{terms['_DASHDASH']})?"
        f"(?:{trail}|{_group_after_blanks(terms['JSON_ARRAY'])}{trail}?"
        f"|{_group_after_blanks(terms['REST'])})?\\Z"
    )
    return re.compile(line), re.compile(_group_after_blanks(terms["FLAG"]))


def _group_after_blanks(pattern: str) -> str:
    """``[blanks]+rest`` as ``[blanks]+(rest)``: the same matches, since
    ``rest`` never starts with a blank, with the token's text as a group."""
    blanks = "[ \t\\v\x0c\r]+"
    if not pattern.startswith(blanks):
        raise AssertionError(f"terminal does not start with blanks: {pattern!r}")
    return f"{blanks}({pattern[len(blanks):]})"


@functools.lru_cache(maxsize=1)
def _scan_pattern() -> re.Pattern[str]:
    """Blank and comment lines (group 1), then the next line: 2 its indent,
    3 the rest of it, 4 its first word, 5 what follows the blanks after it.

    The caller takes the line as a one-line instruction only when prelex's
    rules agree (no heredoc opener, not ending in the escape character or a
    blank) and the keyword is known; then, when the arguments start with
    neither ``--`` nor ``[``, the grammar can only read them as REST (no
    FLAG, _DASHDASH or JSON_ARRAY fits), the shell form. Lines this
    pattern reads differently (other blanks) fall to the general way.
    """
    terms = {t.name: t.pattern.to_regexp() for t in _lark().terminals}
    instruction = (
        f"([ \\t]*+)(({terms['KEYWORD']}+)(?:[ \\t\\v\\f\\r]++([^\\n]*+))?)(?=\\n|\\Z)"
    )
    return re.compile(f"((?:[ \\t]*+(?:#[^\\n]*+)?\\n)*+)(?:{instruction})?")


@functools.lru_cache(maxsize=1)
def _grammar() -> Grammar:
    """The patterns and the general way ``frontend.scan`` works with."""
    line_re, flag_re = _fast_path()
    return Grammar(_scan_pattern(), line_re, flag_re, _parse_lines)


def _parse_with_lark(lines: tuple[LogicalLine, ...], name: str) -> tuple[Instruction, ...]:
    if not lines:
        return ()
    text = "\n".join(line.text for line in lines)
    try:
        tree = _lark().parse(text)
        return tuple(DockerfileTransformer(lines, name).transform(tree))
    except VisitError as err:
        if isinstance(err.orig_exc, FrontendError):
            raise err.orig_exc from None
        raise
    except UnexpectedInput as err:
        raise _syntax_error(err, lines, name) from None


def _syntax_error(
    err: UnexpectedInput, lines: tuple[LogicalLine, ...], name: str
) -> DockerfileSyntaxError:
    """A Lark error as a positioned, one-line syntax error."""
    index = min(max(err.line, 1), len(lines)) - 1
    line = lines[index]
    offset = min(max(err.column - 1, 0), max(len(line.text) - 1, 0))
    span = line.span(name, offset, offset + 1)
    if isinstance(err, UnexpectedCharacters):
        message = f"unexpected character {line.text[offset:offset + 1]!r}"
    elif isinstance(err, UnexpectedToken):
        kind = _TERMINAL_WORDS.get(err.token.type, err.token.type.lower())
        message = f"unexpected {kind} {str(err.token).strip()!r}"
    else:
        message = "unexpected end of instruction"
    expected = sorted(getattr(err, "expected", None) or getattr(err, "allowed", None) or ())
    hint = "expected one of: " + ", ".join(expected) if expected else None
    return DockerfileSyntaxError(message, span, hint=hint)


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_start = raw.rfind(b"\n", 0, err.start) + 1
        line = raw.count(b"\n", 0, err.start) + 1
        col = len(raw[line_start : err.start].decode("utf-8", "replace")) + 1
        exc = DockerfileSyntaxError(
            f"invalid UTF-8 byte 0x{raw[err.start]:02x}",
            Span.point(name, line, col),
            hint="save the Dockerfile as UTF-8",
        )
        exc.source_text = raw.decode("utf-8", "replace")
        raise exc from None
