"""secure_join keeps every mount target inside the rootfs, whatever the image's symlinks say."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.sandbox.errors import SandboxError
from builder.sandbox.rootfs import secure_join


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "run" / "systemd").mkdir(parents=True)
    (r / "escape").symlink_to("/usr/lib")
    (r / "up").symlink_to("../../../../..")
    (r / "etc" / "resolv.conf").symlink_to("../run/systemd/stub-resolv.conf")
    (r / "loop").symlink_to("loop")
    return r


@pytest.mark.parametrize(("unsafe", "inside"), [
    ("/etc/hosts", "etc/hosts"),
    ("/escape/hosts", "usr/lib/hosts"),
    ("/up/etc", "etc"),
    ("/../../etc", "etc"),
    ("/etc/resolv.conf", "run/systemd/stub-resolv.conf"),
    ("/", ""),
])
def test_paths_resolve_inside_the_root(root: Path, unsafe: str, inside: str) -> None:
    assert secure_join(str(root), unsafe) == os.path.join(str(root), inside).rstrip("/")


def test_symlink_loops_are_refused(root: Path) -> None:
    with pytest.raises(SandboxError, match="too many levels"):
        secure_join(str(root), "/loop/x")
