"""Image manifest and index documents (and the config types, re-exported from
builder.oci.config): frozen values with canonical JSON.

May import: stdlib, solver.digest, builder.errors, builder.oci.{config,descriptor,jsonio}.

Output is deterministic: the same value always gives the same bytes. Manifests
and indexes are written in Go struct field order, compact, as Go's encoder does;
see builder.oci.config for how configs are written.

``from_json`` is tolerant (unknown fields are ignored, ``null`` means absent) but
raises ``InvalidInputError`` on anything that is not JSON or has the wrong shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.errors import InvalidInputError
from builder.oci import jsonio
from builder.oci.config import (
    ContainerConfig,
    Healthcheck,
    History,
    ImageConfig,
    RootFS,
    chain_ids,
)
from builder.oci.descriptor import Descriptor, MediaType

__all__ = [
    "ContainerConfig",
    "Healthcheck",
    "History",
    "ImageConfig",
    "Index",
    "Manifest",
    "RootFS",
    "chain_ids",
    "parse_manifest_or_index",
]


def _descriptors(obj: Mapping[str, Any], key: str, what: str) -> tuple[Descriptor, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInputError(f"invalid {what}: field {key!r} must be a list")
    return tuple(Descriptor.from_json(v, f"{what} {key} entry") for v in value)


def _check_schema(obj: Mapping[str, Any], what: str) -> None:
    version = jsonio.get_int(obj, "schemaVersion", what, default=-1)
    if version != 2:
        raise InvalidInputError(
            f"invalid {what}: schemaVersion must be 2, got {obj.get('schemaVersion')!r}"
        )


def _encode(doc: Manifest | Index, body: Mapping[str, Any]) -> bytes:
    """Canonical bytes, in Go struct field order: the fields a manifest and an
    index share, around ``body`` (their own fields)."""
    out: dict[str, Any] = {"schemaVersion": 2, "mediaType": doc.media_type}
    if doc.artifact_type:
        out["artifactType"] = doc.artifact_type
    out.update(body)
    if doc.subject is not None:
        out["subject"] = doc.subject.to_json()
    if doc.annotations:
        out["annotations"] = dict(doc.annotations)
    return jsonio.encode(out)


def _decode(data: bytes | str, what: str, default_media_type: str) -> tuple[dict[str, Any], str]:
    """The JSON object of a manifest or index, schema checked, and its media type."""
    obj = jsonio.decode_object(data, what)
    _check_schema(obj, what)
    return obj, jsonio.get_str(obj, "mediaType", what, default=default_media_type)


@dataclass(frozen=True, slots=True)
class Manifest:
    """An image manifest (OCI or Docker schema 2)."""

    config: Descriptor
    layers: tuple[Descriptor, ...] = ()
    media_type: str = MediaType.OCI_MANIFEST
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotations", dict(sorted(self.annotations.items())))

    def __hash__(self) -> int:
        return hash(self.to_json())

    def to_json(self) -> bytes:
        """Canonical bytes, in Go struct field order."""
        return _encode(self, {"config": self.config.to_json(),
                              "layers": [d.to_json() for d in self.layers]})

    @classmethod
    def from_json(cls, data: bytes | str) -> Manifest:
        """Parse an image manifest.

        Raises:
            InvalidInputError: not JSON, an index, or a field has the wrong shape.
        """
        what = "image manifest"
        obj, media_type = _decode(data, what, MediaType.OCI_MANIFEST)
        if "manifests" in obj or media_type in (MediaType.OCI_INDEX,
                                                MediaType.DOCKER_MANIFEST_LIST):
            raise InvalidInputError(f"invalid {what}: this is an image index")
        if "config" not in obj:
            raise InvalidInputError(f"invalid {what}: no 'config' descriptor")
        subject = jsonio.get_object(obj, "subject", what)
        return cls(
            config=Descriptor.from_json(obj["config"], what + " config"),
            layers=_descriptors(obj, "layers", what),
            media_type=media_type,
            annotations=jsonio.get_str_map(obj, "annotations", what),
            subject=Descriptor.from_json(subject, what) if subject is not None else None,
            artifact_type=jsonio.get_str(obj, "artifactType", what),
        )


@dataclass(frozen=True, slots=True)
class Index:
    """An image index (OCI) or manifest list (Docker)."""

    manifests: tuple[Descriptor, ...] = ()
    media_type: str = MediaType.OCI_INDEX
    annotations: Mapping[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotations", dict(sorted(self.annotations.items())))

    def __hash__(self) -> int:
        return hash(self.to_json())

    def to_json(self) -> bytes:
        """Canonical bytes, in Go struct field order."""
        return _encode(self, {"manifests": [d.to_json() for d in self.manifests]})

    @classmethod
    def from_json(cls, data: bytes | str) -> Index:
        """Parse an image index or Docker manifest list.

        Raises:
            InvalidInputError: not JSON, a manifest, or a field has the wrong shape.
        """
        what = "image index"
        obj, media_type = _decode(data, what, MediaType.OCI_INDEX)
        if "config" in obj or media_type in (MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST):
            raise InvalidInputError(f"invalid {what}: this is an image manifest")
        subject = jsonio.get_object(obj, "subject", what)
        return cls(
            manifests=_descriptors(obj, "manifests", what),
            media_type=media_type,
            annotations=jsonio.get_str_map(obj, "annotations", what),
            subject=Descriptor.from_json(subject, what) if subject is not None else None,
            artifact_type=jsonio.get_str(obj, "artifactType", what),
        )


def parse_manifest_or_index(data: bytes, media_type: str = "") -> Manifest | Index:
    """Parse a manifest or an index, deciding by ``media_type`` or, if unknown, by shape.

    Raises:
        InvalidInputError: neither a manifest nor an index.
    """
    if media_type in (MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST):
        return Index.from_json(data)
    if media_type in (MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST):
        return Manifest.from_json(data)
    obj = jsonio.decode_object(data, "manifest")
    if "manifests" in obj:
        return Index.from_json(data)
    return Manifest.from_json(data)
