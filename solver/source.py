"""Source positions shared by frontend errors, op metadata and solve errors.

May import: stdlib only. It lives at the bottom of the tree so that frontend,
solver and builder share one position type without solver importing frontend.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceFile", "Span"]


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


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A named source text (a Dockerfile) with the sha256 of its bytes."""

    name: str
    text: str
    digest: str

    def lines(self) -> list[str]:
        return self.text.splitlines()
