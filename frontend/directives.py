"""Parser directives at the top of a Dockerfile: ``# syntax=``, ``# escape=``, ``# check=``.

May import: frontend.errors, frontend.nodes, solver.source.

BuildKit's rules (``frontend/dockerfile/parser/directives.go``), exactly:

- directives are read only from the first lines, before any comment, blank
  line or instruction; the first line that is not a known directive ends the
  block for good (after it, ``# escape=`` is an ordinary comment);
- the key is case-insensitive, whitespace is allowed around ``=``, the value
  is kept as written (case-sensitive), trimmed;
- a key that is not ``syntax``, ``escape`` or ``check`` makes the line a
  plain comment and ends the block;
- a directive given twice is an error, and so is an escape other than
  ``\\`` or a backtick.

The escape character is fixed here, before anything else is read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from frontend.errors import DockerfileSyntaxError
from frontend.nodes import Directive
from solver.source import Span

__all__ = ["DIRECTIVE_NAMES", "DirectiveBlock", "parse_directives"]

DIRECTIVE_NAMES = frozenset({"check", "escape", "syntax"})

# Go's RE2 ``\s`` is ASCII [\t\n\f\r ]; Python's would be Unicode, so spell it out.
_DIRECTIVE_RE = re.compile(
    r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$"
)
_ESCAPES = ("\\", "`")


@dataclass(frozen=True, slots=True)
class DirectiveBlock:
    """The directives found, the escape character in force, and how many
    physical lines the block took (0 when there is none)."""

    directives: tuple[Directive, ...] = ()
    escape: str = "\\"
    line_count: int = 0


def parse_directives(lines: Sequence[str], file: str = "Dockerfile") -> DirectiveBlock:
    """Read the directive block from the start of ``lines``.

    Args:
        lines: physical lines without their line endings (BOM already removed).
        file: the file name used in spans.

    Returns:
        The directives, the escape character and the number of lines used.

    Raises:
        DockerfileSyntaxError: a directive is repeated, or ``escape`` has a
            value other than ``\\`` or a backtick.
    """
    found: list[Directive] = []
    escape = "\\"
    count = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.lstrip()
        match = _DIRECTIVE_RE.match(stripped)
        if match is None or match.group(1).lower() not in DIRECTIVE_NAMES:
            break
        indent = len(raw) - len(stripped)
        name = match.group(1).lower()
        key_span = _group_span(file, number, indent, match, 1)
        if any(d.name == name for d in found):
            raise DockerfileSyntaxError(
                f"only one {name} parser directive can be used",
                key_span,
                hint=f"remove the second '# {name}=' line",
            )
        value = match.group(2)
        value_span = _group_span(file, number, indent, match, 2)
        if name == "escape":
            if value not in _ESCAPES:
                raise DockerfileSyntaxError(
                    f"invalid escape token '{value}' does not match ` or \\",
                    value_span,
                    hint="use '# escape=\\' (the default) or '# escape=`'",
                )
            escape = value
        line_span = Span(file, number, indent + 1, number, len(raw) + 1)
        found.append(Directive(name, value, line_span))
        count = number
    return DirectiveBlock(tuple(found), escape, count)


def _group_span(file: str, number: int, indent: int, match: re.Match[str], group: int) -> Span:
    start, end = match.span(group)
    return Span(file, number, indent + start + 1, number, indent + end + 1)
