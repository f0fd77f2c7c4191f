"""Image config documents: ``ImageConfig`` and its parts, frozen, with canonical JSON.

May import: stdlib, solver.digest, builder.errors, builder.oci.jsonio.

The config is written the way BuildKit writes it: top-level keys sorted, the
nested ``config`` and ``history`` entries in Go struct field order, empty fields
omitted. The Docker-only ``Healthcheck``, ``OnBuild`` and ``Shell`` fields are
kept in OCI configs too (docker-image-spec extensions, FEATURES.md §4 #54).
``from_json`` ignores unknown fields (Docker's ``container_config``, ``Hostname``…)
and treats ``null`` as absent, but raises ``InvalidInputError`` on wrong shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.errors import InvalidInputError
from builder.oci import jsonio
from solver.digest import Digest, sha256_bytes

__all__ = ["ContainerConfig", "Healthcheck", "History", "ImageConfig", "RootFS", "chain_ids"]


@dataclass(frozen=True, slots=True)
class Healthcheck:
    """HEALTHCHECK settings; durations in nanoseconds as in the JSON; 0 = default."""

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.test:
            out["Test"] = list(self.test)
        for key, value in (("Interval", self.interval), ("Timeout", self.timeout),
                           ("StartPeriod", self.start_period),
                           ("StartInterval", self.start_interval),
                           ("Retries", self.retries)):
            if value:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Healthcheck:
        what = "image config Healthcheck"
        return cls(
            test=jsonio.get_str_list(obj, "Test", what),
            interval=jsonio.get_int(obj, "Interval", what),
            timeout=jsonio.get_int(obj, "Timeout", what),
            start_period=jsonio.get_int(obj, "StartPeriod", what),
            start_interval=jsonio.get_int(obj, "StartInterval", what),
            retries=jsonio.get_int(obj, "Retries", what),
        )


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """The ``config`` object of an image config: how a container from it runs.

    ``exposed_ports`` holds ``"80/tcp"``-style keys and ``volumes`` paths (both
    JSON objects of empty objects on the wire).
    """

    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    working_dir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    args_escaped: bool = False
    healthcheck: Healthcheck | None = None
    on_build: tuple[str, ...] = ()
    shell: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", dict(sorted(self.labels.items())))
        object.__setattr__(self, "exposed_ports", tuple(sorted(set(self.exposed_ports))))
        object.__setattr__(self, "volumes", tuple(sorted(set(self.volumes))))

    def __hash__(self) -> int:
        return hash((self.user, self.env, self.entrypoint, self.cmd, self.working_dir,
                     tuple(self.labels.items())))

    def to_json(self) -> dict[str, Any]:
        """Go struct order of BuildKit's ``DockerOCIImageConfig``, empty fields omitted."""
        out: dict[str, Any] = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {p: {} for p in self.exposed_ports}
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            out["Cmd"] = list(self.cmd)
        if self.volumes:
            out["Volumes"] = {v: {} for v in self.volumes}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        if self.args_escaped:
            out["ArgsEscaped"] = True
        if self.healthcheck is not None:
            out["Healthcheck"] = self.healthcheck.to_json()
        if self.on_build:
            out["OnBuild"] = list(self.on_build)
        if self.shell:
            out["Shell"] = list(self.shell)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ContainerConfig:
        """Read a ``config`` object (Docker's extra container fields are ignored).

        Raises:
            InvalidInputError: a field has the wrong type.
        """
        what = "image config"
        health = jsonio.get_object(obj, "Healthcheck", what)
        return cls(
            user=jsonio.get_str(obj, "User", what),
            exposed_ports=tuple(_object_keys(obj, "ExposedPorts", what)),
            env=jsonio.get_str_list(obj, "Env", what),
            entrypoint=jsonio.get_str_list(obj, "Entrypoint", what),
            cmd=jsonio.get_str_list(obj, "Cmd", what),
            volumes=tuple(_object_keys(obj, "Volumes", what)),
            working_dir=jsonio.get_str(obj, "WorkingDir", what),
            labels=jsonio.get_str_map(obj, "Labels", what),
            stop_signal=jsonio.get_str(obj, "StopSignal", what),
            args_escaped=jsonio.get_bool(obj, "ArgsEscaped", what),
            healthcheck=Healthcheck.from_json(health) if health is not None else None,
            on_build=jsonio.get_str_list(obj, "OnBuild", what),
            shell=jsonio.get_str_list(obj, "Shell", what),
        )


def _object_keys(obj: Mapping[str, Any], key: str, what: str) -> list[str]:
    value = jsonio.get_object(obj, key, what)
    return sorted(value) if value else []


@dataclass(frozen=True, slots=True)
class RootFS:
    """The ``rootfs`` object: the uncompressed layer digests (diff IDs), bottom first."""

    type: str = "layers"
    diff_ids: tuple[Digest, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "diff_ids": [str(d) for d in self.diff_ids]}


@dataclass(frozen=True, slots=True)
class History:
    """One ``history`` entry; ``empty_layer`` entries have no layer in ``rootfs``."""

    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in (("created", self.created), ("created_by", self.created_by),
                           ("author", self.author), ("comment", self.comment)):
            if value:
                out[key] = value
        if self.empty_layer:
            out["empty_layer"] = True
        return out

    @classmethod
    def from_json(cls, obj: Any) -> History:
        what = "image config history entry"
        if not isinstance(obj, dict):
            raise InvalidInputError(f"invalid {what}: expected a JSON object")
        return cls(
            created=jsonio.get_str(obj, "created", what),
            created_by=jsonio.get_str(obj, "created_by", what),
            author=jsonio.get_str(obj, "author", what),
            comment=jsonio.get_str(obj, "comment", what),
            empty_layer=jsonio.get_bool(obj, "empty_layer", what),
        )


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """An image configuration (OCI image config / Docker image JSON)."""

    architecture: str = ""
    os: str = ""
    variant: str = ""
    os_version: str = ""
    created: str = ""
    author: str = ""
    config: ContainerConfig = field(default_factory=ContainerConfig)
    rootfs: RootFS = field(default_factory=RootFS)
    history: tuple[History, ...] = ()

    def to_json(self) -> bytes:
        """Canonical bytes: top-level keys sorted (as BuildKit writes them)."""
        out: dict[str, Any] = {"architecture": self.architecture}
        if self.author:
            out["author"] = self.author
        out["config"] = self.config.to_json()
        if self.created:
            out["created"] = self.created
        if self.history:
            out["history"] = [h.to_json() for h in self.history]
        out["os"] = self.os
        if self.os_version:
            out["os.version"] = self.os_version
        out["rootfs"] = self.rootfs.to_json()
        if self.variant:
            out["variant"] = self.variant
        return jsonio.encode(out)

    @property
    def digest(self) -> Digest:
        """The digest of ``to_json()`` (docker's image ID when this is a new config)."""
        return sha256_bytes(self.to_json())

    @classmethod
    def from_json(cls, data: bytes | str) -> ImageConfig:
        """Parse an image config.

        Raises:
            InvalidInputError: not JSON, or a field has the wrong shape.
        """
        what = "image config"
        obj = jsonio.decode_object(data, what)
        cfg = jsonio.get_object(obj, "config", what)
        rootfs = jsonio.get_object(obj, "rootfs", what) or {}
        diff_ids = jsonio.get_str_list(rootfs, "diff_ids", what + " rootfs")
        history = obj.get("history")
        history = [] if history is None else history
        if not isinstance(history, list):
            raise InvalidInputError(f"invalid {what}: field 'history' must be a list")
        return cls(
            architecture=jsonio.get_str(obj, "architecture", what),
            os=jsonio.get_str(obj, "os", what),
            variant=jsonio.get_str(obj, "variant", what),
            os_version=jsonio.get_str(obj, "os.version", what),
            created=jsonio.get_str(obj, "created", what),
            author=jsonio.get_str(obj, "author", what),
            config=ContainerConfig.from_json(cfg) if cfg is not None else ContainerConfig(),
            rootfs=RootFS(
                type=jsonio.get_str(rootfs, "type", what, default="layers"),
                diff_ids=tuple(jsonio.get_digest({"d": d}, "d", what + " diff_ids")
                               for d in diff_ids),
            ),
            history=tuple(History.from_json(h) for h in history),
        )


def chain_ids(diff_ids: tuple[Digest, ...] | list[Digest]) -> tuple[Digest, ...]:
    """The chain IDs of a layer stack: ``C0 = D0``, ``Cn = sha256(Cn-1 + " " + Dn)``."""
    out: list[Digest] = []
    for diff in diff_ids:
        out.append(diff if not out else sha256_bytes(f"{out[-1]} {diff}".encode()))
    return tuple(out)
