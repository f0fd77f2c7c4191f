"""--chown resolution against the destination's /etc/passwd and /etc/group (item 34)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.worker.chown import Owner, resolve_chown
from builder.worker.errors import FileOpError
from solver.ops import ChownOpt
from tests.builder.worker.conftest import Run, copy, write


@pytest.mark.parametrize(("user", "group", "want"), [
    ("1234", "", Owner(1234, 1234)),  # a numeric user alone: gid = uid
    ("app", "", Owner(1000, 1001)),  # a name alone: its primary group
    ("app", "staff", Owner(1000, 50)),
    ("app", "77", Owner(1000, 77)),
    ("5", "apps", Owner(5, 1001)),
    ("0", "0", Owner(0, 0)),
])
def test_chown_resolves_names_and_ids(root: Path, user: str, group: str, want: Owner) -> None:
    assert resolve_chown(root, ChownOpt(user, group)) == want


def test_unknown_names_fail_with_a_hint(root: Path) -> None:
    with pytest.raises(FileOpError, match="unable to find user nobody"):
        resolve_chown(root, ChownOpt("nobody"))
    with pytest.raises(FileOpError, match="unable to find group wheel"):
        resolve_chown(root, ChownOpt("app", "wheel"))


def test_names_are_read_inside_the_root_even_through_symlinks(
    root: Path, sentinel: Path
) -> None:
    (sentinel / "etc").mkdir()
    (sentinel / "etc/passwd").write_text("evil:x:9:9::/:/bin/sh\n")
    (root / "etc/passwd").unlink()
    os.symlink(str(sentinel / "etc/passwd"), root / "etc/passwd")
    with pytest.raises(FileOpError, match="unable to find user evil"):
        resolve_chown(root, ChownOpt("evil"))


@pytest.mark.privileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_copy_chown_applies_to_files_and_created_parents(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "dir/f")
    run([copy("/dir", "/new/deep/", chown=ChownOpt("app"))], context=True)
    for path in ("new", "new/deep", "new/deep/f"):
        st = os.lstat(root / path)
        assert (st.st_uid, st.st_gid) == (1000, 1001), path
    assert os.lstat(root / "etc").st_uid == 0
