"""History ``created_by`` text exactly as BuildKit writes it (Go ``%q``/``%v`` formatting).

May import: frontend.imageconfig, stdlib.
"""

from __future__ import annotations

import json

from frontend.imageconfig import HealthConfig

__all__ = [
    "go_duration",
    "go_list",
    "go_port_set",
    "go_quote",
    "go_quoted_list",
    "healthcheck_text",
    "run_text",
]


def go_quote(text: str) -> str:
    """Go ``%q`` of a string (a double-quoted, escaped literal)."""
    return json.dumps(text, ensure_ascii=False)


def go_quoted_list(items: tuple[str, ...]) -> str:
    """Go ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(i) for i in items) + "]"


def go_list(items: tuple[str, ...]) -> str:
    """Go ``%v`` of a ``[]string``: ``[a b]``."""
    return "[" + " ".join(items) + "]"


def go_port_set(ports: tuple[str, ...]) -> str:
    """Go ``%v`` of a ``nat.PortSet`` (a map, printed with sorted keys): ``map[80/tcp:{}]``."""
    return "map[" + " ".join(f"{p}:{{}}" for p in sorted(set(ports))) + "]"


def _go_rune(value: int) -> str:
    if 0x20 <= value < 0x7F and chr(value) not in "'\\":
        return f"'{chr(value)}'"
    return f"'\\x{value:02x}'" if value < 0x100 else f"'\\u{value:04x}'"


_UNITS = ((3_600_000_000_000, "h"), (60_000_000_000, "m"))


def go_duration(ns: int) -> str:
    """Go ``time.Duration.String()``: ``1m30s``, ``500ms``, ``0s``."""
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for size, unit in ((1_000_000, "ms"), (1_000, "µs"), (1, "ns")):
            if ns >= size:
                return _trim(ns / size) + unit
    out = ""
    rest = ns
    for size, unit in _UNITS:
        if rest >= size or out:
            out += f"{rest // size}{unit}"
            rest %= size
    return out + _trim(rest / 1_000_000_000) + "s"


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def healthcheck_text(health: HealthConfig) -> str:
    """``HEALTHCHECK %q`` of BuildKit's ``*HealthConfig``."""
    parts = [
        go_quoted_list(health.test),
        *(go_quote(go_duration(d or 0)) for d in (
            health.interval, health.timeout, health.start_period, health.start_interval)),
        _go_rune(health.retries or 0),
    ]
    return "HEALTHCHECK &{" + " ".join(parts) + "}"


def run_text(args: tuple[str, ...], build_args: tuple[tuple[str, str], ...]) -> str:
    """BuildKit ``runCommandString``: ``|2 A=1 B=2 /bin/sh -c make`` when ARGs are in scope."""
    command = " ".join(args)
    if build_args:
        pairs = " ".join(f"{k}={v}" for k, v in build_args)
        return f"|{len(build_args)} {pairs} {command}"
    return command
