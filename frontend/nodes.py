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
from typing import Any

from solver.source import SourceFile, Span

__all__ = [
    "Directive",
    "Dockerfile",
    "ExecForm",
    "Flag",
    "Form",
    "Heredoc",
    "Instruction",
    "KEYWORDS",
    "ShellForm",
    "new_exec_form",
    "new_flag",
    "new_heredoc",
    "new_instruction",
    "new_shell_form",
    "span_json",
]


def span_json(span: Span | None) -> list[int] | None:
    """A span as ``[line, col, end_line, end_col]`` (the file is given once per document)."""
    if span is None:
        return None
    return [span.line, span.col, span.end_line, span.end_col]


# Every instruction of the Dockerfile reference, upper-cased.
KEYWORDS = (
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
)


class Form(Enum):
    SHELL = "shell"
    EXEC = "exec"


@dataclass(frozen=True, slots=True)
class Directive:
    """A parser directive such as ``# escape=`` (name lower-cased)."""

    name: str
    value: str
    span: Span

    def to_json(self) -> dict[str, object]:
        """The ``pybuild debug parse --json`` shape (docs/parse-json.md)."""
        return {"name": self.name, "value": self.value, "span": span_json(self.span)}


@dataclass(frozen=True, slots=True)
class Flag:
    """``--name=value`` (``value`` is None for a bare ``--name``); raw, unexpanded.

    As in BuildKit, quotes are removed and backslash escapes resolved when the
    flag word is read (``--label="a b"`` gives value ``a b``); ``text`` is the
    flag word exactly as written.
    """

    name: str
    value: str | None
    span: Span
    text: str = ""

    def to_json(self) -> dict[str, object]:
        """The ``pybuild debug parse --json`` shape (docs/parse-json.md)."""
        return {
            "name": self.name,
            "value": self.value,
            "text": self.text,
            "span": span_json(self.span),
        }


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A heredoc body attached to an instruction.

    ``name`` is the delimiter word, ``expand`` is False for quoted delimiters
    (``<<'EOF'``/``<<"EOF"``), ``chomp`` is True for ``<<-`` (leading tabs were
    stripped from every body line already). ``body`` includes the final newline.
    ``span`` covers the body and the terminator line; ``opener_span`` the
    ``<<EOF`` word in the instruction; ``fd`` is the file descriptor written
    before ``<<`` (``3<<EOF``), None when absent.
    """

    name: str
    body: str
    expand: bool
    chomp: bool
    span: Span
    fd: int | None = None
    opener_span: Span | None = None

    def to_json(self) -> dict[str, object]:
        """The ``pybuild debug parse --json`` shape (docs/parse-json.md)."""
        return {
            "name": self.name,
            "body": self.body,
            "expand": self.expand,
            "chomp": self.chomp,
            "fd": self.fd,
            "span": span_json(self.span),
            "opener_span": span_json(self.opener_span),
        }


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

    ``comments`` are the comment lines just before the instruction (BuildKit's
    ``PrevComment``; an empty ``#`` line resets them); ``comment_lines`` are the
    line numbers of comment lines removed from inside the continuation;
    ``empty_continuation_lines`` the blank lines skipped inside it. ``inner``
    is the trigger instruction of an ``ONBUILD`` (None otherwise).
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
    comment_lines: tuple[int, ...] = ()
    inner: Instruction | None = None

    @property
    def form(self) -> Form:
        return Form.EXEC if isinstance(self.args, ExecForm) else Form.SHELL

    def to_json(self) -> dict[str, object]:
        """The ``pybuild debug parse --json`` shape (docs/parse-json.md)."""
        args: object = list(self.args.args) if isinstance(self.args, ExecForm) else self.args.text
        out: dict[str, object] = {
            "keyword": self.keyword,
            "keyword_text": self.keyword_text,
            "span": span_json(self.span),
            "flags": [f.to_json() for f in self.flags],
            "form": self.form.value,
            "args": args,
            "args_span": span_json(self.args_span),
            "heredocs": [h.to_json() for h in self.heredocs],
            "original": self.original,
            "comments": list(self.comments),
            "comment_lines": list(self.comment_lines),
            "empty_continuation_lines": list(self.empty_continuation_lines),
        }
        if self.inner is not None:
            out["inner"] = self.inner.to_json()
        return out


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

    def to_json(self) -> dict[str, object]:
        """The ``pybuild debug parse --json`` document (docs/parse-json.md)."""
        return {
            "file": self.source.name if self.source is not None else None,
            "escape": self.escape,
            "directives": [d.to_json() for d in self.directives],
            "instructions": [i.to_json() for i in self.instructions],
        }


# --- fast construction for the parser ------------------------------------------------
#
# A frozen dataclass's ``__init__`` stores each field through
# ``object.__setattr__``; for the parser, which makes one Instruction, two
# Spans and a ShellForm per line, that was most of a parse. The ``new_*``
# functions fill a twin class with the same ``__slots__`` (plain slot
# stores), then assign ``__class__``, which CPython allows between identical
# layouts. The result is an ordinary instance: same type, equality, hash,
# repr and immutability as the constructor's (tests/frontend/test_nodes.py).

_new = object.__new__


def _fields_of(cls: type) -> type:
    """A class with ``cls``'s slot layout and no frozen ``__setattr__``."""
    return type(f"_{cls.__name__}Fields", (), {"__slots__": cls.__dict__["__slots__"]})


_ExecFormFields = _fields_of(ExecForm)
_FlagFields = _fields_of(Flag)
_HeredocFields = _fields_of(Heredoc)
_InstructionFields = _fields_of(Instruction)
_ShellFormFields = _fields_of(ShellForm)


def new_shell_form(text: str) -> ShellForm:
    """Exactly ``ShellForm(text)``, built faster."""
    node: Any = _new(_ShellFormFields)
    node.text = text
    node.__class__ = ShellForm
    return node  # type: ignore[no-any-return]


def new_exec_form(args: tuple[str, ...]) -> ExecForm:
    """Exactly ``ExecForm(args)``, built faster."""
    node: Any = _new(_ExecFormFields)
    node.args = args
    node.__class__ = ExecForm
    return node  # type: ignore[no-any-return]


def new_flag(name: str, value: str | None, span: Span, text: str) -> Flag:
    """Exactly ``Flag(name, value, span, text)``, built faster."""
    node: Any = _new(_FlagFields)
    node.name = name
    node.value = value
    node.span = span
    node.text = text
    node.__class__ = Flag
    return node  # type: ignore[no-any-return]


def new_heredoc(  # the dataclass's own fields, in order
    name: str,
    body: str,
    expand: bool,
    chomp: bool,
    span: Span,
    fd: int | None,
    opener_span: Span | None,
) -> Heredoc:
    """Exactly ``Heredoc(...)`` with every field given positionally, built faster."""
    node: Any = _new(_HeredocFields)
    node.name = name
    node.body = body
    node.expand = expand
    node.chomp = chomp
    node.span = span
    node.fd = fd
    node.opener_span = opener_span
    node.__class__ = Heredoc
    return node  # type: ignore[no-any-return]


def new_instruction(  # the dataclass's own fields, in order
    keyword: str,
    args: ExecForm | ShellForm,
    span: Span,
    flags: tuple[Flag, ...],
    heredocs: tuple[Heredoc, ...],
    keyword_text: str,
    original: str,
    comments: tuple[str, ...],
    empty_continuation_lines: tuple[int, ...],
    args_span: Span | None,
    comment_lines: tuple[int, ...],
    inner: Instruction | None = None,
) -> Instruction:
    """Exactly ``Instruction(...)`` with every field given positionally, built faster."""
    node: Any = _new(_InstructionFields)
    node.keyword = keyword
    node.args = args
    node.span = span
    node.flags = flags
    node.heredocs = heredocs
    node.keyword_text = keyword_text
    node.original = original
    node.comments = comments
    node.empty_continuation_lines = empty_continuation_lines
    node.args_span = args_span
    node.comment_lines = comment_lines
    node.inner = inner
    node.__class__ = Instruction
    return node  # type: ignore[no-any-return]
