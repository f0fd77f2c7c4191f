"""Frozen syntax nodes: what the parser produces, one per logical instruction.

May import: solver.source (and frontend.errors).

Argument text stays raw here (continuations joined, comments inside the
continuation removed, no variable expansion): flags are interpreted by
``frontend.instructions.flags`` and expansion happens in ``frontend.compile``
when stage state is known (BuildKit's parser/instructions/shell split).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from solver.source import SourceFile, Span

__all__ = [
    "Directive",
    "Dockerfile",
    "ExecForm",
    "Flag",
    "Form",
    "Heredoc",
    "Instruction",
    "ShellForm",
]


class Form(Enum):
    SHELL = "shell"
    EXEC = "exec"


@dataclass(frozen=True, slots=True)
class Directive:
    """A parser directive such as ``# escape=`` (name lower-cased)."""

    name: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Flag:
    """``--name=value`` (``value`` is None for a bare ``--name``); raw, unexpanded."""

    name: str
    value: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A heredoc body attached to an instruction.

    ``name`` is the delimiter word, ``expand`` is False for quoted delimiters
    (``<<'EOF'``/``<<"EOF"``), ``chomp`` is True for ``<<-`` (leading tabs were
    stripped from every body line already). ``body`` includes the final newline.
    """

    name: str
    body: str
    expand: bool
    chomp: bool
    span: Span


@dataclass(frozen=True, slots=True)
class ExecForm:
    """A valid JSON array of strings: ``["sh", "-c", "x"]``."""

    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShellForm:
    """Everything after the flags, as written (continuations joined)."""

    text: str


@dataclass(frozen=True, slots=True)
class Instruction:
    """One logical instruction.

    ``keyword`` is upper-cased; ``keyword_text`` is as written (for casing
    checks). ``args`` is an ``ExecForm`` when the rest of the line is a valid
    JSON string array, else a ``ShellForm``. ``original`` is the whole logical
    line as written (continuations joined). ``span`` covers the instruction
    from its keyword to the end of its last line (heredoc bodies included).
    """

    keyword: str
    args: ExecForm | ShellForm
    span: Span
    flags: tuple[Flag, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()
    keyword_text: str = ""
    original: str = ""
    comments: tuple[str, ...] = ()
    empty_continuation_lines: tuple[int, ...] = ()
    args_span: Span | None = None

    @property
    def form(self) -> Form:
        return Form.EXEC if isinstance(self.args, ExecForm) else Form.SHELL


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """A parsed Dockerfile: directives, instructions and the escape character."""

    instructions: tuple[Instruction, ...]
    directives: tuple[Directive, ...] = ()
    escape: str = "\\"
    source: SourceFile | None = field(default=None, compare=False)

    def directive(self, name: str) -> Directive | None:
        for d in self.directives:
            if d.name == name:
                return d
        return None
