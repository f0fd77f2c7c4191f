"""How the frontend learns base images' configs: the ``ImageConfigResolver`` protocol.

May import: frontend.imageconfig, stdlib.

The builder implements the protocol over its image store and registry client
(BuildKit's ``llb.ImageMetaResolver``). ``NullResolver`` answers every image
with an empty config (``debug graph``, ``check``); ``DictResolver`` answers
from a mapping (tests). ``normalize_ref`` is the frontend's minimal reference
normalisation; the builder's ``ImageRef`` parser is the full one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from frontend.imageconfig import ImageConfig

__all__ = [
    "DictResolver",
    "ImageConfigResolver",
    "NullResolver",
    "ResolveError",
    "ResolvedImage",
    "normalize_ref",
]


class ResolveError(LookupError):
    """The resolver cannot find an image (the compiler turns it into a FrontendError)."""


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    """``ref`` normalised (with ``@sha256:…`` when ``digest`` is known)."""

    ref: str
    digest: str | None
    config: ImageConfig


class ImageConfigResolver(Protocol):
    def resolve(self, ref: str, platform: str | None) -> ResolvedImage:
        """The image's config for ``platform`` (None: the target platform).

        Raises:
            ResolveError: no such image.
        """
        ...


def normalize_ref(ref: str) -> str:
    """``busybox`` → ``docker.io/library/busybox:latest``; keeps digests and hosts.

    Raises:
        ValueError: empty reference or upper-case repository.
    """
    if not ref or ref != ref.strip():
        raise ValueError(f"invalid reference format: {ref!r}")
    name, at, digest = ref.partition("@")
    first, slash, rest = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    elif first in ("index.docker.io", "registry-1.docker.io"):
        name = f"docker.io/{rest}"
    if name.startswith("docker.io/") and "/" not in name[len("docker.io/") :]:
        name = "docker.io/library/" + name[len("docker.io/") :]
    repo_part = name.rsplit("/", 1)[-1]
    if not at and ":" not in repo_part:
        name += ":latest"
    path = name.split("/", 1)[1].split(":")[0]
    if path != path.lower():
        raise ValueError(f"invalid reference format: repository name must be lowercase: {ref!r}")
    return f"{name}@{digest}" if at else name


@dataclass(frozen=True)
class NullResolver:
    """Every image exists and has an empty config (for the given platform)."""

    def resolve(self, ref: str, platform: str | None) -> ResolvedImage:
        config = ImageConfig()
        if platform:
            os_, _, arch = platform.partition("/")
            arch, _, variant = arch.partition("/")
            config = ImageConfig(os=os_, architecture=arch or "amd64", variant=variant)
        return ResolvedImage(normalize_ref(ref), None, config)


@dataclass(frozen=True)
class DictResolver:
    """Configs by normalised ref; unknown images raise ``ResolveError`` unless
    ``default`` is given."""

    images: Mapping[str, ImageConfig] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)
    default: ImageConfig | None = None

    def resolve(self, ref: str, platform: str | None) -> ResolvedImage:
        norm = normalize_ref(ref)
        keys = {normalize_ref(k): v for k, v in self.images.items()}
        config = keys.get(norm, self.default)
        if config is None:
            raise ResolveError(f"image {norm} not found")
        digest = {normalize_ref(k): v for k, v in self.digests.items()}.get(norm)
        return ResolvedImage(f"{norm}@{digest}" if digest and "@" not in norm else norm,
                             digest, config)
