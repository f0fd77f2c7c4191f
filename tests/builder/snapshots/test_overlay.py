"""Overlayfs mounts: many lowerdirs, layer order, both mount methods, clean unmount."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.snapshots.overlay import (
    PAGE_LIMIT,
    MountMethod,
    OverlayError,
    legacy_options,
    mount_overlay,
    overlay_mounted,
    unmount,
)

privileged = pytest.mark.skipif(os.geteuid() != 0, reason="overlay mounts need root")


def _layers(tmp: Path, count: int, name_len: int = 8) -> list[Path]:
    layers = []
    for i in range(count):
        layer = tmp / "snapshots" / f"{i:0{name_len}d}" / "diff"
        layer.mkdir(parents=True)
        (layer / f"only-{i}").write_text(str(i))
        (layer / "shared").write_text(str(i))
        layers.append(layer)
    return layers


def _dirs(tmp: Path) -> tuple[Path, Path, Path]:
    dirs = tmp / "upper", tmp / "work", tmp / "merged"
    for d in dirs:
        d.mkdir()
    return dirs


def _mounted(path: Path) -> bool:
    return any(line.split()[4] == str(path)
               for line in Path("/proc/self/mountinfo").read_text().splitlines())


def test_short_options_stay_absolute() -> None:
    cwd, data = legacy_options(["/l/b", "/l/a"], "/u", "/w")
    assert cwd is None
    assert data == "lowerdir=/l/b:/l/a,upperdir=/u,workdir=/w"


def test_long_options_become_relative_to_the_common_parent(tmp_path: Path) -> None:
    lowers = [str(p) for p in reversed(_layers(tmp_path, 120, name_len=20))]
    cwd, data = legacy_options(lowers, str(tmp_path / "upper"), str(tmp_path / "work"))
    assert cwd == str(tmp_path / "snapshots")
    assert data.startswith("lowerdir=00000000000000000119/diff:")
    assert data.endswith(",upperdir=../upper,workdir=../work")
    assert len(data) <= PAGE_LIMIT


def test_options_too_long_even_relative_are_refused(tmp_path: Path) -> None:
    lowers = [f"{tmp_path}/{'x' * 200}-{i}" for i in range(50)]
    with pytest.raises(OverlayError, match="50 layers need"):
        legacy_options(lowers, f"{tmp_path}/u", f"{tmp_path}/w")


def test_mounting_without_lowerdirs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OverlayError, match="at least one lowerdir"):
        mount_overlay([], tmp_path, tmp_path, tmp_path)


@privileged
@pytest.mark.privileged
@pytest.mark.parametrize("method", list(MountMethod), ids=lambda m: m.value)
def test_many_lowerdirs_mount_top_layer_wins(tmp_path: Path, method: MountMethod) -> None:
    if method is MountMethod.FSCONFIG and MountMethod.best() is not MountMethod.FSCONFIG:
        pytest.fail("this kernel lacks lowerdir+ (needs 6.8); FSCONFIG cannot be tested")
    layers = _layers(tmp_path, 130, name_len=20)
    upper, work, merged = _dirs(tmp_path)
    with overlay_mounted(layers, upper, work, merged, method):
        assert (merged / "shared").read_text() == "129"
        assert (merged / "only-0").read_text() == "0"
        assert len(list(merged.iterdir())) == 131
        (merged / "new").write_text("n")
        (merged / "only-5").unlink()
    assert not _mounted(merged)
    assert (upper / "new").read_text() == "n"
    assert os.stat(upper / "only-5").st_rdev == 0  # a whiteout (char device 0:0)
    assert (layers[5] / "only-5").exists()


@privileged
@pytest.mark.privileged
def test_failed_mount_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    upper, work, merged = _dirs(tmp_path)
    with pytest.raises(OverlayError, match="overlay"):
        mount_overlay([tmp_path / "missing"], upper, work, merged)
    assert not _mounted(merged)


@privileged
@pytest.mark.privileged
def test_unmount_of_a_plain_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OverlayError, match="unmount"):
        unmount(tmp_path)
