"""Mount points the init created are removed from the upperdir; the step's own files stay."""

from __future__ import annotations

import os
from pathlib import Path

from builder.sandbox.scrub import scrub_upper


def test_created_mount_points_and_empty_parents_go(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "hosts").touch()
    (upper / "proc").mkdir()
    scrub_upper(upper, ["etc", "etc/hosts", "proc"], [])
    assert list(upper.iterdir()) == []


def test_files_the_step_wrote_are_kept(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "hosts").touch()
    (upper / "etc" / "motd").write_text("hi")
    scrub_upper(upper, ["etc", "etc/hosts"], [])
    assert sorted(p.name for p in (upper / "etc").iterdir()) == ["motd"]


def test_copied_up_parent_goes_only_when_unchanged(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "hostname").touch()
    scrub_upper(upper, ["etc/hostname"], [lower])
    assert not (upper / "etc").exists()
    (upper / "etc").mkdir()
    (upper / "etc" / "hostname").touch()
    os.chmod(upper / "etc", 0o700)  # the step chmodded /etc: a real change
    scrub_upper(upper, ["etc/hostname"], [lower])
    assert (upper / "etc").is_dir() and not (upper / "etc" / "hostname").exists()
