"""Frontend errors, each with a source position and a hint, and their rendering.

May import: solver.source.

The error tree::

    FrontendError                  anything wrong with a Dockerfile (exit code 2)
    ├── DockerfileSyntaxError      the text does not parse (directives, continuations, heredocs)
    ├── InstructionError           an instruction parses but its arguments or flags are wrong
    │   └── ExpansionError         a ${VAR…} expression is malformed or ${VAR:?msg} fired
    ├── UnknownStageError          --from / FROM / --target name no stage or image matches
    └── StageCycleError            stages depend on each other in a cycle

``render(source)`` gives what the CLI prints::

    Dockerfile:12:5: COPY --from=bulid: no stage named "bulid"
        11 | FROM base
     >>> 12 | COPY --from=bulid /out /out
           |      ^^^^^^^^^^^^
    hint: stages are: base, build
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.source import Span

__all__ = [
    "Diagnostic",
    "DockerfileSyntaxError",
    "ExpansionError",
    "FrontendError",
    "InstructionError",
    "StageCycleError",
    "UnknownStageError",
    "printable",
    "render_excerpt",
]


class FrontendError(Exception):
    """A Dockerfile problem the user can fix; carries a span and an optional hint."""

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.source_text: str | None = None  # set by the parse entry point, for render()

    def with_span(self, span: Span) -> FrontendError:
        """Attach ``span`` if the error has none yet (the choke point in
        ``frontend.instructions`` does this); returns self."""
        if self.span is None:
            self.span = span
        return self

    def header(self) -> str:
        if self.span is None:
            return self.message
        return f"{self.span.file}:{self.span.line}:{self.span.col}: {self.message}"

    def render(self, source: str | None = None) -> str:
        """The one-line header, then (given the source text) an excerpt with a
        caret under the span, then ``hint: …``."""
        parts = [self.header()]
        source = source if source is not None else self.source_text
        if source is not None and self.span is not None:
            parts.append(render_excerpt(source, self.span))
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return printable("\n".join(parts))

    def __str__(self) -> str:
        return self.header()


class DockerfileSyntaxError(FrontendError):
    """The Dockerfile text does not parse."""


class InstructionError(FrontendError):
    """An instruction's arguments or flags are invalid."""


class ExpansionError(InstructionError):
    """A variable expansion is malformed, or ``${VAR:?message}`` fired."""


class UnknownStageError(FrontendError):
    """A stage reference matches no stage."""


class StageCycleError(FrontendError):
    """Stages depend on each other in a cycle."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A build-check finding (a warning, or an error under ``# check=error=true``)."""

    rule: str
    message: str
    span: Span | None
    url: str = ""
    is_error: bool = False

    def header(self) -> str:
        where = f"{self.span.file}:{self.span.line}:{self.span.col}: " if self.span else ""
        level = "error" if self.is_error else "warning"
        return f"{where}{level}: {self.rule}: {self.message}"

    def render(self, source: str | None = None) -> str:
        parts = [self.header()]
        if source is not None and self.span is not None:
            parts.append(render_excerpt(source, self.span))
        if self.url:
            parts.append(f"see {self.url}")
        return printable("\n".join(parts))


def printable(text: str) -> str:
    """``text`` with control characters (but newlines and tabs) shown as ``?``, so
    a hostile Dockerfile cannot send escape sequences to the user's terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)


def render_excerpt(source: str, span: Span, context: int = 2) -> str:
    """Up to ``context`` lines either side of ``span.line``, the span's first
    line marked ``>>>`` and underlined with carets."""
    # split on "\n" only, as the parser does (str.splitlines also breaks on \x0b, \u2028 …)
    lines = [line.removesuffix("\r") for line in source.removesuffix("\n").split("\n")]
    idx = max(1, min(span.line, len(lines)))
    first = max(1, idx - context)
    last = min(len(lines), idx + context)
    width = len(str(last))
    out: list[str] = []
    for n in range(first, last + 1):
        text = lines[n - 1].replace("\t", " ")
        mark = ">>>" if n == idx else "   "
        out.append(f" {mark} {n:>{width}} | {text}")
        if n == idx:
            line_len = len(text)
            start = max(1, span.col)
            end = span.end_col if span.end_line == span.line else line_len + 1
            end = max(start + 1, min(end, max(line_len + 1, start + 1)))
            out.append(f"     {' ' * width} | {' ' * (start - 1)}{'^' * (end - start)}")
    return "\n".join(out)
