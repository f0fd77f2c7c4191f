"""``load``: read docker-archives and OCI layouts (tar, compressed tar or directory)
into the store, verifying every blob before anything is tagged.

May import: stdlib, solver.digest, builder.errors, builder.oci, builder.content,
builder.images, builder.layers, builder.exporters.{archive,layout,staging,tarsafe}.

Three phases, so bad input never changes the store: (1) stage every member in
uncommitted content writers (``staging.Stage``: bytes live in tmp/ only);
(2) plan: parse ``index.json`` or ``manifest.json``, walk each image, and check
every blob's digest and size against what its parent claims, every config is
JSON, and every docker-archive layer hashes to the diff ID its config claims;
(3) commit the verified blobs, then set the names. A crash in (3) can leave
verified but unreferenced blobs, which garbage collection removes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from builder.content.store import ContentStore
from builder.errors import InvalidInputError, PybuildError
from builder.exporters.archive import uncompressed_manifest
from builder.exporters.layout import (
    CONTAINERD_NAME,
    REF_NAME,
    blob_path,
    digest_in_path,
    parse_docker_manifest,
    parse_oci_layout,
)
from builder.exporters.staging import Stage, StagedBlob
from builder.images.store import ImageRecord, ImageStore
from builder.layers.compress import open_decompressed
from builder.oci.descriptor import Descriptor, MediaType
from builder.oci.image import ImageConfig, Index, Manifest, parse_manifest_or_index
from builder.oci.reference import ImageRef
from solver.digest import Digest, sha256_bytes

__all__ = ["LoadedImage", "load_path", "load_stream"]

_MAX_DEPTH = 4


@dataclass(frozen=True)
class LoadedImage:
    """An image that ``load`` stored: its target, its names and docker's image ID."""

    target: Descriptor
    names: tuple[ImageRef, ...]
    image_id: Digest
    replaced: tuple[tuple[ImageRef, Digest], ...] = ()


@dataclass
class _Plan:
    """What to commit for one image (mutable only while planning)."""

    target: Descriptor
    names: tuple[ImageRef, ...]
    image_id: Digest
    blobs: list[StagedBlob] = field(default_factory=list)
    documents: list[bytes] = field(default_factory=list)


def load_path(content: ContentStore, images: ImageStore, path: Path) -> list[LoadedImage]:
    """Load an archive file (plain, gzip or zstd tar) or an OCI layout directory.

    Raises:
        InvalidInputError: the archive is malformed, hostile, or lies about a digest.
        OSError: the path cannot be read.
    """
    with Stage(content) as stage:
        if path.is_dir():
            stage.read_dir(path)
        else:
            with open(path, "rb") as fh:
                stage.read_tar(open_decompressed(fh))
        return _finish(stage, content, images)


def load_stream(content: ContentStore, images: ImageStore, stream: BinaryIO) -> list[LoadedImage]:
    """Load an archive read once from ``stream`` (e.g. stdin).

    Raises:
        InvalidInputError: the archive is malformed, hostile, or lies about a digest.
    """
    with Stage(content) as stage:
        stage.read_tar(open_decompressed(stream))
        return _finish(stage, content, images)


def _finish(stage: Stage, content: ContentStore, images: ImageStore) -> list[LoadedImage]:
    if stage.get("index.json") is not None:
        plans = list(_plan_oci(stage))
    elif stage.get("manifest.json") is not None:
        plans = list(_plan_docker(stage))
    else:
        raise InvalidInputError(
            "archive has neither index.json nor manifest.json",
            hint="pybuild load reads docker-archives (docker save) and OCI image layouts",
        )
    if not plans:
        raise InvalidInputError("archive holds no images")
    loaded = []
    with content.lease():
        for plan in plans:
            for blob in plan.blobs:
                stage.commit(blob)
            for doc in plan.documents:
                content.put_bytes(doc)
        for plan in plans:
            replaced = _record(images, plan)
            loaded.append(LoadedImage(plan.target, plan.names, plan.image_id, replaced))
    return loaded


def _record(images: ImageStore, plan: _Plan) -> tuple[tuple[ImageRef, Digest], ...]:
    """Name the image; returns (name, old image ID) for names that moved off another image."""
    if not plan.names:
        images.add_dangling(plan.target)
    replaced = []
    for name in plan.names:
        old = images.get(name)
        if old is not None and old.digest != plan.target.digest:
            replaced.append((name, images.image_id(ImageRecord(name, old, ""))))
        images.set(name, plan.target)
    return tuple(replaced)


def _data(blob: StagedBlob, what: str) -> bytes:
    if blob.data is None:
        raise InvalidInputError(f"{what} {blob.path} is too large to be a JSON document")
    return blob.data


def _name(text: str, what: str) -> ImageRef:
    try:
        return ImageRef.parse(text)
    except PybuildError as exc:
        raise InvalidInputError(f"{what}: invalid image name {text!r}: {exc.message}") from None


# OCI layout ---------------------------------------------------------------------


def _names_from_annotations(notes: Mapping[str, str]) -> tuple[ImageRef, ...]:
    full = notes.get(CONTAINERD_NAME, "")
    if full:
        return (_name(full, "index.json"),)
    ref = notes.get(REF_NAME, "")
    if ref and ("/" in ref or ":" in ref):  # a bare tag names no repository
        return (_name(ref, "index.json"),)
    return ()


def _plan_oci(stage: Stage) -> Iterator[_Plan]:
    layout = stage.get("oci-layout")
    if layout is None:
        raise InvalidInputError("OCI layout has index.json but no oci-layout file")
    parse_oci_layout(_data(layout, "oci-layout"))
    index_blob = stage.get("index.json")
    assert index_blob is not None
    index = Index.from_json(_data(index_blob, "index.json"))
    merged: dict[Digest, _Plan] = {}
    for desc in index.manifests:
        names = _names_from_annotations(desc.annotations)
        if desc.digest in merged:
            merged[desc.digest].names += names
            continue
        plan = _Plan(_plain(desc), names, desc.digest)
        _walk(stage, desc, plan, 0)
        merged[desc.digest] = plan
    yield from merged.values()


def _plain(desc: Descriptor) -> Descriptor:
    return Descriptor(desc.media_type, desc.digest, desc.size, platform=desc.platform)


def _verified(stage: Stage, desc: Descriptor, what: str) -> StagedBlob:
    blob = stage.get(blob_path(desc.digest))
    if blob is None:
        raise InvalidInputError(f"archive lacks {what} {desc.digest}")
    if blob.digest != desc.digest:
        raise InvalidInputError(
            f"{what} {blob.path} does not match its digest: claimed {desc.digest}, "
            f"content is {blob.digest}",
            hint="the archive is corrupt or was tampered with",
        )
    if blob.size != desc.size:
        raise InvalidInputError(
            f"{what} {desc.digest}: size {blob.size} differs from the {desc.size} claimed"
        )
    return blob


def _walk(stage: Stage, desc: Descriptor, plan: _Plan, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise InvalidInputError(f"image index {desc.digest} nests too deeply")
    blob = _verified(stage, desc, "manifest")
    doc = parse_manifest_or_index(_data(blob, "manifest"), desc.media_type)
    if isinstance(doc, Index):
        present = [m for m in doc.manifests if stage.get(blob_path(m.digest)) is not None]
        if not present:
            raise InvalidInputError(f"archive lacks every manifest of index {desc.digest}")
        for child in present:
            _walk(stage, child, plan, depth + 1)
    else:
        config = _verified(stage, doc.config, "config")
        if doc.config.media_type in (MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG):
            ImageConfig.from_json(_data(config, "config"))
        if depth == 0:
            plan.image_id = doc.config.digest
        plan.blobs.append(config)
        for layer in doc.layers:
            if layer.urls and stage.get(blob_path(layer.digest)) is None:
                continue  # a foreign layer stays remote
            plan.blobs.append(_verified(stage, layer, "layer"))
    plan.blobs.append(blob)


# docker-archive -------------------------------------------------------------------


def _plan_docker(stage: Stage) -> Iterator[_Plan]:
    listing = stage.get("manifest.json")
    assert listing is not None
    for entry in parse_docker_manifest(_data(listing, "manifest.json")):
        config_blob = stage.get(entry.config)
        if config_blob is None:
            raise InvalidInputError(f"manifest.json names config {entry.config!r}, not in archive")
        claimed = digest_in_path(entry.config)
        if claimed is not None and claimed != config_blob.digest:
            raise InvalidInputError(
                f"config {entry.config} does not match its digest: content is "
                f"{config_blob.digest}", hint="the archive is corrupt or was tampered with")
        config = ImageConfig.from_json(_data(config_blob, "config"))
        diff_ids = config.rootfs.diff_ids
        if len(diff_ids) != len(entry.layers):
            raise InvalidInputError(
                f"image {config_blob.digest}: manifest.json lists {len(entry.layers)} layers, "
                f"its config {len(diff_ids)} diff IDs")
        layers = [_docker_layer(stage, path, diff_id)
                  for path, diff_id in zip(entry.layers, diff_ids, strict=True)]
        manifest = _docker_manifest(config_blob, layers)
        data = manifest.to_json()
        target = Descriptor(MediaType.OCI_MANIFEST, sha256_bytes(data), len(data))
        names = tuple(_name(t, "manifest.json") for t in entry.repo_tags)
        yield _Plan(target, names, config_blob.digest, [config_blob, *layers], [data])


def _docker_layer(stage: Stage, path: str, diff_id: Digest) -> StagedBlob:
    blob = stage.get(path)
    if blob is None:
        raise InvalidInputError(f"manifest.json names layer {path!r}, not in archive")
    claimed = digest_in_path(path)
    if claimed is not None and claimed != blob.digest:
        raise InvalidInputError(
            f"layer {path} does not match its digest: content is {blob.digest}",
            hint="the archive is corrupt or was tampered with")
    if blob.diff_id != diff_id:
        raise InvalidInputError(
            f"layer {path} does not match the diff ID {diff_id} its config claims",
            hint="the archive is corrupt or was tampered with")
    return blob


def _docker_manifest(config: StagedBlob, layers: list[StagedBlob]) -> Manifest:
    config_desc = Descriptor(MediaType.OCI_CONFIG, config.digest, config.size)
    if all(layer.digest == layer.diff_id for layer in layers):
        return uncompressed_manifest(config_desc, [(b.digest, b.size) for b in layers])
    return Manifest(
        config=config_desc,
        layers=tuple(
            Descriptor(MediaType.OCI_LAYER if b.digest == b.diff_id else MediaType.OCI_LAYER_GZIP,
                       b.digest, b.size)
            for b in layers
        ),
    )
