"""Helpers for end-to-end build tests: run ``build()``, read back the stored image."""

from __future__ import annotations

import contextlib
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder.build import BuildRequest, BuildResult, build
from builder.content.store import ContentStore
from builder.images.store import ImageStore
from builder.layers import open_decompressed
from builder.oci.config import ImageConfig
from builder.oci.image import Manifest
from builder.oci.reference import ImageRef
from builder.root import Root
from solver.progress import Outcome, RecordingSink, VertexCompleted, VertexStarted

CONTEXTS = Path(__file__).resolve().parents[2] / "testdata" / "contexts"


@dataclass(frozen=True)
class Built:
    """One build: its result and the events it emitted."""

    result: BuildResult
    sink: RecordingSink

    def outcomes(self) -> dict[str, Outcome]:
        """Vertex name → how it ended."""
        names = {e.vertex: e.name for e in self.sink.events if isinstance(e, VertexStarted)}
        return {names.get(e.vertex, str(e.vertex)): e.outcome
                for e in self.sink.events if isinstance(e, VertexCompleted)}

    def ran(self) -> set[str]:
        """Names of the vertices that executed (excluding the context load)."""
        return {n for n, o in self.outcomes().items()
                if o is Outcome.EXECUTED and "[internal]" not in n}


def copy_context(name: str, dest: Path) -> Path:
    """A private copy of ``testdata/contexts/NAME`` (tests may edit it)."""
    target = dest / name
    shutil.copytree(CONTEXTS / name, target, symlinks=True)
    return target


def run_build(root: Path, context: Path, **fields: Any) -> Built:
    """``build()`` in ``root`` with a recording sink."""
    sink = RecordingSink()
    with Root.open(root) as opened:
        result = build(BuildRequest(context=context, **fields), opened, sink)
    return Built(result, sink)


@dataclass(frozen=True)
class StoredImage:
    """An image read back from a root: manifest, config and each layer's entry names."""

    digest: str
    manifest: Manifest
    config: ImageConfig
    layers: list[list[str]]
    blobs: list[Path]

    def layer_file(self, index: int, name: str) -> bytes:
        with _open_layer(self.blobs[index]) as tar:
            for member in tar:
                if member.name.rstrip("/") == name:
                    data = tar.extractfile(member)
                    assert data is not None
                    return data.read()
        raise AssertionError(f"{name} not in layer {index}")


@contextlib.contextmanager
def _open_layer(blob: Path) -> Iterator[tarfile.TarFile]:
    with blob.open("rb") as raw, tarfile.open(fileobj=open_decompressed(raw), mode="r|") as tar:
        yield tar


def stored_image(root: Path, name: str) -> StoredImage:
    """Read image ``name`` from ``root``."""
    with Root.open(root) as opened:
        content = ContentStore(opened)
        desc = ImageStore(opened, content).get(ImageRef.parse(name))
        assert desc is not None, f"{name} not in the store"
        manifest = Manifest.from_json(content.read_bytes(desc.digest))
        config = ImageConfig.from_json(content.read_bytes(manifest.config.digest))
        blobs = [content.path(layer.digest) for layer in manifest.layers]
        layers = []
        for blob in blobs:
            with _open_layer(blob) as tar:
                layers.append([m.name.rstrip("/") for m in tar.getmembers()])
    return StoredImage(str(desc.digest), manifest, config, layers, blobs)
