"""Image manifest and index: canonical bytes, tolerant parsing, clear errors, and
interop with skopeo and umoci."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.errors import InvalidInputError
from builder.oci.descriptor import Descriptor, MediaType, Platform
from builder.oci.image import ImageConfig, Index, Manifest, RootFS, parse_manifest_or_index
from solver.digest import Digest, sha256_bytes

from .samples import D1, D2, full_config


def _manifest() -> Manifest:
    return Manifest(
        config=Descriptor(MediaType.OCI_CONFIG, D1, 10),
        layers=(Descriptor(MediaType.OCI_LAYER_GZIP, D2, 20),),
        annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    )


def test_manifest_bytes_are_compact_and_in_go_order() -> None:
    data = _manifest().to_json()
    assert data.startswith(b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.'
                           b'manifest.v1+json","config":{"mediaType":')
    assert list(json.loads(data)) == ["schemaVersion", "mediaType", "config", "layers",
                                      "annotations"]
    assert Manifest.from_json(data) == _manifest()


def test_docker_manifest_keeps_its_media_type() -> None:
    m = Manifest(Descriptor(MediaType.DOCKER_CONFIG, D1, 1), (),
                 media_type=MediaType.DOCKER_MANIFEST)
    assert Manifest.from_json(m.to_json()).media_type == MediaType.DOCKER_MANIFEST


def test_index_round_trip_with_platforms() -> None:
    index = Index((
        Descriptor(MediaType.OCI_MANIFEST, D1, 5, platform=Platform("linux", "amd64")),
        Descriptor(MediaType.OCI_MANIFEST, D2, 6, platform=Platform("linux", "arm64", "v8")),
    ))
    assert Index.from_json(index.to_json()) == index
    assert isinstance(parse_manifest_or_index(index.to_json()), Index)
    assert isinstance(parse_manifest_or_index(_manifest().to_json()), Manifest)


def test_manifest_without_media_type_is_accepted_as_oci() -> None:
    obj = json.loads(_manifest().to_json())
    del obj["mediaType"]
    assert Manifest.from_json(json.dumps(obj).encode()).media_type == MediaType.OCI_MANIFEST


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"schemaVersion":1}', "schemaVersion must be 2"),
        (b'{"schemaVersion":2}', "no 'config'"),
        (b'{"schemaVersion":2,"manifests":[]}', "this is an image index"),
        (b'{"schemaVersion":2,"config":{}}', "'digest'"),
        (b'{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:' + b"1" * 64
         + b'","size":1},"layers":{}}', "'layers' must be a list"),
        (b"null", "expected a JSON object"),
    ],
)
def test_malformed_manifest_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Manifest.from_json(data)


def test_index_refuses_a_manifest() -> None:
    with pytest.raises(InvalidInputError, match="this is an image manifest"):
        Index.from_json(_manifest().to_json())


def _write_layout(tmp_path: Path) -> Path:
    """A one-image OCI layout built from pybuild's own documents."""
    import io
    import tarfile

    layout = tmp_path / "layout"
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> Digest:
        digest = sha256_bytes(data)
        (blobs / digest.hex).write_bytes(data)
        return digest

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    layer = buf.getvalue()
    cfg = full_config()
    cfg = ImageConfig(architecture="amd64", os="linux", created=cfg.created,
                      config=cfg.config, rootfs=RootFS(diff_ids=(sha256_bytes(layer),)),
                      history=cfg.history[:1])
    cfg_bytes = cfg.to_json()
    manifest = Manifest(Descriptor(MediaType.OCI_CONFIG, put(cfg_bytes), len(cfg_bytes)),
                        (Descriptor(MediaType.OCI_LAYER, put(layer), len(layer)),))
    m_bytes = manifest.to_json()
    index = Index((Descriptor(MediaType.OCI_MANIFEST, put(m_bytes), len(m_bytes),
                              {"org.opencontainers.image.ref.name": "v1"}),))
    (layout / "index.json").write_bytes(index.to_json())
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return layout


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo not installed")
def test_skopeo_accepts_our_manifest_and_config(tmp_path: Path) -> None:
    layout = _write_layout(tmp_path)
    out = subprocess.run(["skopeo", "inspect", f"oci:{layout}:v1"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["Architecture"] == "amd64" and info["Env"][1] == "A=<&>"


@pytest.mark.interop
@pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci not installed")
def test_umoci_reads_our_image(tmp_path: Path) -> None:
    layout = _write_layout(tmp_path)
    out = subprocess.run(["umoci", "stat", "--json", "--image", f"{layout}:v1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ADD rootfs.tar" in out.stdout


def test_documents_are_hashable_and_equal_values_hash_equal() -> None:
    assert hash(_manifest()) == hash(Manifest.from_json(_manifest().to_json()))
    assert len({Index(), Index()}) == 1
