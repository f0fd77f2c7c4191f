"""The image exporter: a build result's layer chain plus its config into the image store.

May import: stdlib, solver.digest, builder lower layers (errors, oci, content, images,
layers, worker.refs), builder.exporters.importer.

    export_image(content, images, ImageSpec(layers, config, history), ExportOptions(), tags)
        -> ExportedImage(manifest descriptor, image ID)

The layers are already in the content store (each step committed its layer as a
blob); one whose compression differs from the requested one is recompressed from
its own bytes, so its diff_id never changes. Docker layer media types become their
OCI equivalents. The config gets ``rootfs.diff_ids`` from the layers and ``created``
from ``SOURCE_DATE_EPOCH`` (or now), as do the history entries the build added, so
two builds with the same epoch give byte-identical configs and manifests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from builder.content.store import ContentStore
from builder.errors import InvalidInputError
from builder.exporters.importer import created_time
from builder.images.store import ImageStore
from builder.layers.compress import Compression, new_compressor, open_decompressed
from builder.oci.config import History, ImageConfig, RootFS
from builder.oci.descriptor import Descriptor, MediaType
from builder.oci.image import Manifest
from builder.oci.reference import ImageRef
from builder.worker.refs import LayerRecord
from solver.digest import Digest

__all__ = ["ExportOptions", "ExportedImage", "ImageSpec", "export_image"]

_CHUNK = 1 << 20
_BY_COMPRESSION = {
    Compression.GZIP: MediaType.OCI_LAYER_GZIP,
    Compression.ZSTD: MediaType.OCI_LAYER_ZSTD,
    Compression.NONE: MediaType.OCI_LAYER,
}
_COMPRESSION_OF = {
    MediaType.OCI_LAYER_GZIP: Compression.GZIP,
    MediaType.DOCKER_LAYER_GZIP: Compression.GZIP,
    MediaType.OCI_LAYER_ZSTD: Compression.ZSTD,
    MediaType.OCI_LAYER: Compression.NONE,
    MediaType.DOCKER_LAYER: Compression.NONE,
}


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How the image is written.

    Attributes:
        compression: the layers' compression in the manifest.
        level: compression level for recompressed layers (None: the default).
        source_date_epoch: ``created`` of the config and new history entries.
        created: ``created`` when no epoch is given (None: the newest layer's time).
    """

    compression: Compression = Compression.GZIP
    level: int | None = None
    source_date_epoch: int | None = None
    created: str | None = None


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What to export: ``config`` holds the platform and container config (its rootfs
    and history are replaced); ``base_history`` is the base image's history and
    ``history`` the entries the build added (``created`` is filled in here)."""

    layers: tuple[LayerRecord, ...]
    config: ImageConfig
    base_history: tuple[History, ...] = ()
    history: tuple[History, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportedImage:
    """The stored image: its manifest descriptor and image ID (config digest)."""

    manifest: Descriptor
    config: Descriptor

    @property
    def image_id(self) -> Digest:
        return self.config.digest


def export_image(content: ContentStore, images: ImageStore, spec: ImageSpec,
                 opts: ExportOptions, tags: Sequence[ImageRef] = ()) -> ExportedImage:
    """Write the config and manifest of ``spec`` and point every tag at it (an
    untagged image is kept as a dangling record).

    Raises:
        NotFoundError: a layer blob is missing from the content store.
        InvalidInputError: a layer blob is corrupt or has an unknown media type.
        UsageError: the compression level is out of range.
    """
    created = _created(spec, opts)
    with content.lease():
        layers = tuple(_layer(content, layer, opts) for layer in spec.layers)
        history = spec.base_history + tuple(
            dataclasses.replace(h, created=created) for h in spec.history)
        config = dataclasses.replace(
            spec.config, created=created,
            rootfs=RootFS(diff_ids=tuple(layer.diff_id for layer in spec.layers)),
            history=history)
        config_bytes = config.to_json()
        config_desc = Descriptor(MediaType.OCI_CONFIG, content.put_bytes(config_bytes),
                                 len(config_bytes))
        data = Manifest(config=config_desc, layers=layers).to_json()
        target = Descriptor(MediaType.OCI_MANIFEST, content.put_bytes(data), len(data))
        for tag in tags:
            images.set(tag, target)
        if not tags:
            images.add_dangling(target)
    return ExportedImage(target, config_desc)


def _created(spec: ImageSpec, opts: ExportOptions) -> str:
    """The epoch; else the newest layer's commit time (so a fully cached rebuild
    gives the same image ID, as BuildKit's does); else now."""
    if opts.source_date_epoch is not None:
        return created_time(opts.source_date_epoch)
    if opts.created:
        return opts.created
    times = [layer.created for layer in spec.layers if layer.created]
    return max(times) if times else created_time(None)


def _layer(content: ContentStore, layer: LayerRecord, opts: ExportOptions) -> Descriptor:
    have = _COMPRESSION_OF.get(MediaType(layer.media_type)) if layer.media_type in set(
        MediaType) else None
    if have is None:
        raise InvalidInputError(f"layer {layer.blob} has unsupported media type "
                                f"{layer.media_type!r}")
    if have is opts.compression:
        return Descriptor(_BY_COMPRESSION[have], layer.blob, layer.size)
    compressor = new_compressor(opts.compression, opts.level)
    with content.open_blob(layer.blob, layer.size) as raw, content.writer() as writer:
        stream = open_decompressed(raw)
        while chunk := stream.read(_CHUNK):
            writer.write(compressor.compress(chunk))
        writer.write(compressor.flush())
        info = writer.commit()
    return Descriptor(_BY_COMPRESSION[opts.compression], info.digest, info.size)
