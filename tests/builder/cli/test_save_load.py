"""``pybuild save`` archive layouts and ``save``/``load`` command-line behaviour."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.builder.exporters.archives import read_members

if TYPE_CHECKING:
    from tests.conftest import Pybuild


def _save(pybuild: Pybuild, tmp_path: Path, *args: str) -> dict[str, bytes]:
    out = tmp_path / "out.tar"
    pybuild.ok("save", "-o", str(out), *args)
    members: dict[str, bytes] = read_members(out)
    return members


def test_docker_archive_has_manifest_repositories_and_uncompressed_layers(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    members = _save(busybox_image, tmp_path, "busybox")
    listing = json.loads(members["manifest.json"])
    assert listing[0]["RepoTags"] == ["busybox:latest"]
    config_bytes = members[listing[0]["Config"]]
    config = json.loads(config_bytes)
    assert listing[0]["Config"] == "blobs/sha256/" + hashlib.sha256(config_bytes).hexdigest()
    for path, diff_id in zip(listing[0]["Layers"], config["rootfs"]["diff_ids"], strict=True):
        layer = members[path]
        assert "sha256:" + hashlib.sha256(layer).hexdigest() == diff_id
        with tarfile.open(fileobj=io.BytesIO(layer)) as tar:  # plain tar, as docker writes
            assert "bin/busybox" in tar.getnames()
    repos = json.loads(members["repositories"])
    assert list(repos) == ["busybox"] and list(repos["busybox"]) == ["latest"]
    assert json.loads(members["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}


def test_oci_archive_copies_stored_blobs_and_names_them_like_containerd(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    members = _save(busybox_image, tmp_path, "--format", "oci", "busybox")
    index = json.loads(members["index.json"])
    entry = index["manifests"][0]
    assert entry["annotations"] == {"io.containerd.image.name": "docker.io/library/busybox:latest",
                                    "org.opencontainers.image.ref.name": "latest"}
    for name, data in members.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
            assert (busybox_image.root / "blobs" / "sha256" / name.rsplit("/", 1)[1]).exists()
    manifest = json.loads(members["blobs/sha256/" + entry["digest"][7:]])
    assert manifest["layers"][0]["mediaType"].endswith("tar+gzip")
    assert gzip.decompress(members["blobs/sha256/" + manifest["layers"][0]["digest"][7:]])
    assert "manifest.json" not in members


def test_save_is_deterministic(busybox_image: Pybuild, tmp_path: Path) -> None:
    for fmt in ("docker", "oci"):
        busybox_image.ok("save", "--format", fmt, "-o", str(tmp_path / "a.tar"), "busybox")
        busybox_image.ok("save", "--format", fmt, "-o", str(tmp_path / "b.tar"), "busybox")
        assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_save_to_stdout_when_not_a_terminal(busybox_image: Pybuild, tmp_path: Path) -> None:
    out = busybox_image.ok("save", "busybox").stdout
    file_copy = tmp_path / "f.tar"
    busybox_image.ok("save", "-o", str(file_copy), "busybox")
    assert out == file_copy.read_bytes()


def test_save_names_only_what_was_asked_for(busybox_image: Pybuild, tmp_path: Path) -> None:
    busybox_image.ok("tag", "busybox", "second:2")
    image_id = json.loads(busybox_image.ok("inspect", "busybox").out)[0]["Id"]
    both = json.loads(_save(busybox_image, tmp_path, "busybox", "second:2")["manifest.json"])
    assert len(both) == 1 and sorted(both[0]["RepoTags"]) == ["busybox:latest", "second:2"]
    by_id = json.loads(_save(busybox_image, tmp_path, image_id[7:19])["manifest.json"])
    assert by_id[0]["RepoTags"] is None


def test_save_of_missing_image_fails_and_writes_no_file(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    out = tmp_path / "out.tar"
    result = busybox_image("save", "-o", str(out), "busybox", "nosuch")
    assert result.code == 1 and "no such image: nosuch" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]  # no file, no temp file


def test_load_from_stdin_and_quiet(busybox_image: Pybuild, tmp_path: Path) -> None:
    data = busybox_image.ok("save", "busybox").stdout
    other = busybox_image.at(tmp_path / "other")
    assert other.ok("load", "-q", stdin=data).out == ""
    assert "busybox" in other.ok("images").out


def test_load_of_missing_file_is_usage_error(pybuild: Pybuild) -> None:
    result = pybuild("load", "-i", "/nonexistent/archive.tar")
    assert result.code == 2 and "no such file" in result.stderr


def test_save_refuses_to_write_to_a_terminal(busybox_image: Pybuild) -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        proc = busybox_image.spawn(["save", "busybox"], stdout=slave, stderr=subprocess.PIPE)
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 2 and b"refusing to save to a terminal" in err


def test_save_of_corrupt_stored_layer_fails_and_writes_no_file(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    blobs = busybox_image.root / "blobs" / "sha256"
    layer = max(blobs.iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(layer.read_bytes())
    data[-100] ^= 0xFF
    layer.write_bytes(bytes(data))
    for fmt in ("docker", "oci"):
        out = tmp_path / f"{fmt}.tar"
        result = busybox_image("save", "--format", fmt, "-o", str(out), "busybox")
        assert result.code == 1 and result.stderr.startswith("error: "), result.stderr
        assert not out.exists()
