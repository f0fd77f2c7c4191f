"""The executor's filesystem side: layer stacks, the upperdir as the step's only change,
/etc files and mount points kept out of it, mounts and limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.sandbox import Limits, MountKind, MountSpec, SandboxError

from .conftest import Sandbox, own_mounts

pytestmark = pytest.mark.privileged


def _upper_tree(upper: Path) -> list[str]:
    return sorted(str(p.relative_to(upper)) for p in upper.rglob("*"))


def test_120_lowerdirs_stack_with_the_top_winning(sandbox: Sandbox, tmp_path: Path) -> None:
    for i in range(120):
        layer = tmp_path / "snapshots" / f"{i:064x}" / "diff"
        (layer / "layers").mkdir(parents=True)
        (layer / "layers" / f"l{i}").write_text(str(i))
        (layer / "top").write_text(str(i))
        sandbox.lowers.append(layer)
    run = sandbox.run("cat /top; echo; ls /layers | wc -l; cat /layers/l0")
    assert run.out.split() == ["119", "120", "0"], run.err
    assert own_mounts(tmp_path) == []


def test_upperdir_holds_exactly_the_steps_changes(sandbox: Sandbox) -> None:
    run = sandbox.run("echo new > /tmp/new; rm /bin/vi; mv /etc/group /etc/group.old; "
                      "chmod 700 /root; mkdir -p /var/lib/x")
    assert run.status.ok, run.err
    upper = sandbox.upper
    assert _upper_tree(upper) == ["bin", "bin/vi", "etc", "etc/group", "etc/group.old",
                                  "root", "tmp", "tmp/new", "var", "var/lib", "var/lib/x"]
    assert os.stat(upper / "bin" / "vi", follow_symlinks=False).st_rdev == 0  # whiteout
    assert os.stat(upper / "root").st_mode & 0o777 == 0o700


def test_etc_files_and_mount_points_never_reach_the_layer(
        sandbox: Sandbox, tmp_path: Path) -> None:
    bare = tmp_path / "bare"  # a root without /etc, /proc, /dev, /sys
    (bare / "bin").mkdir(parents=True)
    for name in ("busybox", "sh", "echo", "cat"):
        src = sandbox.lowers[0] / "bin" / name
        (bare / "bin" / name).symlink_to(os.readlink(src)) if src.is_symlink() else \
            os.link(src, bare / "bin" / name)
    sandbox.lowers[:] = [bare]
    run = sandbox.run("echo 10.1.1.1 evil >> /etc/hosts; echo x > /etc/hostname; "
                      "echo nameserver 1.1.1.1 > /etc/resolv.conf; cat /etc/hosts")
    assert run.status.ok, run.err
    assert "evil" in run.out
    assert _upper_tree(sandbox.upper) == []


def test_files_written_next_to_etc_files_are_kept(sandbox: Sandbox) -> None:
    assert sandbox.run("echo hi > /etc/motd; echo x >> /etc/hosts").status.ok
    assert _upper_tree(sandbox.upper) == ["etc", "etc/motd"]


def test_symlink_planted_in_a_layer_cannot_reach_the_host(
        sandbox: Sandbox, tmp_path: Path) -> None:
    host_dir = tmp_path / "host-secret"
    host_dir.mkdir()
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "etc").symlink_to(host_dir)  # /etc → a host path, absolute
    sandbox.lowers.append(evil)
    run = sandbox.run("echo pwned > /etc/pwned; cat /etc/hostname")
    assert run.status.ok, run.err
    assert run.out == "pybuild\n"
    assert list(host_dir.iterdir()) == []


def test_proc_planted_as_a_symlink_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "proc").symlink_to(tmp_path)
    sandbox.lowers.append(evil)
    with pytest.raises(SandboxError, match="/proc is not a plain directory"):
        sandbox.run("true")
    assert _upper_tree(sandbox.upper) == []
    assert own_mounts(tmp_path) == []


def test_bind_mount_is_read_only_by_default_and_tmpfs_is_discarded(
        sandbox: Sandbox, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "file").write_text("from host\n")
    spec = sandbox.spec(
        "cat /src/file; echo x > /src/file || echo RO; echo t > /scratch/t; cat /scratch/t",
        mounts=(MountSpec("/src", source=str(ctx)), MountSpec("/scratch", MountKind.TMPFS)))
    run = sandbox.run("", spec=spec)
    assert run.out.splitlines() == ["from host", "RO", "t"]
    assert (ctx / "file").read_text() == "from host\n"
    assert _upper_tree(sandbox.upper) == []


def test_fork_bomb_stops_at_the_pids_limit(sandbox: Sandbox) -> None:
    spec = sandbox.spec("for i in $(seq 40); do sleep 30 & echo $i; done",
                        limits=Limits(pids=16))
    run = sandbox.run("", spec=spec)
    started = run.out.split()
    assert 5 <= len(started) < 16, run.out
    assert "can't fork" in run.err


def test_memory_hog_is_killed_at_the_memory_limit(sandbox: Sandbox) -> None:
    spec = sandbox.spec("dd if=/dev/zero of=/dev/null bs=256M count=1 2>/dev/null; echo dd=$?",
                        limits=Limits(memory=32 << 20))
    run = sandbox.run("", spec=spec)
    assert run.out == "dd=137\n", run.out + run.err  # 128 + SIGKILL from the OOM killer


def test_memory_below_the_limit_is_fine(sandbox: Sandbox) -> None:
    spec = sandbox.spec("dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null; echo dd=$?",
                        limits=Limits(memory=64 << 20, cpu=0.5))
    assert sandbox.run("", spec=spec).out == "dd=0\n"
