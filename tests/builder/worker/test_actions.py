"""Mkdir, Mkfile, Rm and Symlink actions, confined to the root."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from builder.worker import FileOpError
from solver.ops import Mkdir, Mkfile, Rm, Symlink
from tests.builder.worker.conftest import Run, write


def test_mkdir_creates_parents_with_the_mode(run: Run, root: Path) -> None:
    run([Mkdir("/a/b/c", 0o750)])
    assert stat.S_IMODE(os.stat(root / "a/b/c").st_mode) == 0o750
    run([Mkdir("/a/b/c", 0o700)])  # an existing directory is fine
    with pytest.raises(FileOpError, match="parent directory does not exist"):
        run([Mkdir("/x/y", make_parents=False)])


def test_mkfile_resolves_symlinks_inside_the_root(
    run: Run, root: Path, sentinel: Path
) -> None:
    os.symlink(str(sentinel / "passwd"), root / "f")
    os.symlink("../../../../../../" + str(sentinel).lstrip("/"), root / "g")
    run([Mkfile("/f", b"hello", 0o600), Mkfile("/g/x", b"through"), Mkfile("/d/e", b"x")])
    assert (sentinel / "passwd").read_text() == "host secret\n"
    assert sorted(os.listdir(sentinel)) == ["passwd"]
    inside = root / str(sentinel).lstrip("/")
    assert (inside / "passwd").read_bytes() == b"hello"
    assert stat.S_IMODE(os.stat(inside / "passwd").st_mode) == 0o600
    assert (inside / "x").read_bytes() == b"through"
    assert (root / "d/e").read_bytes() == b"x"


def test_rm_removes_without_following_and_reports_missing(
    run: Run, root: Path, sentinel: Path
) -> None:
    write(root / "dir/f")
    os.symlink(str(sentinel), root / "link")
    run([Rm("/dir"), Rm("/link"), Rm("/absent")])
    assert not (root / "dir").exists() and not os.path.lexists(root / "link")
    assert sorted(os.listdir(sentinel)) == ["passwd"]
    with pytest.raises(FileOpError, match="no such file"):
        run([Rm("/absent", allow_not_found=False)])
    with pytest.raises(FileOpError, match="root directory"):
        run([Rm("/")])


def test_rm_with_wildcard(run: Run, root: Path) -> None:
    for name in ("a.log", "b.log", "c.txt"):
        write(root / "logs" / name)
    run([Rm("/logs/*.log", allow_wildcard=True)])
    assert os.listdir(root / "logs") == ["c.txt"]


def test_symlink_action_creates_a_link_and_refuses_to_overwrite(run: Run, root: Path) -> None:
    run([Symlink("/etc/passwd", "/pw")])
    assert os.readlink(root / "pw") == "/etc/passwd"
    with pytest.raises(FileOpError, match="file exists"):
        run([Symlink("x", "/pw")])


def test_missing_source_input_is_a_clear_error(root: Path) -> None:
    from builder.worker import apply_file_actions
    from tests.builder.worker.conftest import copy

    with pytest.raises(FileOpError, match="no source given"):
        apply_file_actions(root, [copy("/f", "/g")], {})
