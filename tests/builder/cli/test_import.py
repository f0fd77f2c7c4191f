"""``pybuild import`` and testdata/make-busybox-image.sh."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.builder.exporters.archives import fingerprint, read_members

if TYPE_CHECKING:
    from tests.conftest import Pybuild


def _config(pybuild: Pybuild, name: str) -> dict[str, object]:
    return json.loads(pybuild.ok("inspect", name).out)[0]  # type: ignore[no-any-return]


def _tar(path: Path, names: list[str], link: tuple[str, str] | None = None) -> Path:
    with tarfile.open(path, "w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.LNKTYPE, link[1]
            tar.addfile(info)
    return path


def test_import_prints_image_id_and_tags(pybuild: Pybuild, busybox_rootfs_tar: Path) -> None:
    out = pybuild.ok("import", str(busybox_rootfs_tar), "bb:1").out.strip()
    assert out.startswith("sha256:") and len(out) == 71
    assert _config(pybuild, "bb:1")["Id"] == out


def test_import_applies_changes_and_history_like_docker(
    pybuild: Pybuild, busybox_rootfs_tar: Path
) -> None:
    pybuild.ok("import", str(busybox_rootfs_tar), "bb", "-c", "ENTRYPOINT [\"/bin/sh\"]",
               "--change", "LABEL a=b", "--change", "USER app", "-m", "hello")
    doc = _config(pybuild, "bb")
    assert doc["Config"] == {"Entrypoint": ["/bin/sh"], "Labels": {"a": "b"}, "User": "app"}
    history = pybuild.ok("history", "--format", "{{.Comment}}|{{.CreatedBy}}", "bb").out
    assert history == "hello|\n"
    default = pybuild.at(pybuild.root)
    default.ok("import", str(busybox_rootfs_tar), "bb2")
    assert "Imported from -" in default.ok("history", "bb2").out


def test_import_layer_is_the_tarball_content_gzip_compressed(
    pybuild: Pybuild, busybox_rootfs_tar: Path, tmp_path: Path
) -> None:
    pybuild.ok("import", str(busybox_rootfs_tar), "bb")
    pybuild.ok("save", "--format", "oci", "-o", str(tmp_path / "o.tar"), "bb")
    members = read_members(tmp_path / "o.tar")
    index = json.loads(members["index.json"])
    manifest = json.loads(members["blobs/sha256/" + index["manifests"][0]["digest"][7:]])
    layer = manifest["layers"][0]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    blob = members["blobs/sha256/" + layer["digest"][7:]]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        names = tar.getnames()
    assert "bin/busybox" in names and "bin/sh" in names and "etc/passwd" in names


@pytest.mark.parametrize("compress", ["gzip", "stdin"])
def test_import_reads_compressed_tarballs_and_stdin(
    pybuild: Pybuild, busybox_rootfs_tar: Path, tmp_path: Path, compress: str
) -> None:
    data = busybox_rootfs_tar.read_bytes()
    if compress == "gzip":
        path = tmp_path / "r.tar.gz"
        path.write_bytes(gzip.compress(data))
        result = pybuild("import", str(path), "gz", env={"SOURCE_DATE_EPOCH": "0"})
    else:
        result = pybuild("import", "-", "gz", stdin=data, env={"SOURCE_DATE_EPOCH": "0"})
    assert result.code == 0, result.stderr
    plain = pybuild("import", str(busybox_rootfs_tar), "plain", env={"SOURCE_DATE_EPOCH": "0"})
    assert plain.stdout == result.stdout  # same content → same image ID


def test_same_tarball_and_epoch_give_the_same_image_id(
    pybuild: Pybuild, busybox_rootfs_tar: Path
) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = pybuild("import", str(busybox_rootfs_tar), "a", env=env)
    second = pybuild("import", str(busybox_rootfs_tar), "b", env=env)
    assert first.code == second.code == 0
    assert first.stdout == second.stdout
    assert _config(pybuild, "a")["Created"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("names,link,fragment", [
    (["ok", "../escape"], None, "'..' would escape"),
    (["/abs"], None, "absolute paths"),
    (["ok"], ("hard", "../../etc/shadow"), "'..' would escape"),
])
def test_hostile_rootfs_is_refused_and_store_unchanged(
    busybox_image: Pybuild, tmp_path: Path, names: list[str],
    link: tuple[str, str] | None, fragment: str,
) -> None:
    before = fingerprint(busybox_image.root)
    result = busybox_image("import", str(_tar(tmp_path / "bad.tar", names, link)), "bad")
    assert result.code == 1 and fragment in result.stderr, result.stderr
    assert result.stderr.startswith("error: ")
    assert fingerprint(busybox_image.root) == before


@pytest.mark.parametrize("content", [b"", b"not a tarball" * 100, b"\x1f\x8b\x08garbage"])
def test_garbage_input_is_refused_with_one_clear_error(
    busybox_image: Pybuild, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "junk.tar"
    path.write_bytes(content)
    before = fingerprint(busybox_image.root)
    result = busybox_image("import", str(path), "junk")
    assert result.code == 1 and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint(busybox_image.root) == before


def test_missing_file_and_bad_change_are_usage_errors(
    pybuild: Pybuild, busybox_rootfs_tar: Path
) -> None:
    assert pybuild("import", "/nonexistent.tar", "x").code == 2
    bad = pybuild("import", str(busybox_rootfs_tar), "x", "--change", "RUN true")
    assert bad.code == 2 and "not a valid change command" in bad.stderr


def test_make_busybox_image_script_is_deterministic(pybuild: Pybuild, tmp_path: Path) -> None:
    if not os.access("/bin/busybox", os.X_OK):
        pytest.skip("needs /bin/busybox (apt-get install busybox-static)")
    script = Path(__file__).resolve().parents[3] / "testdata" / "make-busybox-image.sh"
    ids = []
    for n in (1, 2):
        subprocess.run([str(script), "--root", str(tmp_path / f"r{n}")], check=True,
                       capture_output=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"))
        doc = json.loads(pybuild.at(tmp_path / f"r{n}").ok("inspect", "busybox").out)[0]
        assert doc["RepoTags"] == ["busybox:latest"]
        assert doc["Config"]["Cmd"] == ["sh"]
        ids.append((doc["Id"], doc["RepoDigests"]))
    assert ids[0] == ids[1]


def test_busybox_rootfs_is_a_usable_root_filesystem(busybox_rootfs_tar: Path) -> None:
    with tarfile.open(busybox_rootfs_tar) as tar:
        members = {m.name: m for m in tar.getmembers()}
        passwd = tar.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
    assert members["tmp"].mode == 0o1777 and members["tmp"].isdir()
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "/bin/busybox"
    assert members["bin/busybox"].isreg() and members["bin/busybox"].mode == 0o755
    assert members["home/app"].uid == 1000 and members["root"].isdir()
    assert "app:x:1000:1000:" in passwd and passwd.startswith("root:x:0:0:")
    assert "nobody:x:65534" in passwd
    assert {m.mtime for m in members.values()} == {0}
    assert list(members) == sorted(members)
