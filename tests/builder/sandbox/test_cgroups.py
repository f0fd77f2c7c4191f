"""Per-step cgroups: limits written, process moved in, everything removed afterwards."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from builder.sandbox.cgroups import CgroupVersion, StepCgroup, cgroup_version
from builder.sandbox.spec import Limits

pytestmark = pytest.mark.privileged


@pytest.fixture(autouse=True)
def _root() -> None:
    if os.geteuid() != 0:
        pytest.skip("cgroups need root")


def _file(cg: StepCgroup, name: str) -> str:
    for d in cg.dirs:
        if (d / name).exists():
            return (d / name).read_text().strip()
    raise AssertionError(f"{name} in none of {cg.dirs}")


def test_limits_are_written_and_removed() -> None:
    cg = StepCgroup.create(Limits(memory=64 << 20, pids=33, cpu=0.5))
    try:
        if cgroup_version() is CgroupVersion.V1:
            assert _file(cg, "memory.limit_in_bytes") == str(64 << 20)
            assert _file(cg, "cpu.cfs_quota_us") == "50000"
        else:
            assert _file(cg, "memory.max") == str(64 << 20)
            assert _file(cg, "cpu.max") == "50000 100000"
        assert _file(cg, "pids.max") == "33"
    finally:
        cg.remove()
    assert not any(d.exists() for d in cg.dirs)


def test_remove_kills_what_is_left_inside() -> None:
    cg = StepCgroup.create(Limits(pids=10))
    proc = subprocess.Popen(["sleep", "60"])
    try:
        cg.add(proc.pid)
        assert str(proc.pid) in _file(cg, "cgroup.procs").split()
    finally:
        cg.remove()
        proc.wait(timeout=10)
    assert proc.returncode == -9
    assert not any(d.exists() for d in cg.dirs)


def test_unwritable_cgroup_root_is_a_clear_error(tmp_path: Path) -> None:
    from builder.sandbox.errors import SandboxError

    with pytest.raises(SandboxError, match="cannot set up the step's cgroup"):
        StepCgroup.create(Limits(pids=1), root=tmp_path)
