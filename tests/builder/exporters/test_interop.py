"""What pybuild saves, podman, skopeo and umoci read; what they write, pybuild loads."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import Pybuild

pytestmark = pytest.mark.interop


def tool(name: str) -> str:
    """The path of a reference tool, or skip the test with the reason."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/install-system-deps)")
    return path


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{argv[0]} failed: {done.stderr}"
    return done.stdout


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[list[str]]:
    """podman with private storage (vfs) and a short runroot (podman wants ≤ 50 chars)."""
    binary = tool("podman")
    runroot = tempfile.mkdtemp(prefix="pbrun-", dir="/tmp")
    try:
        yield [binary, "--root", str(tmp_path / "podman-root"), "--runroot", runroot,
               "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
               "--events-backend", "none"]
    finally:
        shutil.rmtree(runroot, ignore_errors=True)


@pytest.fixture
def labelled(busybox_image: Pybuild, busybox_rootfs_tar: Path) -> Pybuild:
    """busybox re-imported as ``app:1`` with Env, Cmd and Labels set."""
    busybox_image.ok("import", str(busybox_rootfs_tar), "app:1", "-c", "ENV A=1 B=two",
                     "-c", 'CMD ["sh", "-c", "echo hi"]', "-c", "LABEL org.example=yes")
    return busybox_image


def _inspect(pybuild: Pybuild, name: str) -> dict[str, object]:
    return json.loads(pybuild.ok("inspect", name).out)[0]  # type: ignore[no-any-return]


def test_podman_loads_docker_archive_with_same_config(
    labelled: Pybuild, tmp_path: Path, podman: list[str]
) -> None:
    archive = tmp_path / "app.tar"
    labelled.ok("save", "-o", str(archive), "app:1")
    assert "Loaded image" in _run(*podman, "load", "-i", str(archive))
    seen = json.loads(_run(*podman, "image", "inspect", "docker.io/library/app:1"))[0]
    ours = _inspect(labelled, "app:1")
    assert "sha256:" + seen["Id"] == ours["Id"]
    assert seen["Config"]["Env"] == ["A=1", "B=two"]
    assert seen["Config"]["Cmd"] == ["sh", "-c", "echo hi"]
    assert seen["Config"]["Labels"] == {"org.example": "yes"}


def test_skopeo_and_umoci_read_oci_archive(labelled: Pybuild, tmp_path: Path) -> None:
    archive = tmp_path / "app-oci.tar"
    labelled.ok("save", "--format", "oci", "-o", str(archive), "app:1")
    seen = json.loads(_run(tool("skopeo"), "inspect", f"oci-archive:{archive}"))
    ours = _inspect(labelled, "app:1")
    assert seen["Digest"] in ours["RepoDigests"][0]  # type: ignore[index]
    assert seen["Labels"] == {"org.example": "yes"}
    layout = tmp_path / "layout"
    with tarfile.open(archive) as tar:
        tar.extractall(layout, filter="data")
    bundle = tmp_path / "bundle"
    _run(tool("umoci"), "unpack", "--image", f"{layout}:1", str(bundle))
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    assert (bundle / "rootfs" / "bin" / "sh").is_symlink()
    assert (bundle / "rootfs" / "tmp").stat().st_mode & 0o7777 == 0o1777


def _oci_dir(pybuild: Pybuild, tmp_path: Path, name: str) -> Path:
    archive = tmp_path / "src.tar"
    pybuild.ok("save", "--format", "oci", "-o", str(archive), name)
    layout = tmp_path / "src-layout"
    with tarfile.open(archive) as tar:
        tar.extractall(layout, filter="data")
    return layout


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_pybuild_loads_what_skopeo_copy_writes(
    labelled: Pybuild, tmp_path: Path, transport: str
) -> None:
    layout = _oci_dir(labelled, tmp_path, "app:1")
    out = tmp_path / f"skopeo-{transport}.tar"
    dest = f"{transport}:{out}:docker.io/library/copied:7"
    if transport == "oci-archive":
        dest = f"{transport}:{out}:copied-7"
    _run(tool("skopeo"), "copy", "--preserve-digests" if transport == "oci-archive" else
         "--quiet", f"oci:{layout}:1", dest)
    other = labelled.at(tmp_path / "other")
    loaded = other.ok("load", "-i", str(out)).out
    ours = _inspect(labelled, "app:1")
    if transport == "docker-archive":
        assert loaded == "Loaded image: copied:7\n"
        assert _inspect(other, "copied:7")["Id"] == ours["Id"]
    else:  # a bare tag in ref.name names no repository: loaded by ID, manifest kept
        assert loaded.startswith("Loaded image ID: ")
        records = json.loads((other.root / "refs" / "index.json").read_text())["manifests"]
        assert records[0]["digest"] == str(ours["RepoDigests"][0]).split("@")[1]  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_pybuild_loads_what_podman_save_writes(
    labelled: Pybuild, tmp_path: Path, fmt: str, podman: list[str]
) -> None:
    archive = tmp_path / "in.tar"
    labelled.ok("save", "-o", str(archive), "app:1")
    _run(*podman, "load", "-i", str(archive))
    out = tmp_path / f"podman-{fmt}.tar"
    _run(*podman, "save", "--format", fmt, "-o", str(out), "docker.io/library/app:1")
    other = labelled.at(tmp_path / "other")
    result = other.ok("load", "-i", str(out))
    assert "Loaded image" in result.out
    ids = json.loads(other.ok("images", "--format", "{{json .}}", "--no-trunc").out)
    assert ids["ID"] == _inspect(labelled, "app:1")["Id"]
