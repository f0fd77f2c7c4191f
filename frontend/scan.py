"""The parser's fast loop: ordinary instructions to nodes without ``prelex`` or Lark.

May import: frontend.nodes, frontend.prelex, frontend.transformer, solver.source.

``scan_lines`` gives what ``frontend.parser`` would give by running
``prelex`` and then the grammar over every logical line, faster. One regular
expression (``Grammar.scan``, built by the parser from the grammar's own
terminals) steps over blank and comment lines and matches the next line; a
one-line instruction whose arguments can only be the grammar's shell form
(or a plain JSON array, or plain flags) becomes a node on the spot, with
single-line column arithmetic and the ``new_*`` constructors of
``frontend.nodes`` (one plain flag, the commonest flag shape, is taken
apart by ``_ONE_FLAG`` alone). A continuation block of the common shape
(escape character at the ends of lines, comment lines inside, no blank
line, no heredoc, shell form, ASCII text) is matched whole by one more
expression (``_block_pattern``), and a RUN, COPY or ADD line with one
plain heredoc opener by ``_HEREDOC``, body and terminator included (a
backreference finds the terminator); both become nodes the same way.
Everything else goes
through ``Reader.next_item`` and ``Grammar.parse_lines``, line by line, so
both ways give identical nodes and errors;
``tests/frontend/test_parser_scan.py`` checks it on the golden cases, the
benchmark corpus and arbitrary text. Numbers: ``bench/parse.py``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from frontend.nodes import (
    ExecForm,
    Flag,
    Instruction,
    ShellForm,
    new_exec_form,
    new_flag,
    new_heredoc,
    new_instruction,
    new_shell_form,
)
from frontend.prelex import LogicalLine, Reader, simple_line
from frontend.transformer import FAST_KEYWORDS, GO_SPACE, line_flag
from solver.source import new_span

__all__ = ["Grammar", "scan_lines"]


@dataclass(frozen=True, slots=True)
class Grammar:
    """What the scan needs from the grammar's owner (``frontend.parser``).

    Attributes:
        scan: blank and comment lines (group 1), then the next line: 2 its
            indent, 3 the rest of it, 4 its first word, 5 what follows the
            blanks after it.
        line: the ``command`` rule as one expression (groups: 1 keyword,
            2 flags, 3 JSON array, 4 shell form).
        flag: one FLAG token (group 1 the flag word without its blanks).
        parse_lines: instructions for logical lines, the general way.
    """

    scan: re.Pattern[str]
    line: re.Pattern[str]
    flag: re.Pattern[str]
    parse_lines: Callable[[tuple[LogicalLine, ...], str], tuple[Instruction, ...]]


def scan_lines(reader: Reader, name: str, grammar: Grammar) -> tuple[Instruction, ...]:
    """Every instruction after the reader's directive block, as the general
    way (``prelex`` then ``grammar.parse_lines``) would give them.

    Args:
        reader: the reader over the text (which must hold no ``\\r``).
        name: the file name for spans.
        grammar: the parser's compiled patterns and its general way.

    Returns:
        The instructions, in order.

    Raises:
        FrontendError: the first instruction that does not parse (the
            caller re-reads the whole text first, so heredoc errors win).
    """
    text = reader.text
    match_at = grammar.scan.match
    ascii_only = text.isascii()  # then no lone surrogates, no Unicode blanks
    last_chars = reader.escape + " \t"  # a line ending in one of these continues
    block = _block_pattern(reader.escape).match if ascii_only else None
    number = reader.start  # index in ``lines`` of the line at ``pos``
    pos = sum(len(line) + 1 for line in reader.lines[:number])
    size = len(text)
    comments: tuple[str, ...] = ()
    out: list[Instruction] = []
    while pos < size:
        match = match_at(text, pos)
        if match is None:  # cannot happen: every part of the pattern is optional
            break
        pre, indent, original, keyword, rest = match.groups()
        if pre:
            skipped = pre.count("\n")
            if "#" in pre:
                comments = _comments(reader, number, number + skipped, comments)
            number += skipped
            pos += len(pre)
        tokens: _Tokens | None = None
        if rest and (upper := _SPELLINGS.get(keyword) or keyword.upper()) in FAST_KEYWORDS:
            col = len(indent) + 1
            if original[-1] not in last_chars and "<<" not in original:
                if rest[0] == "[" or rest[0] == "-":
                    where = (name, number + 1, col)
                    tokens = _tokens(original, keyword, rest, ascii_only, (where, grammar))
                else:  # the common case: shell form, no flags
                    start = len(original) - len(rest)
                    if rest[-1] in GO_SPACE:
                        rest = rest.rstrip(GO_SPACE)
                    if rest:
                        tokens = new_shell_form(rest), start, rest, ()
            else:
                where = (name, number + 1, col)
                taken = _several_lines(match, where, upper, comments, (block, last_chars))
                if taken is not None:
                    node, number, pos = taken
                    out.append(node)
                    comments = ()
                    continue
        if tokens is None:  # not a plain one-line instruction: the general way
            if pos >= size:
                break
            number, pos, comments = _general(reader, (number, pos), comments, out, grammar)
            continue
        number += 1
        args, start, body, flags = tokens
        start += col
        out.append(new_instruction(
            upper, args, new_span(name, number, col, number, col + len(original)), flags, (),
            keyword, original, comments, (),
            new_span(name, number, start, number, start + len(body)), (),
        ))
        comments = ()
        pos += len(indent) + len(original) + 1
    return tuple(out)


def _several_lines(
    match: re.Match[str], where: _Where, upper: str, comments: tuple[str, ...],
    env: tuple[Callable[[str, int], re.Match[str] | None] | None, str],
) -> tuple[Instruction, int, int] | None:
    """``scan_lines``'s case of a line (``match``) that opens a heredoc or
    ends with the escape character or a blank: the node, the index of the
    next line and its offset, when the instruction has one of the shapes
    ``_HEREDOC`` or the block expression (``env``: its ``match``, None for
    non-ASCII text, and the characters a continued line ends with) take."""
    block, last_chars = env
    text, original, rest = match.string, match.group(3), match.group(5)
    if rest[0] == "[" or rest[0] == "-":
        return None
    if "<<" in original:
        if upper not in _HEREDOC_KEYWORDS or original[-1] in last_chars:
            return None
        found = _HEREDOC.match(text, match.start(5))
        if found is None:
            return None
        node, number = _heredoc_node(match, found, where, upper, comments)
        return node, number, found.end() + 1
    if block is None or (found := block(text, match.start(3))) is None or "<<" in found.group():
        return None
    head = upper, match.group(4), len(original) - len(rest)
    block_node, number = _block_node(found, where, head, comments)
    return None if block_node is None else (block_node, number, found.end() + 1)


# The usual spellings of the keywords, to their (shared) upper-case strings.
_SPELLINGS = {
    spelling: keyword
    for keyword in FAST_KEYWORDS
    for spelling in (keyword, keyword.lower(), keyword.capitalize())
}
# A one-line instruction's arguments, their offset and text, and its flags.
_Tokens = tuple[ExecForm | ShellForm, int, str, tuple[Flag, ...]]
# File, line and column of an instruction's first character.
_Where = tuple[str, int, int]


def _block_node(
    found: re.Match[str], where: _Where, head: tuple[str, str, int], comments: tuple[str, ...]
) -> tuple[Instruction | None, int]:
    """The node for a continuation block ``_block_pattern`` matched (from
    the keyword on; ``head`` is the keyword upper-cased and as written, and
    the offset of the arguments), and the 0-based index of the line after
    it; None (and the first line's index) when the first line holds no
    argument."""
    name, row, col = where
    upper, keyword, start = head
    first, middle, last = found.group(1, 2, 3)
    if start >= len(first):
        return None, row - 1
    parts = [first]
    comment_lines: list[int] = []
    end_row = row
    if middle:
        text = found.string
        for piece in _MIDDLE_LINE[found.re].finditer(text, found.start(2), found.end(2)):
            end_row += 1
            content = piece.group(1)
            if content is None:
                comment_lines.append(end_row)
            else:
                parts.append(content)
    end_row += 1
    parts.append(last)
    joined = "".join(parts)
    end_col = len(last) + 1
    return new_instruction(
        upper, new_shell_form(joined[start:]), new_span(name, row, col, end_row, end_col), (), (),
        keyword, joined, comments, (), new_span(name, row, col + start, end_row, end_col),
        tuple(comment_lines),
    ), end_row


def _heredoc_node(
    match: re.Match[str], found: re.Match[str], where: _Where, upper: str,
    comments: tuple[str, ...],
) -> tuple[Instruction, int]:
    """The node for a one-line instruction with one heredoc (``match`` the
    scan's match of its line, ``found`` the ``_HEREDOC`` match from its
    arguments on), and the 0-based index of the line after the terminator."""
    name, row, col = where
    opener, chomp, quote, body, terminator = found.group(1, 2, 3, 5, 6)
    end_row = row + body.count("\n") + 1
    end_col = len(terminator) + 1
    if chomp:
        body = _LEADING_TABS.sub("", body)
    at = col + found.start(1) - match.start(3)
    heredoc = new_heredoc(
        found.group(4), body,
        not quote, chomp is not None, new_span(name, row + 1, 1, end_row, end_col),
        None, new_span(name, row, at, row, at + len(opener)),
    )
    original, rest = match.group(3, 5)
    start = col + len(original) - len(rest)
    return new_instruction(
        upper, new_shell_form(rest), new_span(name, row, col, end_row, end_col), (), (heredoc,),
        match.group(4), original, comments, (), new_span(name, row, start, row, start + len(rest)),
        (),
    ), end_row


# RUN, COPY or ADD arguments (from their first character) with exactly one
# heredoc opener, words without quotes, backslashes or "<" around it, then the
# body and the terminator line. Groups: 1 the opener word, 2 "-" for
# "<<-", 3 the quote, 4 the name, 5 the body, 6 the terminator line.
_HEREDOC = re.compile(
    r"""(?![-\[])(?:[^\s<'"\\]++[ \t]++)*+(<<(-)?(['"]?)([A-Za-z_][A-Za-z0-9_]*+)\3)"""
    r"""(?:[ \t]++[^\s<'"\\]++)*+\n((?:[^\n]*+\n)*?)((?(2)\t*+)\4)(?=\n|\Z)"""
)
_HEREDOC_KEYWORDS = frozenset({"ADD", "COPY", "RUN"})
_LEADING_TABS = re.compile(r"(?m)^\t+")
# Blanks that str.lstrip() removes in ASCII text, apart from "\n".
_ASCII_BLANKS = "[ \\t\\v\\f\\r\\x1c-\\x1f]"
# The middle-line expression of each block expression.
_MIDDLE_LINE: dict[re.Pattern[str], re.Pattern[str]] = {}


@functools.lru_cache(maxsize=4)
def _block_pattern(escape: str) -> re.Pattern[str]:
    """A continuation block of ASCII text, from its keyword on: group 1 the
    first line without its escape character (and the blanks after it),
    2 the middle lines (continued lines and comment lines, each with its
    "\\n"), 3 the final line; the block ends at the end of a line.

    Prelex's rules (``Reader._assemble``) restricted to the plain shapes: a
    line continues when it ends with the escape character (then blanks) not
    preceded by another; a line whose first non-blank is ``#`` is a comment
    line, removed; a blank line, a final line ending with a blank or the
    escape character, or the end of the text inside the block does not
    match, and the caller goes the general way.
    """
    e = re.escape(escape)
    middle = f"(?>{_ASCII_BLANKS}*+#[^\\n]*+\\n|(%s(?:[^\\n]*[^\\n{e}])?){e}[ \\t]*+\\n)"
    pattern = re.compile(
        f"([^\\n]*[^\\n{e}]){e}[ \\t]*+\\n({middle % '?:'}*+)"
        f"({_ASCII_BLANKS}*+(?:[^\\s#][^\\n]*[^\\s{e}]|[^\\s#{e}]))(?=\\n|\\Z)"
    )
    _MIDDLE_LINE[pattern] = re.compile(middle % '')
    return pattern


def _tokens(
    original: str, keyword: str, rest: str, ascii_only: bool, env: tuple[_Where, Grammar]
) -> _Tokens | None:
    """``scan_lines``'s case of a line whose arguments (``rest``) start with
    ``[`` or ``-`` (``env`` holds file, line and column of ``original``, and
    the grammar); None to leave the line to the general way."""
    where, grammar = env
    if rest[0] == "[" and ascii_only and (array := _EXEC_SIMPLE.fullmatch(rest)):
        values = tuple(_JSON_STRING.findall(array.group(1)))
        return new_exec_form(values), len(original) - len(rest), rest, ()
    one = _ONE_FLAG.match(original, len(keyword))
    if one is not None:
        return _one_flag(one, where)
    simple = _FLAGS_SIMPLE.match(original, len(keyword))
    if simple is not None and simple.end() == len(original):
        return _simple_flags(original, simple, where)
    match = grammar.line.match(original)
    if match is None:
        return None
    flag_text, exec_text, body = match.group(2, 3, 4)
    if body is not None:
        start = match.start(4)
        if body[-1] in GO_SPACE:
            body = body.rstrip(GO_SPACE)
        if body[0] == "[" and keyword.upper() in _JSON_KEYWORDS:
            return None
        args: ExecForm | ShellForm = new_shell_form(body)
    elif exec_text is not None and ascii_only and "\\" not in exec_text:
        body, start = exec_text, match.start(3)
        values = tuple(_JSON_STRING.findall(body))
        if not values:
            return None
        args = new_exec_form(values)
    else:
        return None
    flags: tuple[Flag, ...] = ()
    if flag_text:
        name, row, col = where
        flags = tuple([
            line_flag(f.group(1), name, row, col + f.start(1))
            for f in grammar.flag.finditer(original, 0, match.end(2))
        ])
    return args, start, body, flags


def _comments(reader: Reader, first: int, stop: int, comments: tuple[str, ...]) -> tuple[str, ...]:
    """The comments before the next instruction after lines ``first:stop``
    (blank or comment lines) are read."""
    while first < stop:
        _, first, comments = reader.next_item(first, comments)
    return comments


def _general(
    reader: Reader, at: tuple[int, int], comments: tuple[str, ...], out: list[Instruction],
    grammar: Grammar,
) -> tuple[int, int, tuple[str, ...]]:
    """Read the instruction starting at line ``at[0]`` (offset ``at[1]``)
    the general way, append its node to ``out``; returns the next line, its
    offset and the comments."""
    first, pos = at
    item, number, comments = reader.next_item(first, comments)
    if item is not None:
        line = item if isinstance(item, LogicalLine) else simple_line(item)
        out += grammar.parse_lines((line,), reader.origin.file)
    pos += sum(map(len, reader.lines[first:number])) + number - first
    return number, pos, comments


def _one_flag(match: re.Match[str], where: _Where) -> _Tokens:
    """``_tokens`` for the commonest shape, one plain flag (``_ONE_FLAG``)."""
    name, row, col = where
    word, flag, equals, value, body = match.groups()
    start = match.start(5)
    if body[-1] in GO_SPACE:
        body = body.rstrip(GO_SPACE)
    at = col + match.start(1)
    span = new_span(name, row, at, row, at + len(word))
    node = new_flag(flag, value if equals else None, span, word)
    return new_shell_form(body), start, body, (node,)


def _simple_flags(original: str, match: re.Match[str], where: _Where) -> _Tokens:
    """``_tokens`` for flags without quotes, backslashes or odd blanks,
    followed by a shell-form payload (``_FLAGS_SIMPLE``)."""
    name, row, col = where
    body = match.group(2)
    start = match.start(2)
    if body[-1] in GO_SPACE:
        body = body.rstrip(GO_SPACE)
    flags = []
    for flag in _FLAG_WORD.finditer(original, match.start(1), match.end(1)):
        word, key, equals, value = flag.groups()
        at = col + flag.start(1)
        span = new_span(name, row, at, row, at + len(word))
        flags.append(new_flag(key, value if equals else None, span, word))
    return new_shell_form(body), start, body, tuple(flags)


# FLAG+ then REST, in the common shape: flag words with no quote, backslash
# or Unicode blank, a payload starting with neither "-" nor "[" nor a blank
# (so no FLAG, _DASHDASH, _TRAIL or JSON_ARRAY can take it); then the
# grammar's tokens are exactly these (test_scan_path_equals_lark).
_FLAGS_SIMPLE = re.compile(
    r"((?:[ \t\v\f\r]++--[^\s\"'\\]++)++)[ \t\v\f\r]++([^\s\[\-][^\n]*+)"
)
# One flag word of _FLAGS_SIMPLE taken apart: 1 the word, 2 the name, 3 "="
# if it has a value, 4 the value.
_FLAG_WORD = re.compile(r"[ \t\v\f\r]++(--([^\s\"'\\=]*+)(?:(=)([^\s\"'\\]*+))?)")
# _FLAGS_SIMPLE with exactly one flag, taken apart: 1 the flag word, 2 its
# name, 3 "=" if it has a value, 4 the value, 5 the payload.
_ONE_FLAG = re.compile(
    r"[ \t\v\f\r]++(--(?=[^\s\"'\\])([^\s\"'\\=]*+)(?:(=)([^\s\"'\\]*+))?)"
    r"[ \t\v\f\r]++([^\s\[\-][^\n]*+)"
)
# A JSON_ARRAY token of plain strings (no escapes), with nothing after it.
_EXEC_SIMPLE = re.compile(
    r'\[[ \t\r]*+("[^"\\\x00-\x1f]*+"(?:[ \t\r]*+,[ \t\r]*+"[^"\\\x00-\x1f]*+")*+)[ \t\r]*+\]'
)
# Instructions whose JSON form must be an array of strings: a shell-form
# payload starting with "[" goes the general way, which checks it.
_JSON_KEYWORDS = frozenset({"ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"})
# The strings of a JSON_ARRAY token holding no backslash: then each is literal.
_JSON_STRING = re.compile(r'"([^"]*)"')
