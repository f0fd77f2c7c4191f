"""Crash safety and concurrency: ``pybuild load`` killed with SIGKILL at several points
leaves a consistent store, and concurrent tag/load processes lose nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from builder.root import Root

if TYPE_CHECKING:
    from tests.conftest import Pybuild

pytestmark = pytest.mark.slow

LAYERS = 4
LAYER_MB = 50  # 200 MB of random data in all


def _random_layer(path: Path, index: int) -> str:
    data = path.with_suffix(".bin")
    with open(data, "wb") as fh:
        for _ in range(LAYER_MB):
            fh.write(os.urandom(1 << 20))
    with tarfile.open(path, "w") as tar:
        tar.add(data, arcname=f"data/random-{index}.bin")
    data.unlink()
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A docker-archive of one image with 4 × 50 MB random layers, named big:1."""
    work = tmp_path_factory.mktemp("big")
    layers = [(work / f"l{i}.tar", _random_layer(work / f"l{i}.tar", i)) for i in range(LAYERS)]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{h}" for _, h in layers]},
    }).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    listing = json.dumps([{"Config": f"blobs/sha256/{config_hex}", "RepoTags": ["big:1"],
                           "Layers": [f"blobs/sha256/{h}" for _, h in layers]}]).encode()
    archive = work / "big.tar"
    with tarfile.open(archive, "w") as tar:
        for path, hexdigest in layers:
            tar.add(path, arcname=f"blobs/sha256/{hexdigest}")
            path.unlink()
        for name, data in ((f"blobs/sha256/{config_hex}", config), ("manifest.json", listing)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def _assert_consistent(root_path: Path) -> None:
    """Every blob verifies, every ref target exists, and opening sweeps dead staging."""
    with Root.open(root_path) as root:
        for blob in root.blobs.iterdir():
            sha = hashlib.sha256()
            with open(blob, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    sha.update(chunk)
            assert sha.hexdigest() == blob.name, f"corrupt blob {blob.name}"
        index = root.refs / "index.json"
        if index.exists():
            for entry in json.loads(index.read_text())["manifests"]:
                assert (root.blobs / entry["digest"][7:]).is_file()
        staging = [p.name for p in (root_path / "tmp").iterdir()]
        assert staging == [root.tmp.name] or sorted(staging) == sorted(
            [root.tmp.name, root.tmp.name + ".lock"]), staging


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0, 3.5])
def test_sigkilled_load_leaves_a_consistent_store_and_a_second_load_succeeds(
    busybox_image: Pybuild, big_archive: Path, delay: float
) -> None:
    proc = busybox_image.spawn(["load", "-i", str(big_archive)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    _assert_consistent(busybox_image.root)
    assert "busybox" in busybox_image.ok("images").out
    assert busybox_image.ok("load", "-i", str(big_archive)).out == "Loaded image: big:1\n"
    _assert_consistent(busybox_image.root)


def test_load_and_save_stream_without_holding_layers_in_memory(
    busybox_image: Pybuild, big_archive: Path, tmp_path: Path
) -> None:
    peaks = {}
    for name, argv in (("load", ["load", "-i", str(big_archive)]),
                       ("save", ["save", "-o", str(tmp_path / "again.tar"), "big:1"])):
        start = time.monotonic()
        err = tmp_path / f"{name}.err"
        with open(err, "wb") as err_fh:
            proc = busybox_image.spawn(argv, stdout=subprocess.DEVNULL, stderr=err_fh)
            _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert proc.returncode == 0, err.read_text()
        peaks[name] = (usage.ru_maxrss // 1024, time.monotonic() - start)
    print(f"peak RSS MiB / seconds for 200 MB: {peaks}")
    assert all(mib < 150 for mib, _ in peaks.values()), peaks
    assert (tmp_path / "again.tar").stat().st_size > LAYERS * LAYER_MB * (1 << 20)


def test_concurrent_tagging_and_loading_lose_nothing(
    busybox_image: Pybuild, big_archive: Path
) -> None:
    loader = busybox_image.spawn(["load", "-i", str(big_archive)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    taggers = [busybox_image.spawn(["tag", "busybox", f"copy{i}:v"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(8)]
    for proc in [loader, *taggers]:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    names = busybox_image.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out.split()
    assert sorted(names) == sorted(["big:1", "busybox:latest"] + [f"copy{i}:v" for i in range(8)])
    _assert_consistent(busybox_image.root)


def test_two_concurrent_loads_of_one_archive_both_succeed(
    busybox_image: Pybuild, tmp_path: Path
) -> None:
    archive = tmp_path / "bb.tar"
    busybox_image.ok("save", "--format", "oci", "-o", str(archive), "busybox")
    other = busybox_image.at(tmp_path / "other")
    procs = [other.spawn(["load", "-i", str(archive)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out == b"Loaded image: busybox:latest\n", err
    _assert_consistent(other.root)
