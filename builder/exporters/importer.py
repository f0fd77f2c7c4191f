"""``import``: make a one-layer image from a root filesystem tarball, like ``docker import``.

May import: stdlib, solver.digest, builder.errors, builder.oci, builder.content,
builder.images, builder.layers, builder.exporters.{changes,tarsafe}.

The tarball (plain, gzip or zstd) is read once as a stream. Every member name
is checked (no absolute paths, no ``..``; hard links must stay inside) and
normalised (``./bin/sh`` → ``bin/sh``), then re-written as a PAX tar,
gzip-compressed into a content writer while both digests are computed. The
image gets a config with the given ``--change``s, one history entry like
docker's (``Imported from -`` unless a message is given), and a manifest.
Nothing is named until every blob is committed; bad input leaves the store as
it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tarfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from builder.content.store import BlobWriter, ContentStore
from builder.errors import InvalidInputError
from builder.exporters.changes import ConfigChange, apply_changes
from builder.exporters.tarsafe import member_path
from builder.images.store import ImageStore
from builder.layers.compress import Compression, Compressor, new_compressor, open_decompressed
from builder.oci.descriptor import Descriptor, MediaType, Platform
from builder.oci.image import ContainerConfig, History, ImageConfig, Manifest, RootFS
from builder.oci.reference import ImageRef
from solver.digest import Digest

__all__ = ["ImportOptions", "ImportResult", "created_time", "import_rootfs"]

_WHAT = "rootfs tarball"
_KEEP_PAX = ("SCHILY.", "LIBARCHIVE.")


@dataclass(frozen=True)
class ImportOptions:
    """How to make the image: config changes, history comment, platform, timestamp."""

    changes: tuple[ConfigChange, ...] = ()
    message: str = ""
    platform: Platform | None = None
    source_date_epoch: int | None = None


@dataclass(frozen=True)
class ImportResult:
    """The imported image: manifest descriptor, image ID (config digest), layer diff ID."""

    target: Descriptor
    image_id: Digest
    diff_id: Digest


def created_time(source_date_epoch: int | None) -> str:
    """RFC 3339 UTC time: ``SOURCE_DATE_EPOCH`` if given, else now (whole seconds)."""
    if source_date_epoch is not None:
        when = dt.datetime.fromtimestamp(source_date_epoch, dt.UTC)
    else:
        when = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")


class _LayerSink:
    """File-like sink: hashes the tar bytes (diff ID), compresses, feeds a blob writer."""

    def __init__(self, writer: BlobWriter, compressor: Compressor) -> None:
        self._writer, self._compressor = writer, compressor
        self._plain = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._plain.update(data)
        out = self._compressor.compress(bytes(data))
        if out:
            self._writer.write(out)
        return len(data)

    def finish(self) -> Digest:
        tail = self._compressor.flush()
        if tail:
            self._writer.write(tail)
        return Digest.from_hex(self._plain.hexdigest())


def _copy_member(src: tarfile.TarFile, dst: tarfile.TarFile, info: tarfile.TarInfo) -> None:
    name = member_path(info.name, _WHAT)
    if not name:
        return  # the "./" entry of the root itself
    if info.islnk():
        info.linkname = member_path(info.linkname, _WHAT)
    info.name = name
    info.pax_headers = {k: v for k, v in info.pax_headers.items() if k.startswith(_KEEP_PAX)}
    dst.addfile(info, src.extractfile(info) if info.isreg() else None)


def _write_layer(stream: BinaryIO, writer: BlobWriter) -> Digest:
    sink = _LayerSink(writer, new_compressor(Compression.GZIP))
    try:
        with tarfile.open(fileobj=open_decompressed(stream), mode="r|") as src, \
                tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as dst:  # type: ignore[call-overload]
            count = 0
            for info in src:
                _copy_member(src, dst, info)
                count += 1
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise InvalidInputError(f"cannot read {_WHAT}: {exc}",
                                hint="is it a tar file, optionally gzip or zstd compressed?",
                                ) from None
    if count == 0:
        raise InvalidInputError(f"{_WHAT} is empty or not a tar archive")
    return sink.finish()


def _image_config(diff_id: Digest, opts: ImportOptions) -> ImageConfig:
    created = created_time(opts.source_date_epoch)
    platform = opts.platform or Platform.host()
    comment = opts.message or "Imported from -"
    return ImageConfig(
        architecture=platform.architecture,
        os=platform.os,
        variant=platform.variant,
        created=created,
        config=apply_changes(ContainerConfig(), opts.changes),
        rootfs=RootFS(diff_ids=(diff_id,)),
        history=(History(created=created, comment=comment),),
    )


def import_rootfs(
    content: ContentStore, images: ImageStore, stream: BinaryIO,
    names: Sequence[ImageRef], opts: ImportOptions,
) -> ImportResult:
    """Import the rootfs tarball read from ``stream`` as an image named ``names``.

    Raises:
        InvalidInputError: the tarball is corrupt, truncated or has hostile names.
        StoreError: the store refused a write.
    """
    with content.lease():
        with content.writer() as writer:
            diff_id = _write_layer(stream, writer)
            layer = writer.commit()
        config_bytes = _image_config(diff_id, opts).to_json()
        config_digest = content.put_bytes(config_bytes)
        manifest = Manifest(
            config=Descriptor(MediaType.OCI_CONFIG, config_digest, len(config_bytes)),
            layers=(Descriptor(MediaType.OCI_LAYER_GZIP, layer.digest, layer.size),),
        )
        data = manifest.to_json()
        target = Descriptor(MediaType.OCI_MANIFEST, content.put_bytes(data), len(data))
        for name in names:
            images.set(name, target)
        if not names:
            images.add_dangling(target)
    return ImportResult(target, config_digest, diff_id)
