"""Errors the solver raises: a failed vertex mapped back to its Dockerfile lines.

May import: solver.digest, solver.source, stdlib.

    SolverError            base of everything the solver raises on purpose
    ├── SolveError         a vertex failed: its digest, name, spans, cause, log tail
    ├── OpFailed           raised by a Worker for an op that ran and failed (exit code)
    └── CacheCorrupt       the cache index holds a record that cannot be read

A Worker raises ``OpFailed`` (or any exception); the scheduler wraps it into a
``SolveError`` carrying the vertex's spans from ``Definition.metadata`` and the
last lines the step logged. ``exit_code`` is 1, like builder's ``PybuildError``.
"""

from __future__ import annotations

from solver.digest import Digest
from solver.source import Span

__all__ = ["CacheCorrupt", "OpFailed", "SolveError", "SolverError"]


class SolverError(Exception):
    """Base of the solver's errors; shown as ``error: <message>``."""

    exit_code = 1

    def render(self) -> str:
        """What the CLI prints: ``error: <message>``."""
        return f"error: {self}"


class OpFailed(SolverError):
    """An op ran and failed; ``exit_status`` is the process's status when it had one."""

    def __init__(self, message: str, exit_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


class SolveError(SolverError):
    """Vertex ``vertex`` (shown as ``name``) failed with ``cause``."""

    def __init__(
        self,
        vertex: Digest,
        name: str,
        spans: tuple[Span, ...],
        cause: BaseException,
        log_tail: tuple[str, ...] = (),
    ) -> None:
        self.vertex = vertex
        self.name = name or vertex.hex[:12]
        self.spans = spans
        self.cause = cause
        self.log_tail = log_tail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.spans[0]}: " if self.spans else ""
        reason = str(self.cause) or type(self.cause).__name__
        return f"{where}{self.name}: {reason}"

    @property
    def exit_status(self) -> int | None:
        return self.cause.exit_status if isinstance(self.cause, OpFailed) else None

    def render(self) -> str:
        """``error: Dockerfile:12:1: [build 2/3] RUN make: exit code 2`` plus the log tail."""
        lines = [f"error: {self.message}"]
        if self.log_tail:
            lines.append("last log lines:")
            lines += [f"  {line}" for line in self.log_tail]
        return "\n".join(lines)


class CacheCorrupt(SolverError):
    """A cache record at ``key`` is unreadable; the caller drops it and misses."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"cache record {key}: {detail}")
        self.key = key
        self.detail = detail
