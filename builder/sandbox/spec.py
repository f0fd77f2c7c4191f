"""What one sandboxed step runs and under which isolation: frozen values plus their JSON form.

May import: stdlib, solver.ops (``NetworkMode``, ``SecurityMode``), builder.sandbox.errors.

The executor hands a ``SandboxSpec`` (wrapped in an ``InitPlan``) to the freshly executed
init process as JSON; ``InitPlan.from_json`` is the one place that JSON is parsed back into
typed values, and it rejects anything malformed with ``SandboxError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from builder.sandbox.errors import SandboxError
from solver.ops import NetworkMode, SecurityMode

__all__ = [
    "DEFAULT_PATH",
    "EtcFiles",
    "IdMap",
    "InitPlan",
    "Limits",
    "MountKind",
    "MountSpec",
    "NamespaceSpec",
    "NetworkMode",
    "Privileges",
    "ProcessSpec",
    "SandboxSpec",
    "SecurityMode",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """The step's process: argv, ``KEY=VALUE`` environment, working directory and user.

    ``user`` is Docker's ``USER`` syntax: ``""`` (root), ``name``, ``uid``, ``name:group``
    or ``uid:gid``; it is resolved inside the rootfs from /etc/passwd and /etc/group.
    ``extra_groups`` are added to the supplementary groups (names or ids).
    """

    args: tuple[str, ...]
    env: tuple[str, ...] = ()
    cwd: str = "/"
    user: str = ""
    extra_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.args:
            raise SandboxError("a sandboxed process needs at least one argument")
        if not self.cwd.startswith("/"):
            raise SandboxError(f"working directory {self.cwd!r} is not absolute")
        bad = [e for e in self.env if "=" not in e or e.startswith("=")]
        if bad:
            raise SandboxError(f"environment entry {bad[0]!r} is not KEY=VALUE")


class MountKind(Enum):
    BIND = "bind"
    TMPFS = "tmpfs"


@dataclass(frozen=True, slots=True)
class MountSpec:
    """An extra mount at ``target`` inside the rootfs (a host bind or a fresh tmpfs)."""

    target: str
    kind: MountKind = MountKind.BIND
    source: str = ""
    read_only: bool = True
    size_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class IdMap:
    """One line of a uid or gid map (rootless mode; not used when pybuild runs as root)."""

    container_id: int
    host_id: int
    size: int


@dataclass(frozen=True, slots=True)
class NamespaceSpec:
    """Which namespaces the step gets: network mode, hostname, and optional id maps."""

    network: NetworkMode = NetworkMode.NONE
    hostname: str = "pybuild"
    uid_maps: tuple[IdMap, ...] = ()
    gid_maps: tuple[IdMap, ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-step cgroup limits; ``None`` leaves a resource unlimited.

    ``cpu`` is in CPUs (``1.5`` = one and a half cores, like ``docker run --cpus``).
    """

    memory: int | None = None
    pids: int | None = None
    cpu: float | None = None

    @property
    def any(self) -> bool:
        return self.memory is not None or self.pids is not None or self.cpu is not None


@dataclass(frozen=True, slots=True)
class Privileges:
    """Docker's defaults (``SANDBOX``) or everything (``INSECURE``, an entitlement)."""

    mode: SecurityMode = SecurityMode.SANDBOX
    no_new_privs: bool = False


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """Everything about one step except where its root filesystem comes from."""

    process: ProcessSpec
    namespaces: NamespaceSpec = field(default_factory=NamespaceSpec)
    mounts: tuple[MountSpec, ...] = ()
    limits: Limits = field(default_factory=Limits)
    privileges: Privileges = field(default_factory=Privileges)


@dataclass(frozen=True, slots=True)
class EtcFiles:
    """Host files bind-mounted over /etc/hosts, /etc/resolv.conf and /etc/hostname."""

    hosts: str
    resolv_conf: str
    hostname: str


@dataclass(frozen=True, slots=True)
class InitPlan:
    """What the init process needs: the spec, the overlay layout and the /etc files.

    ``lowerdirs`` run bottom to top, as image layers do.
    """

    spec: SandboxSpec
    lowerdirs: tuple[str, ...]
    upperdir: str
    workdir: str
    mountpoint: str
    etc: EtcFiles

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        return {
            "process": _fields(s.process),
            "namespaces": {
                "network": s.namespaces.network.value,
                "hostname": s.namespaces.hostname,
                "uid_maps": [_fields(m) for m in s.namespaces.uid_maps],
                "gid_maps": [_fields(m) for m in s.namespaces.gid_maps],
            },
            "mounts": [{**_fields(m), "kind": m.kind.value} for m in s.mounts],
            "limits": _fields(s.limits),
            "privileges": {
                "mode": s.privileges.mode.value,
                "no_new_privs": s.privileges.no_new_privs,
            },
            "lowerdirs": list(self.lowerdirs),
            "upperdir": self.upperdir,
            "workdir": self.workdir,
            "mountpoint": self.mountpoint,
            "etc": _fields(self.etc),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InitPlan:
        """Parse the executor's JSON back into typed values.

        Raises:
            SandboxError: the JSON does not describe a valid plan.
        """
        try:
            ns = data["namespaces"]
            spec = SandboxSpec(
                process=_process(data["process"]),
                namespaces=NamespaceSpec(
                    network=NetworkMode(ns["network"]),
                    hostname=str(ns["hostname"]),
                    uid_maps=tuple(IdMap(**m) for m in ns["uid_maps"]),
                    gid_maps=tuple(IdMap(**m) for m in ns["gid_maps"]),
                ),
                mounts=tuple(
                    MountSpec(**{**m, "kind": MountKind(m["kind"])}) for m in data["mounts"]
                ),
                limits=Limits(**data["limits"]),
                privileges=Privileges(
                    mode=SecurityMode(data["privileges"]["mode"]),
                    no_new_privs=bool(data["privileges"]["no_new_privs"]),
                ),
            )
            return cls(
                spec=spec,
                lowerdirs=tuple(str(p) for p in data["lowerdirs"]),
                upperdir=str(data["upperdir"]),
                workdir=str(data["workdir"]),
                mountpoint=str(data["mountpoint"]),
                etc=EtcFiles(**data["etc"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SandboxError(f"malformed sandbox plan: {exc}") from None


def _process(data: dict[str, Any]) -> ProcessSpec:
    return ProcessSpec(
        args=tuple(data["args"]),
        env=tuple(data["env"]),
        cwd=data["cwd"],
        user=data["user"],
        extra_groups=tuple(data["extra_groups"]),
    )


def _fields(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in obj.__slots__:
        value = getattr(obj, name)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out

