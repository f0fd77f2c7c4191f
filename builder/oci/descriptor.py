"""OCI and Docker media types, content descriptors and platforms.

May import: stdlib, solver.digest, builder.errors, builder.oci.jsonio.

``Platform`` normalises the way containerd's ``platforms`` package does
(``x86_64`` → ``amd64``, ``aarch64`` → ``arm64``, ``armhf`` → ``arm/v7``, …), so
two spellings of one platform compare equal.
"""

from __future__ import annotations

import enum
import platform as _platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.errors import InvalidInputError, UsageError
from builder.oci import jsonio
from solver.digest import Digest

__all__ = ["ANNOTATION_CREATED", "ANNOTATION_REF_NAME", "Descriptor", "MediaType", "Platform"]

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CREATED = "org.opencontainers.image.created"


class MediaType(enum.StrEnum):
    """Media types pybuild reads and writes."""

    OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
    OCI_INDEX = "application/vnd.oci.image.index.v1+json"
    OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
    OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
    OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
    OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
    OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    OCI_EMPTY = "application/vnd.oci.empty.v1+json"
    DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
    DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
    DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
    DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
    DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    @property
    def is_manifest(self) -> bool:
        return self in (MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST)

    @property
    def is_index(self) -> bool:
        return self in (MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST)

    @property
    def is_config(self) -> bool:
        return self in (MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG)

    @property
    def is_layer(self) -> bool:
        return "layer" in self.value or "rootfs" in self.value


_OS_ALIASES = {"macos": "darwin"}
_ARM_VARIANTS = {"5": "v5", "6": "v6", "7": "v7", "8": "v8"}
_PART_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd's ``normalizeArch``."""
    arch, variant = arch.lower(), variant.lower()
    if arch in ("i386", "i486", "i586", "i686"):
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            return "arm64", ""
        if variant in ("9", "9.0", "v9.0"):
            return "arm64", "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        return "arm", _ARM_VARIANTS.get(variant, variant)
    return arch, variant


@dataclass(frozen=True, slots=True)
class Platform:
    """An OS/architecture/variant triple, normalised (``linux/arm64``, ``linux/arm/v7``)."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os[/arch[/variant]]`` or a bare ``arch``, as ``docker --platform`` does.

        Raises:
            UsageError: an empty or malformed specifier.
        """
        parts = text.strip().split("/")
        if not text.strip() or len(parts) > 3 or not all(_PART_RE.match(p) for p in parts):
            raise UsageError(
                f"invalid platform {text!r}",
                hint="use os/arch[/variant], for example linux/amd64 or linux/arm/v7",
            )
        host = cls.host()
        if len(parts) == 1:
            word = parts[0].lower()
            if word in _KNOWN_OS or word in _OS_ALIASES:
                return cls(_OS_ALIASES.get(word, word), host.architecture, host.variant)
            arch, variant = _normalize_arch(word, "")
            return cls(host.os, arch, variant)
        os_name = _OS_ALIASES.get(parts[0].lower(), parts[0].lower())
        arch, variant = _normalize_arch(parts[1], parts[2] if len(parts) == 3 else "")
        if len(parts) == 3 and arch == "arm64" and not variant:
            variant = "v8"  # containerd keeps an explicitly given arm64/v8
        return cls(os_name, arch, variant)

    @classmethod
    def host(cls) -> Platform:
        """The platform this process runs on (``linux/amd64`` on a typical CI box)."""
        arch, variant = _normalize_arch(_platform.machine() or "amd64", "")
        return cls(_platform.system().lower() or "linux", arch, variant)

    def normalized(self) -> Platform:
        """This platform with OS and architecture aliases resolved."""
        arch, variant = _normalize_arch(self.architecture, self.variant)
        os_name = _OS_ALIASES.get(self.os.lower(), self.os.lower())
        return Platform(os_name, arch, variant, self.os_version, self.os_features)

    def matches(self, other: Platform) -> bool:
        """True if ``other`` (say, an index entry) can serve a request for ``self``.

        OS and architecture must agree after normalisation; an empty variant on
        either side matches any variant, and ``arm64`` treats ``v8`` as the default.
        """
        a, b = self.normalized(), other.normalized()
        if (a.os, a.architecture) != (b.os, b.architecture):
            return False
        va, vb = a.variant, b.variant
        if a.architecture == "arm64":
            va, vb = ("" if va == "v8" else va), ("" if vb == "v8" else vb)
        return not va or not vb or va == vb

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def to_json(self) -> dict[str, Any]:
        """The OCI ``platform`` object, in Go struct field order."""
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Platform:
        """Read an OCI ``platform`` object (as stored; not normalised).

        Raises:
            InvalidInputError: a field has the wrong type.
        """
        what = "platform"
        return cls(
            os=jsonio.get_str(obj, "os", what),
            architecture=jsonio.get_str(obj, "architecture", what),
            variant=jsonio.get_str(obj, "variant", what),
            os_version=jsonio.get_str(obj, "os.version", what),
            os_features=jsonio.get_str_list(obj, "os.features", what),
        )


_KNOWN_OS = frozenset({
    "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux",
    "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows",
})


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A typed pointer to content: media type, digest, size (and optional extras).

    ``media_type`` is a ``str`` so foreign media types survive a round trip;
    compare it with ``MediaType`` members (they are ``str`` too).
    """

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str = ""

    def __post_init__(self) -> None:
        if self.size < 0:
            raise InvalidInputError(f"descriptor {self.digest} has a negative size")
        object.__setattr__(self, "annotations", dict(sorted(self.annotations.items())))

    def __hash__(self) -> int:
        return hash((self.media_type, self.digest, self.size))

    @property
    def kind(self) -> MediaType | None:
        """The media type as a ``MediaType``, or ``None`` if pybuild does not know it."""
        try:
            return MediaType(self.media_type)
        except ValueError:
            return None

    def to_json(self) -> dict[str, Any]:
        """The OCI descriptor object, in Go struct field order."""
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": str(self.digest),
            "size": self.size,
        }
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    @classmethod
    def from_json(cls, obj: Any, what: str = "descriptor") -> Descriptor:
        """Read an OCI descriptor object.

        Raises:
            InvalidInputError: not an object, or a field is missing or malformed.
        """
        if not isinstance(obj, dict):
            raise InvalidInputError(f"invalid {what}: expected a JSON object")
        digest = jsonio.get_digest(obj, "digest", what)
        size = jsonio.get_int(obj, "size", what, default=-1)
        if size < 0:
            raise InvalidInputError(f"invalid {what}: field 'size' must be a non-negative integer")
        plat = jsonio.get_object(obj, "platform", what)
        return cls(
            media_type=jsonio.get_str(obj, "mediaType", what),
            digest=digest,
            size=size,
            annotations=jsonio.get_str_map(obj, "annotations", what),
            platform=Platform.from_json(plat) if plat is not None else None,
            urls=jsonio.get_str_list(obj, "urls", what),
            artifact_type=jsonio.get_str(obj, "artifactType", what),
        )
