"""A small, safe subset of Go's text/template for ``--format``, as docker's CLI uses it.

May import: stdlib, builder.errors.

Supported: literal text; ``{{.Field}}`` and ``{{.A.B}}`` lookups in a mapping;
``{{.}}``; the functions ``json``, ``upper``, ``lower``, ``title``, ``join X SEP``,
``index X KEY`` and the pipe form ``{{.A | json}}``; a leading ``table`` that
adds a header row and aligns columns like docker's tabwriter; ``\\t``/``\\n``
escapes written as two characters (docker's ``NewReplacer``). Nothing is
evaluated as Python: a template is parsed once into typed parts and rendered
against plain values. Parse errors raise ``UsageError`` naming the column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from builder.errors import UsageError

__all__ = ["Action", "Template", "align_table"]

_ACTION_RE = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s|]+|\|')
_FUNCS = {"json", "upper", "lower", "title", "join", "index", "print"}


@dataclass(frozen=True)
class Action:
    """One ``{{…}}``: a function (or ``""`` for a plain lookup) and its arguments.

    Arguments are field paths (``("Labels",)`` for ``.Labels``, ``()`` for ``.``)
    or string literals (``str``).
    """

    func: str
    args: tuple[tuple[str, ...] | str, ...]
    column: int


Part = str | Action


def _arg(token: str, column: int) -> tuple[str, ...] | str:
    if token.startswith('"'):
        try:
            value = json.loads(token)
        except json.JSONDecodeError:
            raise UsageError(
                f"invalid --format template at column {column}: bad string {token}"
            ) from None
        if not isinstance(value, str):
            raise UsageError(f"invalid --format template at column {column}: bad string")
        return value
    if token == ".":
        return ()
    if not token.startswith(".") or not all(p.isidentifier() for p in token[1:].split(".")):
        raise UsageError(
            f"invalid --format template at column {column}: unexpected {token!r}",
            hint="fields are written like {{.Repository}}; functions: "
            + ", ".join(sorted(_FUNCS)),
        )
    return tuple(token[1:].split("."))


def _action(body: str, column: int) -> Action:
    tokens = _TOKEN_RE.findall(body)
    if not tokens:
        raise UsageError(f"invalid --format template at column {column}: empty action")
    if "|" in tokens:  # ``X | f`` → ``f X``
        if len(tokens) != 3 or tokens[1] != "|" or tokens[2] not in _FUNCS:
            raise UsageError(f"invalid --format template at column {column}: bad pipeline")
        tokens = [tokens[2], tokens[0]]
    func = ""
    if tokens[0] in _FUNCS:
        func, tokens = tokens[0], tokens[1:]
        want = 2 if func in ("join", "index") else 1
        if len(tokens) != want:
            raise UsageError(
                f"invalid --format template at column {column}: "
                f"{func} takes {want} argument{'s' if want > 1 else ''}"
            )
    elif len(tokens) != 1:
        raise UsageError(
            f"invalid --format template at column {column}: function {tokens[0]!r} not defined"
        )
    return Action(func, tuple(_arg(t, column) for t in tokens), column)


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if isinstance(value, Mapping):
            value = value.get(name)
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        inner = " ".join(f"{k}:{_text(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_text(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Template:
    """A parsed ``--format`` template; build it with ``Template.parse``."""

    parts: tuple[Part, ...]
    table: bool

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse ``text`` (docker's ``--format`` syntax, see the module docstring).

        Raises:
            UsageError: the template is malformed or calls an unknown function.
        """
        table = text.startswith("table")
        body = text[5:] if table else text
        body = body.strip(" ") if table else body
        body = body.replace("\\t", "\t").replace("\\n", "\n")
        offset = len(text) - len(body) if table else 0
        parts: list[Part] = []
        pos = 0
        for match in _ACTION_RE.finditer(body):
            if match.start() > pos:
                parts.append(body[pos : match.start()])
            parts.append(_action(match.group(1), offset + match.start() + 1))
            pos = match.end()
        rest = body[pos:]
        if "{{" in rest or "}}" in rest:
            column = offset + pos + max(rest.find("{{"), rest.find("}}")) + 1
            raise UsageError(f"invalid --format template at column {column}: unclosed action")
        if rest:
            parts.append(rest)
        return cls(tuple(parts), table)

    def render(self, data: Mapping[str, Any]) -> str:
        """Render against ``data`` (a mapping of field name to plain value).

        Raises:
            UsageError: ``index`` or ``join`` were given a value of the wrong kind.
        """
        return "".join(p if isinstance(p, str) else _call(p, data) for p in self.parts)

    def header(self, names: Mapping[str, str]) -> str:
        """The header row of a ``table`` template: each action replaced by its column name."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            path = next((a for a in part.args if isinstance(a, tuple)), ())
            key = ".".join(path)
            out.append(names.get(key, key.upper()))
        return "".join(out)


def _call(action: Action, data: Mapping[str, Any]) -> str:
    values = [a if isinstance(a, str) else _lookup(data, a) for a in action.args]
    match action.func:
        case "":
            return _text(values[0])
        case "json":
            return json.dumps(values[0], separators=(",", ":"), ensure_ascii=False)
        case "upper":
            return _text(values[0]).upper()
        case "lower":
            return _text(values[0]).lower()
        case "title":
            return _text(values[0]).title()
        case "print":
            return _text(values[0])
        case "join":
            if not isinstance(values[0], list | tuple):
                raise UsageError(f"--format column {action.column}: join needs a list")
            return str(values[1]).join(_text(v) for v in values[0])
        case _:  # index
            if not isinstance(values[0], Mapping):
                raise UsageError(f"--format column {action.column}: index needs a map")
            return _text(values[0].get(str(values[1]), ""))


def align_table(rows: Sequence[str], minwidth: int = 10, padding: int = 3) -> str:
    """Align tab-separated ``rows`` like Go's tabwriter as docker configures it.

    Every cell but the last of a row is padded to its column's width, which is
    the widest cell plus ``padding`` and at least ``minwidth``.
    """
    split = [row.split("\t") for row in rows]
    widths: dict[int, int] = {}
    for cells in split:
        for i, cell in enumerate(cells[:-1]):
            widths[i] = max(widths.get(i, minwidth), len(cell) + padding)
    lines = []
    for cells in split:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])]
        lines.append("".join(padded) + cells[-1])
    return "\n".join(lines)
