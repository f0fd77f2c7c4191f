"""Base-image resolution for FROM: the local image unless ``--pull`` or it is missing.

May import: stdlib, builder.{errors,oci,content,images}, builder.registry.*.

The solver's image source asks :func:`resolve_base_image` for the manifest and config of
``FROM ref`` on a platform. ``PullPolicy.MISSING`` (the default, as ``docker build``) uses
a local image when one with that name exists for that platform; ``ALWAYS`` (``--pull``)
asks the registry every time (blobs already present are not downloaded again);
``NEVER`` fails instead of touching the network.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, NotFoundError
from builder.images.store import ImageStore
from builder.oci.descriptor import Descriptor, MediaType, Platform
from builder.oci.image import ImageConfig, Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from builder.registry.client import RegistryClient
from builder.registry.pull import PullOptions, pull_image, select_platform
from builder.registry.session import client_for

__all__ = ["BaseImage", "PullPolicy", "ResolveOptions", "resolve_base_image"]


class PullPolicy(enum.Enum):
    """When to ask the registry for a base image."""

    MISSING = "missing"
    ALWAYS = "always"
    NEVER = "never"


@dataclasses.dataclass(frozen=True)
class BaseImage:
    """A resolved base image: its platform manifest descriptor and parsed config."""

    ref: ImageRef
    manifest: Descriptor
    config: ImageConfig
    pulled: bool


@dataclasses.dataclass(frozen=True)
class ResolveOptions:
    """Progress for pulls, and the client factory (tests and the server inject theirs)."""

    pull: PullOptions = PullOptions()
    connect: Callable[[str], RegistryClient] = client_for


def resolve_base_image(ref: ImageRef, platform: Platform, policy: PullPolicy,
                       images: ImageStore, options: ResolveOptions | None = None) -> BaseImage:
    """The manifest and config ``FROM ref`` means on ``platform``.

    Raises:
        NotFoundError: ``NEVER`` and no local image, or the registry has no such image.
        AuthError: the registry denied access.
        RegistryError: the registry failed or sent bad content.
    """
    options = options or ResolveOptions()
    if policy is not PullPolicy.ALWAYS:
        local = _local(ref, platform, images)
        if local is not None:
            return local
        if policy is PullPolicy.NEVER:
            raise NotFoundError(f"image {ref.familiar()} for {platform} is not present locally",
                                hint="pull it first, or build with --pull")
    pull = dataclasses.replace(options.pull, platform=platform)
    with options.connect(ref.registry) as client, images.content.lease():
        result = pull_image(client, ref, images.content, pull)
        images.set(ref, result.manifest)  # inside the lease: gc must not run in between
    return BaseImage(ref, result.manifest, result.config, pulled=True)


def _local(ref: ImageRef, platform: Platform, images: ImageStore) -> BaseImage | None:
    target = images.get(ref)
    if target is None:
        return None
    try:
        return _from_store(ref, target, platform, images.content)
    except (NotFoundError, InvalidInputError):
        return None  # incomplete or foreign-platform local image: ask the registry


def _from_store(ref: ImageRef, target: Descriptor, platform: Platform,
                content: ContentStore) -> BaseImage | None:
    doc = parse_manifest_or_index(content.read_bytes(target.digest, target.size),
                                  target.media_type)
    if isinstance(doc, Index):
        target = select_platform(doc, platform)
        doc = parse_manifest_or_index(content.read_bytes(target.digest, target.size),
                                      target.media_type or MediaType.OCI_MANIFEST)
    if not isinstance(doc, Manifest):
        return None
    config = ImageConfig.from_json(content.read_bytes(doc.config.digest, doc.config.size))
    have = Platform(config.os or "linux", config.architecture or "amd64", config.variant)
    if not platform.matches(have):
        return None
    for layer in doc.layers:
        if not content.has(layer.digest):
            return None
    return BaseImage(ref, target, config, pulled=False)
