"""File formats of image archives: docker-archive ``manifest.json``/``repositories`` and
the OCI image layout's ``oci-layout`` and name annotations. Bytes in, typed values out.

May import: stdlib, builder.errors, solver.digest.

A docker-archive (``docker save``) holds ``manifest.json``, a list of
``{"Config": path, "RepoTags": [...], "Layers": [path, ...]}``, plus the files
it names. Docker 25+ and pybuild put every file under ``blobs/sha256/<hex>``
beside an OCI layout, so one tar is both formats; older writers used
``<hex>.json`` and ``<id>/layer.tar``. Both are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from builder.errors import InvalidInputError
from solver.digest import Digest

__all__ = [
    "CONTAINERD_NAME",
    "DockerArchiveEntry",
    "OCI_LAYOUT",
    "REF_NAME",
    "blob_path",
    "digest_in_path",
    "dump_docker_manifest",
    "dump_repositories",
    "parse_docker_manifest",
    "parse_oci_layout",
]

OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_HEX_RE = re.compile(r"(?:^|/)(?:sha256[:/])?([0-9a-f]{64})(?:\.json|\.tar|/layer\.tar)?$")


@dataclass(frozen=True)
class DockerArchiveEntry:
    """One image of a docker-archive's ``manifest.json`` (paths are archive member names)."""

    config: str
    repo_tags: tuple[str, ...]
    layers: tuple[str, ...]


def blob_path(digest: Digest) -> str:
    """The archive member that holds ``digest`` in an OCI layout: ``blobs/sha256/<hex>``."""
    return f"blobs/sha256/{digest.hex}"


def digest_in_path(path: str) -> Digest | None:
    """The digest a member name claims (``blobs/sha256/<hex>``, ``<hex>.json``), if any."""
    match = _HEX_RE.search(path)
    if not match or path.endswith("/layer.tar"):
        return None
    return Digest.from_hex(match.group(1))


def _load(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{what} is not valid JSON: {exc}") from None


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"manifest.json: {what} must be a list of strings")
    return tuple(value)


def parse_docker_manifest(data: bytes) -> list[DockerArchiveEntry]:
    """Parse a docker-archive ``manifest.json``.

    Raises:
        InvalidInputError: not JSON, or not a list of ``{Config, RepoTags, Layers}``.
    """
    doc = _load(data, "manifest.json")
    if not isinstance(doc, list):
        raise InvalidInputError("manifest.json: expected a list of images")
    entries = []
    for item in doc:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise InvalidInputError("manifest.json: each image needs a Config path")
        layers = _strings(item.get("Layers"), "Layers")
        entries.append(
            DockerArchiveEntry(item["Config"], _strings(item.get("RepoTags"), "RepoTags"), layers)
        )
    return entries


def dump_docker_manifest(entries: Sequence[DockerArchiveEntry]) -> bytes:
    """The ``manifest.json`` bytes for ``entries`` (docker's field names and order)."""
    doc = [
        {"Config": e.config, "RepoTags": list(e.repo_tags) or None, "Layers": list(e.layers)}
        for e in entries
    ]
    return json.dumps(doc, separators=(",", ":")).encode()


def dump_repositories(tags: Sequence[tuple[str, str, Digest]]) -> bytes:
    """The legacy ``repositories`` file: repository → tag → image hex, from (repo, tag, id)."""
    doc: dict[str, dict[str, str]] = {}
    for repo, tag, image_id in tags:
        doc.setdefault(repo, {})[tag] = image_id.hex
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def parse_oci_layout(data: bytes) -> None:
    """Check an ``oci-layout`` file.

    Raises:
        InvalidInputError: not JSON or an unsupported ``imageLayoutVersion``.
    """
    doc = _load(data, "oci-layout")
    if not isinstance(doc, dict) or doc.get("imageLayoutVersion") != "1.0.0":
        raise InvalidInputError("oci-layout: unsupported imageLayoutVersion (want 1.0.0)")
