"""Source positions shared by frontend errors, op metadata and solve errors.

May import: stdlib only. It lives at the bottom of the tree so that frontend,
solver and builder share one position type without solver importing frontend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SourceFile", "Span", "new_span"]


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a source file. Lines and columns are 1-based; ``end_col`` is
    exclusive (the column just after the last character)."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, file: str, line: int, col: int = 1) -> Span:
        """A one-character span at ``line:col``."""
        return cls(file, line, col, line, col + 1)

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
        }

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# Span's slot layout without its frozen ``__setattr__``: ``new_span`` fills
# one of these with plain slot stores, then turns it into a Span by
# assigning ``__class__`` (allowed because the two layouts are identical).
_SpanFields = type("_SpanFields", (), {"__slots__": Span.__slots__})
_new = object.__new__


def new_span(file: str, line: int, col: int, end_line: int, end_col: int) -> Span:
    """Exactly ``Span(file, line, col, end_line, end_col)``, built about three
    times faster (a frozen dataclass's ``__init__`` goes through
    ``object.__setattr__`` once per field); for parsers that make one per token.
    """
    span: Any = _new(_SpanFields)
    span.file = file
    span.line = line
    span.col = col
    span.end_line = end_line
    span.end_col = end_col
    span.__class__ = Span
    return span  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A named source text (a Dockerfile) with the sha256 of its bytes."""

    name: str
    text: str
    digest: str

    def lines(self) -> list[str]:
        return self.text.splitlines()
