"""``load``: round trips, formats pybuild and others write, and hostile archives that
must be refused with one clear error and the store left exactly as it was."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .archives import Members, fingerprint, jdump, read_members, sha, write_members

if TYPE_CHECKING:
    from tests.conftest import Pybuild


def _saved(pybuild: Pybuild, tmp_path: Path, fmt: str) -> Members:
    out = tmp_path / f"saved-{fmt}.tar"
    pybuild.ok("save", "--format", fmt, "-o", str(out), "busybox")
    return read_members(out)


def _inspect(pybuild: Pybuild, name: str) -> dict[str, object]:
    doc = json.loads(pybuild.ok("inspect", name).out)
    assert isinstance(doc, list)
    return doc[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_save_then_load_into_empty_root_keeps_image_id_and_manifest(
    busybox_image: Pybuild, tmp_path: Path, fmt: str
) -> None:
    archive = tmp_path / "a.tar"
    busybox_image.ok("save", "--format", fmt, "-o", str(archive), "busybox")
    other = busybox_image.at(tmp_path / "other")
    assert other.ok("load", "-i", str(archive)).out == "Loaded image: busybox:latest\n"
    before, after = _inspect(busybox_image, "busybox"), _inspect(other, "busybox")
    assert after["Id"] == before["Id"]
    assert after["Config"] == before["Config"]
    if fmt == "oci":
        assert after["RepoDigests"] == before["RepoDigests"]


def test_docker_archive_load_is_idempotent_and_manifest_stable(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    archive = tmp_path / "a.tar"
    busybox_image.ok("save", "-o", str(archive), "busybox")
    other = busybox_image.at(tmp_path / "other")
    other.ok("load", "-i", str(archive))
    first = _inspect(other, "busybox")["RepoDigests"]
    other.ok("load", "-i", str(archive))
    again = tmp_path / "b.tar"
    other.ok("save", "-o", str(again), "busybox")
    third = busybox_image.at(tmp_path / "third")
    third.ok("load", "-i", str(again))
    assert _inspect(third, "busybox")["RepoDigests"] == first


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_compressed_archive_loads_from_stdin(
    busybox_image: Pybuild, tmp_path: Path, compress: str
) -> None:
    archive = tmp_path / "a.tar"
    busybox_image.ok("save", "-o", str(archive), "busybox")
    data = archive.read_bytes()
    if compress == "gzip":
        packed = gzip.compress(data)
    else:
        from builder.layers.compress import Compression, new_compressor

        comp = new_compressor(Compression.ZSTD)
        packed = comp.compress(data) + comp.flush()
    other = busybox_image.at(tmp_path / "other")
    assert "Loaded image: busybox:latest" in other.ok("load", stdin=packed).out


def test_oci_layout_directory_loads(busybox_image: Pybuild, tmp_path: Path) -> None:
    members = _saved(busybox_image, tmp_path, "oci")
    layout = tmp_path / "layout"
    for name, data in members.items():
        (layout / name).parent.mkdir(parents=True, exist_ok=True)
        (layout / name).write_bytes(data)
    other = busybox_image.at(tmp_path / "other")
    assert other.ok("load", "-i", str(layout)).out == "Loaded image: busybox:latest\n"


def test_several_images_in_one_archive_all_load(busybox_image: Pybuild, tmp_path: Path) -> None:
    busybox_image.ok("tag", "busybox", "example.com:5000/team/tool:v2")
    archive = tmp_path / "a.tar"
    busybox_image.ok("save", "-o", str(archive), "busybox", "example.com:5000/team/tool:v2")
    other = busybox_image.at(tmp_path / "other")
    out = other.ok("load", "-i", str(archive)).out.splitlines()
    assert sorted(out) == ["Loaded image: busybox:latest",
                           "Loaded image: example.com:5000/team/tool:v2"]


def test_legacy_docker_archive_with_symlinked_layer_loads(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    members = _saved(busybox_image, tmp_path, "docker")
    listing = json.loads(members["manifest.json"])[0]
    config = members[listing["Config"]]
    layer = members[listing["Layers"][0]]
    legacy = {
        f"{sha(config)}.json": config,
        "aaaa/layer.tar": layer,
        "manifest.json": jdump([{"Config": f"{sha(config)}.json", "RepoTags": ["old:1"],
                                 "Layers": ["bbbb/layer.tar"]}]),
    }
    links = {"bbbb/layer.tar": "../aaaa/layer.tar"}
    archive = write_members(tmp_path / "legacy.tar", legacy, links)
    other = busybox_image.at(tmp_path / "other")
    assert other.ok("load", "-i", str(archive)).out == "Loaded image: old:1\n"
    assert _inspect(other, "old:1")["Id"] == "sha256:" + sha(config)


def test_unnamed_image_loads_as_dangling_and_prints_its_id(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    members = _saved(busybox_image, tmp_path, "docker")
    listing = json.loads(members["manifest.json"])
    listing[0]["RepoTags"] = None
    members["manifest.json"] = jdump(listing)
    del members["index.json"]
    other = busybox_image.at(tmp_path / "other")
    out = other.ok("load", "-i", str(write_members(tmp_path / "x.tar", members))).out
    assert out.startswith("Loaded image ID: sha256:")
    assert "<none>" in other.ok("images").out


# hostile and broken archives -------------------------------------------------------

Mutation = Callable[[Members, Path], Path]


def _layer_name(members: Members) -> str:
    return str(json.loads(members["manifest.json"])[0]["Layers"][0])


def _dotdot(m: Members, tmp: Path) -> Path:
    return write_members(tmp / "x.tar", {**m, "../evil": b"x"})


def _absolute(m: Members, tmp: Path) -> Path:
    return write_members(tmp / "x.tar", {**m, "/etc/evil": b"x"})


def _escaping_link(m: Members, tmp: Path) -> Path:
    return write_members(tmp / "x.tar", m, {"blobs/sha256/link": "../../../etc/passwd"})


def _oci_manifest_lies(m: Members, tmp: Path) -> Path:
    index = json.loads(m["index.json"])
    real = index["manifests"][0]["digest"].split(":")[1]
    fake = "0" * 64
    index["manifests"][0]["digest"] = "sha256:" + fake
    m = {**m, "index.json": jdump(index), f"blobs/sha256/{fake}": m[f"blobs/sha256/{real}"]}
    return write_members(tmp / "x.tar", m)


def _layer_bytes_changed(m: Members, tmp: Path) -> Path:
    name = _layer_name(m)
    data = bytearray(m[name])
    data[600] ^= 0xFF
    return write_members(tmp / "x.tar", {**m, name: bytes(data)})


def _docker_config_not_json(m: Members, tmp: Path) -> Path:
    listing = json.loads(m.pop("manifest.json"))
    m.pop("index.json")
    listing[0]["Config"] = "config.json"
    return write_members(tmp / "x.tar", {**m, "config.json": b"{not json",
                                         "manifest.json": jdump(listing)})


def _docker_layer_not_its_diff_id(m: Members, tmp: Path) -> Path:
    listing = json.loads(m.pop("manifest.json"))
    m.pop("index.json")
    listing[0]["Layers"] = ["x/layer.tar"]
    return write_members(tmp / "x.tar", {**m, "x/layer.tar": b"\0" * 1024,
                                         "manifest.json": jdump(listing)})


def _missing_blob(m: Members, tmp: Path) -> Path:
    m.pop(_layer_name(m))
    return write_members(tmp / "x.tar", m)


def _truncated(m: Members, tmp: Path) -> Path:
    path = write_members(tmp / "full.tar", m)
    data = path.read_bytes()
    (tmp / "x.tar").write_bytes(data[: len(data) // 2])
    return tmp / "x.tar"


def _corrupt_gzip(m: Members, tmp: Path) -> Path:
    data = bytearray(gzip.compress(write_members(tmp / "full.tar", m).read_bytes()))
    data[len(data) // 2] ^= 0xFF
    (tmp / "x.tar.gz").write_bytes(bytes(data))
    return tmp / "x.tar.gz"


def _not_an_archive(m: Members, tmp: Path) -> Path:
    (tmp / "x.tar").write_bytes(b"hello, this is not a tar file at all\n" * 40)
    return tmp / "x.tar"


HOSTILE: dict[str, tuple[Mutation, str]] = {
    "dotdot-member": (_dotdot, "'..' would escape"),
    "absolute-member": (_absolute, "absolute paths are not allowed"),
    "escaping-symlink": (_escaping_link, "escapes the archive root"),
    "oci-manifest-lies-about-digest": (_oci_manifest_lies, "does not match its digest"),
    "layer-bytes-changed": (_layer_bytes_changed, "does not match its digest"),
    "config-not-json": (_docker_config_not_json, "not valid JSON"),
    "layer-not-its-diff-id": (_docker_layer_not_its_diff_id, "does not match the diff ID"),
    "missing-blob": (_missing_blob, "lacks"),
    "truncated": (_truncated, "truncated"),
    "corrupt-gzip": (_corrupt_gzip, "error"),
    "not-an-archive": (_not_an_archive, "error"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_refused_and_store_is_unchanged(
    busybox_image: Pybuild, tmp_path: Path, case: str
) -> None:
    mutate, fragment = HOSTILE[case]
    members = _saved(busybox_image, tmp_path, "docker")
    busybox_image.ok("rmi", "busybox")  # an empty store shows stray blobs too
    archive = mutate(members, tmp_path)
    before = fingerprint(busybox_image.root)
    result = busybox_image("load", "-i", str(archive))
    assert result.code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(busybox_image.root) == before


@pytest.mark.slow
def test_legacy_archive_with_many_layers_loads(pybuild: Pybuild, tmp_path: Path) -> None:
    members: Members = {}
    diff_ids, layers = [], []
    for i in range(300):  # 900 members: more than the default open-file limit of 1024 / 2
        layer = write_members(tmp_path / "l.tar", {f"f{i}": str(i).encode()}).read_bytes()
        diff_ids.append("sha256:" + sha(layer))
        members[f"{i:04d}/layer.tar"] = layer
        members[f"{i:04d}/VERSION"] = b"1.0"
        members[f"{i:04d}/json"] = b"{}"
        layers.append(f"{i:04d}/layer.tar")
    config = jdump({"architecture": "amd64", "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    members[f"{sha(config)}.json"] = config
    members["manifest.json"] = jdump([{"Config": f"{sha(config)}.json",
                                       "RepoTags": ["many:1"], "Layers": layers}])
    archive = write_members(tmp_path / "many.tar", members)
    assert pybuild.ok("load", "-i", str(archive)).out == "Loaded image: many:1\n"
    assert "many" in pybuild.ok("images").out


def test_multi_platform_index_loads_and_saves_host_platform_as_docker_archive(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    from builder.oci.descriptor import Platform

    members = _saved(busybox_image, tmp_path, "oci")
    entry = json.loads(members["index.json"])["manifests"][0]
    host = Platform.host()
    children = [
        {**{k: entry[k] for k in ("mediaType", "digest", "size")},
         "platform": {"architecture": host.architecture, "os": host.os}},
        {"mediaType": entry["mediaType"], "digest": "sha256:" + "1" * 64, "size": 10,
         "platform": {"architecture": "riscv64", "os": "linux"}},  # not in the archive
    ]
    index = jdump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": children})
    members[f"blobs/sha256/{sha(index)}"] = index
    members["index.json"] = jdump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + sha(index),
        "size": len(index), "annotations": {"io.containerd.image.name": "docker.io/x/multi:1"}}]})
    other = busybox_image.at(tmp_path / "other")
    assert other.ok("load", "-i", str(write_members(tmp_path / "m.tar", members))).out == \
        "Loaded image: x/multi:1\n"
    assert "x/multi" in other.ok("images").out
    out = tmp_path / "docker.tar"
    other.ok("save", "-o", str(out), "x/multi:1")
    listing = json.loads(read_members(out)["manifest.json"])
    assert listing[0]["RepoTags"] == ["x/multi:1"]
    oci = tmp_path / "oci.tar"
    other.ok("save", "--format", "oci", "-o", str(oci), "x/multi:1")
    assert f"blobs/sha256/{sha(index)}" in read_members(oci)


def test_loading_over_an_existing_name_says_the_old_image_is_renamed(
    busybox_image: Pybuild, busybox_rootfs_tar: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "a.tar"
    busybox_image.ok("save", "-o", str(archive), "busybox")
    busybox_image.ok("import", str(busybox_rootfs_tar), "busybox", "-m", "different")
    old = json.loads(busybox_image.ok("inspect", "busybox").out)[0]["Id"]
    out = busybox_image.ok("load", "-i", str(archive)).out.splitlines()
    assert out == [f"The image busybox:latest already exists, renaming the old one with ID "
                   f"{old} to empty string", "Loaded image: busybox:latest"]
    assert "<none>" in busybox_image.ok("images").out
