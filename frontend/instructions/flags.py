"""Typed per-instruction flag specs and their parsing (BuildKit's ``bflag.go``).

May import: frontend.errors, frontend.nodes.

Each instruction declares which ``--flags`` it accepts, of which type and
whether they repeat. ``parse_flags`` turns the raw ``Flag`` nodes into a
``ParsedFlags`` value; an unknown flag is an error pointing at the flag, with
a did-you-mean hint.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum

from frontend.errors import InstructionError
from frontend.nodes import Flag
from solver.source import Span

__all__ = ["FLAG_SPECS", "FlagKind", "FlagSpec", "ParsedFlags", "parse_flags"]


class FlagKind(Enum):
    STRING = "string"
    BOOL = "bool"
    LIST = "list"  # a string flag that may repeat


@dataclass(frozen=True, slots=True)
class FlagSpec:
    name: str
    kind: FlagKind = FlagKind.STRING


def _specs(*items: tuple[str, FlagKind]) -> tuple[FlagSpec, ...]:
    return tuple(FlagSpec(n, k) for n, k in items)


_S, _B, _L = FlagKind.STRING, FlagKind.BOOL, FlagKind.LIST
_COPY_COMMON = (("from", _S), ("chown", _S), ("chmod", _S), ("link", _B), ("exclude", _L))

FLAG_SPECS: dict[str, tuple[FlagSpec, ...]] = {
    "FROM": _specs(("platform", _S)),
    "RUN": _specs(("mount", _L), ("network", _S), ("security", _S), ("device", _L)),
    "COPY": _specs(*_COPY_COMMON, ("parents", _B)),
    "ADD": _specs(
        *_COPY_COMMON, ("checksum", _S), ("keep-git-dir", _B), ("unpack", _B), ("parents", _B)
    ),
    "HEALTHCHECK": _specs(
        ("interval", _S), ("timeout", _S), ("start-period", _S), ("start-interval", _S),
        ("retries", _S),
    ),
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True, slots=True)
class ParsedFlags:
    """Flag values by name (only flags that were given) and their spans."""

    values: tuple[tuple[str, str | bool | tuple[str, ...]], ...] = ()
    spans: tuple[tuple[str, Span], ...] = ()

    def _get(self, name: str) -> str | bool | tuple[str, ...] | None:
        for key, value in self.values:
            if key == name:
                return value
        return None

    def string(self, name: str) -> str | None:
        value = self._get(name)
        return value if isinstance(value, str) else None

    def boolean(self, name: str) -> bool | None:
        value = self._get(name)
        return value if isinstance(value, bool) else None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        return value if isinstance(value, tuple) else ()

    def span(self, name: str) -> Span | None:
        for key, span in self.spans:
            if key == name:
                return span
        return None


def parse_flags(keyword: str, flags: tuple[Flag, ...]) -> ParsedFlags:
    """Check ``flags`` against ``keyword``'s spec and type their values.

    Raises:
        InstructionError: unknown, duplicated, valueless or ill-typed flag.
    """
    specs = {s.name: s for s in FLAG_SPECS.get(keyword, ())}
    values: dict[str, str | bool | tuple[str, ...]] = {}
    spans: dict[str, Span] = {}
    for flag in flags:
        spec = specs.get(flag.name)
        if spec is None:
            raise _unknown(keyword, flag, sorted(specs))
        if spec.kind is not FlagKind.LIST and flag.name in values:
            raise InstructionError(
                f"{keyword}: duplicate flag --{flag.name}", flag.span, "give the flag once"
            )
        values[flag.name] = _value(keyword, spec, flag, values.get(flag.name))
        spans.setdefault(flag.name, flag.span)
    return ParsedFlags(tuple(values.items()), tuple(spans.items()))


def _value(
    keyword: str, spec: FlagSpec, flag: Flag, old: str | bool | tuple[str, ...] | None
) -> str | bool | tuple[str, ...]:
    if spec.kind is FlagKind.BOOL:
        if flag.value is None:
            return True
        text = flag.value.lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise InstructionError(
            f"{keyword}: --{flag.name} expects a boolean, got {flag.value!r}",
            flag.span,
            "use true or false",
        )
    if flag.value is None:
        raise InstructionError(
            f"{keyword}: missing a value on flag --{flag.name}",
            flag.span,
            f"write --{flag.name}=VALUE",
        )
    if spec.kind is FlagKind.LIST:
        return (old if isinstance(old, tuple) else ()) + (flag.value,)
    return flag.value


def _unknown(keyword: str, flag: Flag, known: list[str]) -> InstructionError:
    close = difflib.get_close_matches(flag.name, known, n=1)
    if close:
        hint = f"did you mean --{close[0]}?"
    elif known:
        hint = f"{keyword} accepts: " + ", ".join(f"--{k}" for k in known)
    else:
        hint = f"{keyword} takes no flags"
    return InstructionError(f"{keyword}: unknown flag --{flag.name}", flag.span, hint)
