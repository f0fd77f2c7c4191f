"""``save``: write images from the store as a docker-archive or an OCI image layout tar.

May import: stdlib, solver.digest, builder.errors, builder.root, builder.oci,
builder.content, builder.layers, builder.exporters.{layout,tarsafe}.

The docker-archive is the layout docker 25+ writes and ``docker load``/``podman
load`` read: ``manifest.json`` (Config, RepoTags, Layers) and ``repositories``
beside an OCI layout (``oci-layout``, ``index.json``) whose blobs are the
config, the *uncompressed* layers (named by their diff IDs) and an OCI
manifest listing them. The config bytes are copied unchanged, so the image ID
stays the same on the other side. The OCI format copies the stored blobs
(compressed layers, manifests, indexes) byte for byte, so manifest digests
survive too, and names go in ``index.json`` as containerd writes them
(``io.containerd.image.name`` = full name, ``org.opencontainers.image.ref.name``
= tag). Blobs are streamed, never held in memory, and read through the
content store's verifying reader.
"""

from __future__ import annotations

import enum
import hashlib
import io
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, BinaryIO

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, StoreError
from builder.exporters.layout import (
    CONTAINERD_NAME,
    OCI_LAYOUT,
    REF_NAME,
    DockerArchiveEntry,
    blob_path,
    dump_docker_manifest,
    dump_repositories,
)
from builder.layers.compress import open_decompressed
from builder.oci.descriptor import Descriptor, MediaType, Platform
from builder.oci.image import ImageConfig, Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from builder.root import Root
from solver.digest import Digest

__all__ = [
    "ArchiveFormat",
    "SaveItem",
    "resolve_platform_manifest",
    "save_archive",
    "uncompressed_manifest",
]

CHUNK = 1 << 20


class ArchiveFormat(enum.Enum):
    """What ``save`` writes."""

    DOCKER = "docker"
    OCI = "oci"


@dataclass(frozen=True)
class SaveItem:
    """One image to save: what it points at and the names to record for it."""

    target: Descriptor
    names: tuple[ImageRef, ...] = ()


def resolve_platform_manifest(
    content: ContentStore, desc: Descriptor, platform: Platform | None = None
) -> tuple[Descriptor, Manifest]:
    """The single-platform manifest behind ``desc`` (an index picks ``platform``, else host).

    Raises:
        NotFoundError: a blob is missing from the store.
        InvalidInputError: a stored document is malformed, or no entry fits the platform.
    """
    want = platform or Platform.host()
    for _ in range(4):
        doc = parse_manifest_or_index(content.read_bytes(desc.digest), desc.media_type)
        if isinstance(doc, Manifest):
            return desc, doc
        fits = [m for m in doc.manifests if m.platform is None or want.matches(m.platform)]
        if not fits:
            raise InvalidInputError(f"image index {desc.digest} has no manifest for {want}")
        desc = fits[0]
    raise InvalidInputError(f"image index {desc.digest} nests too deeply")


def uncompressed_manifest(config: Descriptor, layers: Sequence[tuple[Digest, int]]) -> Manifest:
    """The OCI manifest of a docker-archive image: ``config`` and uncompressed layers.

    ``layers`` are (diff ID, size) pairs. Loading and saving both use this, so a
    docker-archive round trip keeps the manifest digest.
    """
    return Manifest(
        config=Descriptor(MediaType.OCI_CONFIG, config.digest, config.size),
        layers=tuple(Descriptor(MediaType.OCI_LAYER, d, s) for d, s in layers),
    )


class _VerifiedReader(io.RawIOBase):
    """Exactly ``size`` bytes of ``source``, then one more read so it verifies at EOF."""

    def __init__(self, source: IO[bytes], size: int) -> None:
        self._source, self._left = source, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        data = self._source.read(min(len(buffer), self._left))
        if not data:
            raise InvalidInputError("blob is shorter than its descriptor says")
        buffer[: len(data)] = data
        self._left -= len(data)
        if self._left == 0 and self._source.read(1):
            raise InvalidInputError("blob is longer than its descriptor says")
        return len(data)


class _TarOut:
    """A streaming tar writer that adds each path once (dedupes shared blobs)."""

    def __init__(self, out: BinaryIO) -> None:
        self.tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self.seen: dict[str, int] = {}

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        return info

    def dirs(self, *names: str) -> None:
        for name in names:
            info = self._info(name, 0)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            self.tar.addfile(info)

    def add_bytes(self, name: str, data: bytes) -> None:
        if name not in self.seen:
            self.seen[name] = len(data)
            self.tar.addfile(self._info(name, len(data)), io.BytesIO(data))

    def add_stream(self, name: str, stream: IO[bytes], size: int) -> None:
        if name not in self.seen:
            self.seen[name] = size
            reader = io.BufferedReader(_VerifiedReader(stream, size), CHUNK)
            self.tar.addfile(self._info(name, size), reader)

    def add_blob(self, content: ContentStore, digest: Digest) -> None:
        name = blob_path(digest)
        if name not in self.seen:
            with content.open_blob(digest) as blob:
                self.add_stream(name, blob, content.size(digest))

    def close(self) -> None:
        self.tar.close()

    def abort(self) -> None:
        """Drop the stream without the end-of-archive blocks (the output is discarded)."""
        stream = self.tar.fileobj
        if stream is not None and hasattr(stream, "closed"):
            stream.closed = True  # tarfile's _Stream would flush into a closed file on GC
        self.tar.closed = True  # type: ignore[attr-defined]


def save_archive(
    root: Root, content: ContentStore, items: Sequence[SaveItem], fmt: ArchiveFormat,
    out: BinaryIO,
) -> None:
    """Write ``items`` to ``out`` as one archive in format ``fmt``.

    Raises:
        NotFoundError: a blob the images need is missing.
        InvalidInputError: a stored blob fails verification or is malformed.
        StoreError: no staging space for decompressing layers.
    """
    tar = _TarOut(out)
    try:
        tar.add_bytes("oci-layout", OCI_LAYOUT)
        tar.dirs("blobs", "blobs/sha256")
        if fmt is ArchiveFormat.OCI:
            index = _save_oci(content, items, tar)
        else:
            index = _save_docker(root, content, items, tar)
        tar.add_bytes("index.json", index.to_json())
    except BaseException:
        tar.abort()
        raise
    tar.close()


def _name_annotations(name: ImageRef) -> dict[str, str]:
    notes = {CONTAINERD_NAME: str(name)}
    if name.tag:
        notes[REF_NAME] = name.tag
    return notes


def _index_entries(desc: Descriptor, names: Sequence[ImageRef]) -> Iterator[Descriptor]:
    plain = Descriptor(desc.media_type, desc.digest, desc.size, platform=desc.platform)
    if not names:
        yield plain
    for name in names:
        yield Descriptor(desc.media_type, desc.digest, desc.size,
                         annotations=_name_annotations(name), platform=desc.platform)


def _save_oci(content: ContentStore, items: Sequence[SaveItem], tar: _TarOut) -> Index:
    entries: list[Descriptor] = []
    for item in items:
        for digest in _closure(content, item.target):
            tar.add_blob(content, digest)
        entries += _index_entries(item.target, item.names)
    return Index(manifests=tuple(entries))


def _closure(content: ContentStore, desc: Descriptor) -> Iterator[Digest]:
    """Every blob ``desc`` reaches, children before parents."""
    if desc.media_type in (MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST,
                           MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST):
        doc = parse_manifest_or_index(content.read_bytes(desc.digest), desc.media_type)
        if isinstance(doc, Index):
            for child in doc.manifests:
                if content.has(child.digest):  # partial multi-platform images are fine
                    yield from _closure(content, child)
        else:
            yield doc.config.digest
            for layer in doc.layers:
                if layer.urls and not content.has(layer.digest):
                    continue  # foreign layers stay remote
                yield layer.digest
    yield desc.digest


def _save_docker(
    root: Root, content: ContentStore, items: Sequence[SaveItem], tar: _TarOut
) -> Index:
    entries: list[DockerArchiveEntry] = []
    repos: list[tuple[str, str, Digest]] = []
    index: list[Descriptor] = []
    for item in items:
        _, manifest = resolve_platform_manifest(content, item.target)
        config_bytes = content.read_bytes(manifest.config.digest)
        config = ImageConfig.from_json(config_bytes)
        if len(config.rootfs.diff_ids) != len(manifest.layers):
            raise InvalidInputError(
                f"image {manifest.config.digest}: {len(manifest.layers)} layers but "
                f"{len(config.rootfs.diff_ids)} diff IDs in its config"
            )
        tar.add_bytes(blob_path(manifest.config.digest), config_bytes)
        layers = [
            _add_uncompressed(root, content, tar, layer, diff_id)
            for layer, diff_id in zip(manifest.layers, config.rootfs.diff_ids, strict=True)
        ]
        oci = uncompressed_manifest(manifest.config, layers)
        data = oci.to_json()
        desc = Descriptor(MediaType.OCI_MANIFEST, _sha(data), len(data))
        tar.add_bytes(blob_path(desc.digest), data)
        index += _index_entries(desc, item.names)
        tags = tuple(n.familiar() for n in item.names if n.tag)
        entries.append(DockerArchiveEntry(
            blob_path(manifest.config.digest), tags, tuple(blob_path(d) for d, _ in layers)))
        repos += [(n.familiar_name(), n.tag, manifest.config.digest)
                  for n in item.names if n.tag]
    tar.add_bytes("manifest.json", dump_docker_manifest(entries))
    tar.add_bytes("repositories", dump_repositories(repos))
    return Index(manifests=tuple(index))


def _sha(data: bytes) -> Digest:
    return Digest.from_hex(hashlib.sha256(data).hexdigest())


def _add_uncompressed(
    root: Root, content: ContentStore, tar: _TarOut, layer: Descriptor, diff_id: Digest
) -> tuple[Digest, int]:
    """Add ``layer`` uncompressed as ``blobs/sha256/<diff_id>``; returns (diff ID, size)."""
    name = blob_path(diff_id)
    if name in tar.seen:
        return diff_id, tar.seen[name]
    if layer.digest == diff_id:
        tar.add_blob(content, diff_id)
        return diff_id, content.size(diff_id)
    with root.tempfile(prefix="layer-") as tmp:
        sha, size = hashlib.sha256(), 0
        with content.open_blob(layer.digest) as blob, open(tmp, "wb") as fh:
            plain = open_decompressed(blob)
            while chunk := plain.read(CHUNK):
                sha.update(chunk)
                fh.write(chunk)
                size += len(chunk)
        if sha.hexdigest() != diff_id.hex:
            raise StoreError(
                f"layer {layer.digest} does not decompress to its diff ID {diff_id}",
                hint="the stored image is corrupt; remove it and load or pull it again",
            )
        with open(tmp, "rb") as fh:
            tar.add_stream(name, fh, size)
    return diff_id, size


