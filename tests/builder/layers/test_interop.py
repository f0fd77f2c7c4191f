"""Reference tools agree with pybuild's layers: umoci unpacks ours, we apply umoci's."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from builder.layers import (
    Compression,
    LayerOptions,
    changes_from_diff,
    changes_from_dir,
    unpack_layer,
    write_layer,
)

pytestmark = [pytest.mark.interop, pytest.mark.privileged]  # chown needs root


def _files(root: Path) -> dict[str, tuple[object, ...]]:
    """Type, permission bits, owner and content or link target of every entry."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = os.lstat(path)
            detail: object = None
            if stat.S_ISREG(st.st_mode):
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                detail = os.readlink(path)
            out[path.relative_to(root).as_posix()] = (st.st_mode, st.st_uid, st.st_gid, detail)
    return out


def _sample(base: Path, top: Path) -> None:
    (base / "etc").mkdir(parents=True)
    (base / "etc/passwd").write_text("root:x:0:0\n")
    (base / "etc/shadow").write_text("secret\n")
    (base / "var/cache/apt").mkdir(parents=True)
    (base / "var/cache/apt/pkg").write_bytes(os.urandom(5000))
    (base / "bin").mkdir()
    (base / "bin/tool").write_text("#!/bin/sh\n")
    os.chmod(base / "bin/tool", 0o4755)
    os.symlink("tool", base / "bin/alias")
    os.link(base / "bin/tool", base / "bin/tool2")
    (base / "tmp").mkdir(mode=0o1777)
    os.chmod(base / "tmp", 0o1777)
    (base / "home/user").mkdir(parents=True)
    os.chown(base / "home/user", 1000, 1000)
    (base / ("long-" * 30)).write_text("long name")
    shutil.copytree(base, top, symlinks=True)
    (top / "etc/shadow").unlink()
    shutil.rmtree(top / "var/cache/apt")
    (top / "etc/passwd").write_text("root:x:0:0\nuser:x:1000:1000\n")
    (top / "home/user/.profile").write_text("export A=1\n")
    os.chown(top / "home/user/.profile", 1000, 1000)


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs/sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _oci_layout(layout: Path, layers: list[tuple[bytes, str, str]]) -> None:
    (layout / "blobs/sha256").mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff for _, diff, _ in layers]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **_blob(layout, json.dumps(config).encode()),
        },
        "layers": [{"mediaType": mt, **_blob(layout, data)} for data, _, mt in layers],
    }
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "annotations": {"org.opencontainers.image.ref.name": "t"},
                **_blob(layout, json.dumps(manifest).encode()),
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))


_needs_umoci = pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci not installed")


@_needs_umoci
def test_umoci_unpacks_our_layers(tmp_path: Path) -> None:  # umoci 0.4.7 has no zstd
    base, top = tmp_path / "base", tmp_path / "top"
    _sample(base, top)
    layers = []
    for changes in (changes_from_dir(base), changes_from_diff(base, top)):
        buf = io.BytesIO()
        info = write_layer(changes, buf, LayerOptions(Compression.GZIP))
        layers.append((buf.getvalue(), str(info.diff_id), info.media_type))
    _oci_layout(tmp_path / "layout", layers)
    bundle = tmp_path / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--image", f"{tmp_path / 'layout'}:t", str(bundle)],
        check=True,
        capture_output=True,
    )
    assert _files(bundle / "rootfs") == _files(top)


def _umoci(*args: str) -> None:
    subprocess.run(["umoci", *args], check=True, capture_output=True)


@_needs_umoci
def test_we_apply_layers_umoci_made(tmp_path: Path) -> None:
    layout, bundle = tmp_path / "layout", tmp_path / "bundle"
    _umoci("init", "--layout", str(layout))
    _umoci("new", "--image", f"{layout}:t")
    _umoci("unpack", "--image", f"{layout}:t", str(bundle))
    rootfs = bundle / "rootfs"
    _sample(tmp_path / "base", tmp_path / "top")
    for entry in (tmp_path / "base").iterdir():
        shutil.move(str(entry), rootfs / entry.name)
    _umoci("repack", "--image", f"{layout}:t", str(bundle))
    bundle = tmp_path / "bundle2"  # repack diffs against the unpacked image: unpack again
    _umoci("unpack", "--image", f"{layout}:t", str(bundle))
    rootfs = bundle / "rootfs"
    (rootfs / "etc/shadow").unlink()
    shutil.rmtree(rootfs / "var/cache/apt")
    (rootfs / "var/cache/apt").mkdir()
    _umoci("repack", "--image", f"{layout}:t", str(bundle))
    index = json.loads((layout / "index.json").read_text())
    manifest_hex = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs/sha256" / manifest_hex).read_text())
    assert len(manifest["layers"]) == 2
    out = tmp_path / "out"
    out.mkdir()
    for layer in manifest["layers"]:
        with open(layout / "blobs/sha256" / layer["digest"].split(":")[1], "rb") as blob:
            unpack_layer(blob, out)
    assert _files(out) == _files(rootfs)


@pytest.mark.parametrize(
    ("compression", "tool"), [(Compression.GZIP, "gzip"), (Compression.ZSTD, "zstd")], ids=str
)
def test_reference_decompressors_read_our_blobs(
    tmp_path: Path, compression: Compression, tool: str
) -> None:
    _sample(tmp_path / "base", tmp_path / "top")
    plain, packed = io.BytesIO(), io.BytesIO()
    write_layer(changes_from_dir(tmp_path / "top"), plain, LayerOptions(Compression.NONE))
    write_layer(changes_from_dir(tmp_path / "top"), packed, LayerOptions(compression))
    out = subprocess.run([tool, "-dc"], input=packed.getvalue(), capture_output=True, check=True)
    assert out.stdout == plain.getvalue()
