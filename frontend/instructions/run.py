"""RUN: command (exec or shell form), heredocs, and the ``--mount`` mini-grammar.

May import: frontend.errors, frontend.nodes, frontend.instructions.{base,flags},
solver.ops (for the mount, network and security enums).

``--mount`` is a CSV list of ``key=value`` fields (BuildKit
``instructions/commands_runmount.go``). Defaults follow BuildKit: ``type`` is
bind; bind mounts are read-only unless ``rw``; a secret mounts at
``/run/secrets/<id>`` with mode 0400 and its id defaults to the target's
basename; an ssh mount has id ``default``, mode 0600 and targets
``/run/buildkit/ssh_agent.<n>``; a cache mount is shared, mode 0755, and its id
defaults to its target.
"""

from __future__ import annotations

import csv
import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import TypeVar

from frontend.errors import InstructionError
from frontend.instructions.flags import parse_flags
from frontend.nodes import ExecForm, Heredoc, Instruction, ShellForm
from solver.ops import CacheSharing, MountType, NetworkMode, SecurityMode

__all__ = ["Run", "RunMount", "parse_mount", "parse_size"]

_KEYS = {
    "type", "target", "dst", "destination", "source", "src", "from", "ro", "readonly",
    "rw", "readwrite", "id", "sharing", "mode", "uid", "gid", "size", "required", "env",
}


@dataclass(frozen=True, slots=True)
class RunMount:
    """One ``--mount``; ``from_`` names a stage, image or named context (raw)."""

    type: MountType
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = False
    id: str = ""
    sharing: CacheSharing = CacheSharing.SHARED
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    required: bool = False
    env: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    """``RUN [--mount=…]… [--network=…] [--security=…] cmd``."""

    node: Instruction = field(compare=False, repr=False)
    cmd: ExecForm | ShellForm
    heredocs: tuple[Heredoc, ...] = ()
    mounts: tuple[RunMount, ...] = ()
    network: NetworkMode | None = None
    security: SecurityMode = SecurityMode.SANDBOX
    devices: tuple[str, ...] = ()

    @classmethod
    def parse(cls, node: Instruction) -> Run:
        """Parse a RUN node.

        Raises:
            InstructionError: bad flag, bad mount, empty command.
        """
        flags = parse_flags("RUN", node.flags)
        network = _enum(NetworkMode, flags.string("network"), "network")
        security = _enum(SecurityMode, flags.string("security"), "security")
        mounts: list[RunMount] = []
        for text in flags.strings("mount"):
            ssh_index = sum(1 for m in mounts if m.type is MountType.SSH)
            mounts.append(parse_mount(text, ssh_index))
        if isinstance(node.args, ShellForm) and not node.args.text.strip() and not node.heredocs:
            raise InstructionError("RUN requires at least one argument")
        if isinstance(node.args, ExecForm) and not node.args.args:
            raise InstructionError("RUN requires at least one argument")
        return cls(
            node, node.args, node.heredocs, tuple(mounts), network,
            security or SecurityMode.SANDBOX, flags.strings("device"),
        )


_E = TypeVar("_E", NetworkMode, SecurityMode, CacheSharing, MountType)


def _choice(kind: type[_E], value: str, problem: str) -> _E:
    """``value`` (any case) as a member of ``kind``; else ``<problem> 'value'``."""
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        hint = f"use one of: {allowed}"
        raise InstructionError(f"{problem} {value!r}", None, hint) from None


def _enum(kind: type[_E], value: str | None, what: str) -> _E | None:
    return None if value is None else _choice(kind, value, f"invalid {what}")


def parse_mount(text: str, index: int = 0) -> RunMount:
    """Parse one ``--mount`` value (``index``: how many ssh mounts come before it).

    Raises:
        InstructionError: unknown key, bad value, or a missing target.
    """
    fields = next(csv.reader([text]), [])
    values: dict[str, str | None] = {}
    for item in fields:
        key, sep, value = item.strip().partition("=")
        key = key.lower()
        if key not in _KEYS:
            raise InstructionError(
                f"unexpected key {key!r} in --mount={text}",
                None,
                "keys are: " + ", ".join(sorted(_KEYS)),
            )
        values[key] = value if sep else None
    mtype = _mount_type(values.pop("type", None) or "bind")
    mount = RunMount(type=mtype, readonly=mtype is MountType.BIND)
    for name, given in values.items():
        mount = _apply(mount, name, given)
    return _defaults(mount, index)


def _mount_type(value: str) -> MountType:
    return _choice(MountType, value, "unsupported mount type")


def _flag(key: str, value: str | None) -> bool:
    if value is None or value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    message = f"invalid value {value!r} for mount option {key}"
    raise InstructionError(message, None, "use true or false")


def _need(key: str, value: str | None) -> str:
    if value is None:
        raise InstructionError(f"mount option {key} needs a value", None, f"write {key}=VALUE")
    return value


def _int(key: str, value: str | None, base: int = 10) -> int:
    text = _need(key, value)
    try:
        return int(text, base)
    except ValueError:
        kind = "an octal mode" if base == 8 else "a number"
        raise InstructionError(f"mount option {key}={text} is not {kind}") from None


def _apply(mount: RunMount, key: str, value: str | None) -> RunMount:
    match key:
        case "target" | "dst" | "destination":
            return replace(mount, target=_need(key, value))
        case "source" | "src":
            return replace(mount, source=_need(key, value))
        case "from":
            return replace(mount, from_=_need(key, value))
        case "ro" | "readonly":
            return replace(mount, readonly=_flag(key, value))
        case "rw" | "readwrite":
            return replace(mount, readonly=not _flag(key, value))
        case "id":
            return replace(mount, id=_need(key, value))
        case "sharing":
            sharing = _enum(CacheSharing, _need(key, value), "sharing mode")
            return replace(mount, sharing=sharing or CacheSharing.SHARED)
        case "mode":
            return replace(mount, mode=_int(key, value, 8))
        case "uid":
            return replace(mount, uid=_int(key, value))
        case "gid":
            return replace(mount, gid=_int(key, value))
        case "size":
            return replace(mount, size=parse_size(_need(key, value)))
        case "required":
            return replace(mount, required=_flag(key, value))
        case _:  # env
            return replace(mount, env=_need(key, value))


def _defaults(mount: RunMount, index: int) -> RunMount:
    match mount.type:
        case MountType.SECRET:
            mid = mount.id or posixpath.basename(mount.target)
            if not mid:
                raise InstructionError("secret mount needs an id or a target", None, "add id=NAME")
            target = mount.target or ("" if mount.env else f"/run/secrets/{mid}")
            mode = 0o400 if mount.mode is None else mount.mode
            return replace(mount, id=mid, target=target, mode=mode, uid=mount.uid or 0,
                           gid=mount.gid or 0)
        case MountType.SSH:
            target = mount.target or f"/run/buildkit/ssh_agent.{index}"
            mode = 0o600 if mount.mode is None else mount.mode
            return replace(mount, id=mount.id or "default", target=target, mode=mode)
        case _:
            if not mount.target:
                raise InstructionError(
                    f"{mount.type.value} mount needs a target", None, "add target=/path"
                )
            if mount.type is MountType.CACHE:
                mode = 0o755 if mount.mode is None else mount.mode
                return replace(mount, id=mount.id or mount.target, mode=mode)
            return mount


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """go-units ``RAMInBytes``: ``64m`` → 67108864 (binary multiples).

    Raises:
        InstructionError: not a size.
    """
    match = _SIZE.match(text.strip())
    if not match:
        raise InstructionError(f"invalid size {text!r}", None, "write e.g. 64m or 1g")
    power = " kmgtp".index(match.group(2).lower() or " ")
    return int(float(match.group(1)) * 1024**power)
