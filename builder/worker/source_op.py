"""Source ops on the local worker: base images into layer snapshots, contexts, scratch.

May import: stdlib, solver.{digest,ops,errors}, builder lower layers (errors, oci,
content, images, registry, snapshots), builder.worker.{refs,copy_paths}.

    BaseImages(images, PullPolicy.MISSING).lookup("busybox", "linux/amd64") -> BaseImage
    image_snapshot(stores, base)  -> SnapshotRef (layers unpacked once, by chain ID)

``BaseImages`` remembers every image it resolved, under its name and under its
digest-pinned name, so the worker's ``ImageSource("…@sha256:…")`` uses exactly the
manifest the frontend saw, without a second registry round trip. A digest-pinned
reference that was not resolved in this build is read from the content store when
the manifest is there, and pulled otherwise.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from builder.errors import InvalidInputError, NotFoundError
from builder.images.store import ImageStore
from builder.oci.config import chain_ids
from builder.oci.descriptor import Descriptor, MediaType, Platform
from builder.oci.image import ImageConfig, Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from builder.registry.pull import select_platform
from builder.registry.resolve import BaseImage, PullPolicy, ResolveOptions, resolve_base_image
from builder.snapshots.store import layer_blobs
from builder.worker.refs import LayerRecord, SnapshotRef, Stores

__all__ = ["BaseImages", "image_snapshot"]


@dataclass
class BaseImages:
    """Resolves base images once per build (thread-safe; memoised by reference)."""

    images: ImageStore
    policy: PullPolicy = PullPolicy.MISSING
    options: ResolveOptions | None = None
    _seen: dict[str, BaseImage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lookup(self, ref_text: str, platform_text: str | None) -> BaseImage:
        """The image ``ref_text`` means on ``platform_text`` (default: linux/amd64).

        Raises:
            UsageError: the reference is malformed.
            NotFoundError: no such image locally or in its registry.
            RegistryError: the registry failed.
        """
        ref = ImageRef.parse(ref_text)
        platform = Platform.parse(platform_text or "linux/amd64")
        key = f"{ref}|{platform_text or ''}"
        with self._lock:
            known = self._seen.get(key)
            if known is not None:
                return known
            base = self._resolve(ref, platform)
            self._seen[key] = base
            pinned = ref.with_digest(base.manifest.digest) if ref.digest is None else ref
            self._seen[f"{pinned}|{platform_text or ''}"] = base
            return base

    def known(self) -> list[BaseImage]:
        """Every image resolved so far."""
        with self._lock:
            return list(self._seen.values())

    def _resolve(self, ref: ImageRef, platform: Platform) -> BaseImage:
        if ref.digest is not None and self.images.content.has(ref.digest):
            return _from_digest(ref, platform, self.images)
        name = ref if ref.digest is None else ref.without_tag_or_digest().with_tag(
            ref.tag or "latest")
        base = resolve_base_image(name, platform, self.policy, self.images, self.options)
        if ref.digest is not None and base.manifest.digest != ref.digest:
            raise NotFoundError(f"image {ref.familiar()}: the registry has {base.manifest.digest}"
                                " under that name now", hint="build again to re-resolve FROM")
        return base


def _from_digest(ref: ImageRef, platform: Platform, images: ImageStore) -> BaseImage:
    assert ref.digest is not None
    content = images.content
    data = content.read_bytes(ref.digest)
    doc = parse_manifest_or_index(data)
    target = Descriptor(MediaType.OCI_MANIFEST, ref.digest, len(data))
    if isinstance(doc, Index):
        target = select_platform(doc, platform)
        doc = parse_manifest_or_index(content.read_bytes(target.digest, target.size),
                                      target.media_type or MediaType.OCI_MANIFEST)
    if not isinstance(doc, Manifest):
        raise InvalidInputError(f"image {ref.familiar()}: not an image manifest")
    config = ImageConfig.from_json(content.read_bytes(doc.config.digest, doc.config.size))
    return BaseImage(ref, target, config, pulled=False)


def read_manifest(images: ImageStore, base: BaseImage) -> Manifest:
    """The platform manifest of ``base``.

    Raises:
        NotFoundError: the manifest blob is gone.
        InvalidInputError: it is not a manifest.
    """
    doc = parse_manifest_or_index(
        images.content.read_bytes(base.manifest.digest, base.manifest.size),
        base.manifest.media_type)
    if not isinstance(doc, Manifest):
        raise InvalidInputError(f"image {base.ref.familiar()}: not an image manifest")
    return doc


def image_snapshot(stores: Stores, images: ImageStore, base: BaseImage) -> SnapshotRef:
    """The layer chain of ``base``, each layer unpacked (once) into the snapshot store.

    Raises:
        NotFoundError: a layer blob is missing.
        InvalidInputError: a layer is corrupt, hostile, or its diff_id is wrong.
    """
    manifest = read_manifest(images, base)
    blobs = layer_blobs(manifest, base.config)
    stores.snapshots.ensure(blobs)
    chains = chain_ids([b.diff_id for b in blobs])
    layers = tuple(
        LayerRecord(chain, blob.diff_id, blob.digest, desc.size, str(desc.media_type))
        for chain, blob, desc in zip(chains, blobs, manifest.layers, strict=True)
    )
    return SnapshotRef(layers)
