"""Metadata instructions: ENV LABEL ARG USER WORKDIR EXPOSE VOLUME CMD ENTRYPOINT
SHELL STOPSIGNAL HEALTHCHECK MAINTAINER.

May import: frontend.errors, frontend.nodes, frontend.instructions.{base,flags},
frontend.shellwords.

Values stay raw (quotes included) until compile-time expansion, except what
BuildKit does at parse time: splitting ``k=v`` pairs, the legacy ``ENV k v``
form, JSON forms, and HEALTHCHECK's options and duration parsing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from frontend.errors import InstructionError
from frontend.instructions.base import arg_list, rest_text
from frontend.instructions.flags import ParsedFlags, parse_flags
from frontend.nodes import ExecForm, Instruction, ShellForm
from frontend.shellwords import split_words

__all__ = [
    "Arg", "ArgDecl", "Cmd", "Entrypoint", "Env", "Expose", "Healthcheck", "KeyValue", "Label",
    "Maintainer", "Shell", "StopSignal", "User", "Volume", "Workdir", "parse_duration",
]


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ArgDecl:
    name: str
    default: str | None = None


def _pairs(node: Instruction, escape: str) -> tuple[tuple[KeyValue, ...], bool]:
    """BuildKit ``parseNameVal``: ``k=v …`` pairs, or legacy ``k v…`` (one pair)."""
    text = rest_text(node)
    words = split_words(text, escape)
    if not words:
        raise InstructionError(f"{node.keyword} requires at least one argument")
    if "=" not in words[0]:
        parts = text.split(None, 1)
        if len(parts) < 2:
            raise InstructionError(
                f"{node.keyword} must have two arguments", node.args_span,
                f"write {node.keyword} {parts[0]}=VALUE",
            )
        return (KeyValue(parts[0], parts[1].strip()),), True
    pairs: list[KeyValue] = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise InstructionError(
                f"{node.keyword}: can't find = in {word!r}", node.args_span,
                "every word must be name=value",
            )
        if not key:
            raise InstructionError(f"{node.keyword} names can not be blank", node.args_span)
        pairs.append(KeyValue(key, value))
    return tuple(pairs), False


@dataclass(frozen=True, slots=True)
class Env:
    node: Instruction = field(compare=False, repr=False)
    pairs: tuple[KeyValue, ...] = ()
    legacy: bool = False

    @classmethod
    def parse(cls, node: Instruction, escape: str = "\\") -> Env:
        """Raises: InstructionError: no pairs, blank name, or a word without '='."""
        return cls(node, *_pairs(node, escape))


@dataclass(frozen=True, slots=True)
class Label:
    node: Instruction = field(compare=False, repr=False)
    pairs: tuple[KeyValue, ...] = ()
    legacy: bool = False

    @classmethod
    def parse(cls, node: Instruction, escape: str = "\\") -> Label:
        """Raises: InstructionError: no pairs, blank name, or a word without '='."""
        return cls(node, *_pairs(node, escape))


_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Arg:
    node: Instruction = field(compare=False, repr=False)
    args: tuple[ArgDecl, ...] = ()

    @classmethod
    def parse(cls, node: Instruction, escape: str = "\\") -> Arg:
        """Raises: InstructionError: no names, or an empty name."""
        words = split_words(rest_text(node), escape)
        if not words:
            raise InstructionError("ARG requires at least one argument", node.args_span)
        decls: list[ArgDecl] = []
        for word in words:
            name, sep, value = word.partition("=")
            if not name:
                raise InstructionError("ARG names can not be blank", node.args_span)
            decls.append(ArgDecl(name, value if sep else None))
        return cls(node, tuple(decls))


def _single(node: Instruction, what: str) -> str:
    text = rest_text(node)
    if not text:
        raise InstructionError(f"{node.keyword} requires exactly one argument", node.span,
                               f"write {node.keyword} {what}")
    return text


@dataclass(frozen=True, slots=True)
class User:
    node: Instruction = field(compare=False, repr=False)
    user: str = ""

    @classmethod
    def parse(cls, node: Instruction) -> User:
        """Raises: InstructionError: no user given."""
        return cls(node, _single(node, "NAME[:GROUP]"))


@dataclass(frozen=True, slots=True)
class Workdir:
    node: Instruction = field(compare=False, repr=False)
    path: str = ""

    @classmethod
    def parse(cls, node: Instruction) -> Workdir:
        """Raises: InstructionError: no path given."""
        return cls(node, _single(node, "/path"))


@dataclass(frozen=True, slots=True)
class StopSignal:
    node: Instruction = field(compare=False, repr=False)
    signal: str = ""

    @classmethod
    def parse(cls, node: Instruction) -> StopSignal:
        """Raises: InstructionError: no signal given."""
        return cls(node, _single(node, "SIGTERM"))


@dataclass(frozen=True, slots=True)
class Maintainer:
    node: Instruction = field(compare=False, repr=False)
    name: str = ""

    @classmethod
    def parse(cls, node: Instruction) -> Maintainer:
        """Raises: InstructionError: no name given."""
        return cls(node, _single(node, "NAME"))


@dataclass(frozen=True, slots=True)
class Expose:
    node: Instruction = field(compare=False, repr=False)
    ports: tuple[str, ...] = ()

    @classmethod
    def parse(cls, node: Instruction) -> Expose:
        """Raises: InstructionError: no ports given."""
        ports = arg_list(node)
        if not ports:
            raise InstructionError("EXPOSE requires at least one argument", node.span)
        return cls(node, ports)


@dataclass(frozen=True, slots=True)
class Volume:
    node: Instruction = field(compare=False, repr=False)
    paths: tuple[str, ...] = ()

    @classmethod
    def parse(cls, node: Instruction) -> Volume:
        """Raises: InstructionError: no paths, or an empty path."""
        paths = arg_list(node)
        if not paths or any(not p.strip() for p in paths):
            raise InstructionError("VOLUME specified can not be an empty string", node.span)
        return cls(node, paths)


@dataclass(frozen=True, slots=True)
class Cmd:
    node: Instruction = field(compare=False, repr=False)
    cmd: ExecForm | ShellForm = ShellForm("")

    @classmethod
    def parse(cls, node: Instruction) -> Cmd:
        """Never raises: an empty CMD clears the command."""
        return cls(node, node.args)


@dataclass(frozen=True, slots=True)
class Entrypoint:
    node: Instruction = field(compare=False, repr=False)
    cmd: ExecForm | ShellForm = ShellForm("")

    @classmethod
    def parse(cls, node: Instruction) -> Entrypoint:
        """Never raises: an empty ENTRYPOINT clears the entrypoint."""
        return cls(node, node.args)


@dataclass(frozen=True, slots=True)
class Shell:
    node: Instruction = field(compare=False, repr=False)
    args: tuple[str, ...] = ()

    @classmethod
    def parse(cls, node: Instruction) -> Shell:
        """Raises: InstructionError: not a JSON array, or an empty one."""
        if not isinstance(node.args, ExecForm) or not node.args.args:
            raise InstructionError(
                "SHELL requires the arguments to be in JSON form", node.args_span,
                'write SHELL ["/bin/bash", "-c"]',
            )
        return cls(node, node.args.args)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
            "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


def parse_duration(text: str) -> int:
    """Go ``time.ParseDuration`` for non-negative values, in nanoseconds.

    Raises:
        InstructionError: not a duration (``"10"`` without a unit is invalid, ``"0"`` is fine).
    """
    if text == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            raise InstructionError(f"invalid duration {text!r}", None, "write e.g. 30s or 1m30s")
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        pos = match.end()
    if not text:
        raise InstructionError("invalid duration ''", None, "write e.g. 30s")
    return int(total)


@dataclass(frozen=True, slots=True)
class Healthcheck:
    """``HEALTHCHECK NONE`` (``test == ("NONE",)``) or ``HEALTHCHECK [opts] CMD …``.

    Durations are nanoseconds, None when not given (the runtime applies the
    defaults 30s, 30s, 0s, 5s and 3 retries: see ``frontend.compile.imageconfig``).
    """

    node: Instruction = field(compare=False, repr=False)
    test: tuple[str, ...] = ("NONE",)
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None

    @classmethod
    def parse(cls, node: Instruction) -> Healthcheck:
        """Raises: InstructionError: unknown type, bad option, arguments after NONE."""
        flags = parse_flags("HEALTHCHECK", node.flags)
        text = rest_text(node)
        kind, _, rest = text.partition(" ") if text else ("", "", "")
        kind_upper = kind.strip().upper()
        rest = rest.strip()
        if kind_upper == "NONE":
            if rest or node.flags:
                raise InstructionError("HEALTHCHECK NONE takes no arguments", node.args_span)
            return cls(node)
        if kind_upper != "CMD":
            raise InstructionError(
                f"unknown type {kind!r} in HEALTHCHECK", node.args_span, "try CMD or NONE"
            )
        if not rest:
            raise InstructionError("HEALTHCHECK CMD needs a command", node.args_span)
        test = ("CMD", *_json_list(rest)) if _json_list(rest) else ("CMD-SHELL", rest)
        return cls(node, test, *_durations(flags), _retries(flags))


def _json_list(text: str) -> tuple[str, ...]:
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def _durations(flags: ParsedFlags) -> tuple[int | None, int | None, int | None, int | None]:
    out: list[int | None] = []
    for name in ("interval", "timeout", "start-period", "start-interval"):
        text = flags.string(name)
        if text is None:
            out.append(None)
            continue
        try:
            value = parse_duration(text)
        except InstructionError as exc:
            raise InstructionError(f"--{name}: {exc.message}", flags.span(name), exc.hint) from None
        if 0 < value < 1_000_000:
            raise InstructionError(f"--{name} cannot be less than 1ms", flags.span(name))
        out.append(value)
    return out[0], out[1], out[2], out[3]


def _retries(flags: ParsedFlags) -> int | None:
    text = flags.string("retries")
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InstructionError(f"--retries={text} is not a number", flags.span("retries")) from None
    if value < 0:
        raise InstructionError("--retries cannot be negative", flags.span("retries"))
    return value
