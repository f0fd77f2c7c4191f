"""Fixtures for file-op tests: a source tree, a destination rootfs with /etc/passwd
and /etc/group, a sentinel directory outside both, and a helper to run actions."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from builder.worker import FileOpOptions, SourceTree, apply_file_actions
from solver.digest import Digest
from solver.ops import Copy, FileAction, Input

SRC = Input(Digest.from_hex("1" * 64))
PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\nstaff:x:50:\napps:x:1001:app\n"

Run = Callable[..., None]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    (path / "etc").mkdir(parents=True)
    (path / "etc/passwd").write_text(PASSWD)
    (path / "etc/group").write_text(GROUP)
    return path


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    """A directory outside the source and the root that must stay untouched."""
    path = tmp_path / "sentinel"
    path.mkdir()
    (path / "passwd").write_text("host secret\n")
    return path


@pytest.fixture
def run(root: Path, src: Path) -> Run:
    def _run(actions: Sequence[FileAction], *, context: bool = False,
             tree: SourceTree | None = None) -> None:
        given = tree or SourceTree(src, root_owned=context)
        apply_file_actions(root, list(actions), {SRC: given}, FileOpOptions())
    return _run


def copy(src: str, dest: str, **kw: object) -> Copy:
    """A Copy action from the test source, as compile would make it."""
    return Copy(SRC, src, dest, **kw)  # type: ignore[arg-type]


def write(path: Path, text: str = "x", mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return path


def snapshot(path: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry under ``path``: mode and content (or link target)."""
    out = {}
    for p in sorted(path.rglob("*")):
        st = os.lstat(p)
        data = os.readlink(p).encode() if p.is_symlink() else (
            p.read_bytes() if p.is_file() else b"")
        out[str(p.relative_to(path))] = (st.st_mode, data)
    return out
