"""Change sources: whole trees, overlay upperdirs, and the diff of two plain trees."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from builder.errors import InvalidInputError
from builder.layers import ChangeKind, changes_from_diff, changes_from_dir, changes_from_upper


def _summary(changes: object) -> list[tuple[str, str]]:
    return [(c.path, c.kind.value) for c in changes]  # type: ignore[attr-defined]


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/"):
            path.mkdir(exist_ok=True)
        else:
            path.write_text(text)


def test_whole_dir_is_depth_first_in_byte_order(tmp_path: Path) -> None:
    _tree(tmp_path, {"b/x": "", "a.b": "", "a/z": "", "a/y/": "", "B": ""})
    assert [c.path for c in changes_from_dir(tmp_path)] == [
        "B",
        "a",
        "a/y",
        "a/z",
        "a.b",
        "b",
        "b/x",
    ]
    assert {c.kind for c in changes_from_dir(tmp_path)} == {ChangeKind.ADD}


def test_source_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(InvalidInputError, match="not a directory"):
        changes_from_dir(tmp_path / "f")


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    _tree(
        lower,
        {
            "etc/passwd": "root",
            "etc/group": "root",
            "usr/bin/sh": "sh",
            "var/cache/a": "a",
            "var/cache/b": "b",
            "home/": "",
        },
    )
    shutil.copytree(lower, upper, symlinks=True, copy_function=shutil.copy2)
    for sub in ("", "etc", "usr", "usr/bin", "var", "var/cache", "home"):
        st = os.stat(lower / sub)
        os.utime(upper / sub, ns=(st.st_atime_ns, st.st_mtime_ns))
    return lower, upper


def test_identical_trees_have_no_changes(tmp_path: Path) -> None:
    lower, upper = _pair(tmp_path)
    assert list(changes_from_diff(lower, upper)) == []


def test_added_modified_and_removed_entries_with_their_parents(tmp_path: Path) -> None:
    lower, upper = _pair(tmp_path)
    st = os.stat(upper / "etc")
    (upper / "etc/passwd").write_text("root\nuser")
    os.utime(upper / "etc", ns=(st.st_atime_ns, st.st_mtime_ns))  # parent looks unchanged
    shutil.rmtree(upper / "var/cache")
    (upper / "home/user/.profile").parent.mkdir()
    (upper / "home/user/.profile").write_text("x")
    assert _summary(changes_from_diff(lower, upper)) == [
        ("etc", "modify"),  # emitted as the parent of a change even though it is the same
        ("etc/passwd", "modify"),
        ("home", "modify"),
        ("home/user", "add"),
        ("home/user/.profile", "add"),
        ("var", "modify"),
        ("var/cache", "delete"),
    ]


def test_metadata_only_changes_are_detected(tmp_path: Path) -> None:
    lower, upper = _pair(tmp_path)
    os.chmod(upper / "usr/bin/sh", 0o755)
    os.setxattr(upper / "etc/group", "user.tag", b"1")
    paths = [c.path for c in changes_from_diff(lower, upper)]
    assert "usr/bin/sh" in paths and "etc/group" in paths
    assert "etc/passwd" not in paths


def test_same_size_and_whole_second_mtime_compares_contents(tmp_path: Path) -> None:
    lower, upper = _pair(tmp_path)
    for root in (lower, upper):
        os.utime(root / "etc/passwd", ns=(0, 1_600_000_000 * 10**9))
    (upper / "etc/passwd").write_text("ROOT")
    os.utime(upper / "etc/passwd", ns=(0, 1_600_000_000 * 10**9))
    assert ("etc/passwd", "modify") in _summary(changes_from_diff(lower, upper))


def test_type_change_replaces_entry_and_adds_new_children(tmp_path: Path) -> None:
    lower, upper = _pair(tmp_path)
    (upper / "etc/passwd").unlink()
    (upper / "etc/passwd").mkdir()
    (upper / "etc/passwd/inner").write_text("x")
    shutil.rmtree(upper / "usr/bin")
    os.symlink("/bin", upper / "usr/bin")
    got = _summary(changes_from_diff(lower, upper))
    assert ("etc/passwd", "modify") in got and ("etc/passwd/inner", "add") in got
    assert ("usr/bin", "modify") in got and not any(p.startswith("usr/bin/") for p, _ in got)


def test_symlink_target_change_is_detected(tmp_path: Path) -> None:
    lower, upper = _pair(tmp_path)
    os.symlink("a", lower / "link")
    os.symlink("b", upper / "link")
    st = os.lstat(lower / "link")
    os.utime(upper / "link", ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    assert ("link", "modify") in _summary(changes_from_diff(lower, upper))


@pytest.mark.privileged
def test_upperdir_whiteouts_and_opaque_dirs_become_changes(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    os.mknod(upper / "etc/gone", stat.S_IFCHR, os.makedev(0, 0))
    (upper / "var").mkdir()
    os.setxattr(upper / "var", "trusted.overlay.opaque", b"y")
    (upper / "var/new").write_text("x")
    (upper / "usr").mkdir()
    os.setxattr(upper / "usr", "user.overlay.opaque", b"y")
    assert _summary(changes_from_upper(upper)) == [
        ("etc", "add"),
        ("etc/gone", "delete"),
        ("usr", "opaque"),
        ("var", "opaque"),
        ("var/new", "add"),
    ]


def _mount_overlay(lower: Path, upper: Path, work: Path, merged: Path) -> None:
    opts = f"lowerdir={lower},upperdir={upper},workdir={work}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)], check=True)


@pytest.mark.privileged
def test_real_overlay_upperdir_records_deletes_and_opaque_dirs(tmp_path: Path) -> None:
    lower = tmp_path / "lower"
    _tree(lower, {"etc/passwd": "root", "etc/shadow": "x", "var/log/old": "x", "keep": "k"})
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    _mount_overlay(lower, upper, work, merged)
    try:
        (merged / "etc/shadow").unlink()
        shutil.rmtree(merged / "var/log")
        (merged / "var/log").mkdir()
        (merged / "var/log/new").write_text("n")
        (merged / "added").write_text("a")
    finally:
        subprocess.run(["umount", str(merged)], check=True)
    got = _summary(changes_from_upper(upper))
    assert ("etc/shadow", "delete") in got
    assert ("var/log", "opaque") in got and ("var/log/new", "add") in got
    assert ("added", "add") in got
    assert not any(p in ("keep", "etc/passwd") for p, _ in got)
