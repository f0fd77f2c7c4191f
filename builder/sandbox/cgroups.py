"""Per-step cgroups for memory, pids and cpu limits, on cgroup v1 (hybrid too) or v2.

May import: stdlib, builder.sandbox.{spec,errors}.

``StepCgroup.create(limits)`` makes one child cgroup per controller below the cgroup
pybuild itself runs in (v1: one per hierarchy; v2: one in the unified tree), writes the
limits, ``add(pid)`` moves the sandbox's outer process in before it forks (its children
inherit the cgroup), and ``remove()`` kills stragglers and deletes the directories.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from builder.sandbox.errors import SandboxError
from builder.sandbox.spec import Limits

__all__ = ["CgroupVersion", "StepCgroup", "cgroup_version"]

CGROUP_ROOT = Path("/sys/fs/cgroup")
_CFS_PERIOD = 100_000


class CgroupVersion(Enum):
    V1 = 1
    V2 = 2


def cgroup_version(root: Path = CGROUP_ROOT) -> CgroupVersion:
    """2 when ``root`` is the unified hierarchy, else 1 (v1 or hybrid)."""
    return CgroupVersion.V2 if (root / "cgroup.controllers").exists() else CgroupVersion.V1


def _own_paths() -> dict[str, str]:
    """Controller (or "" for the unified tree) → this process's cgroup path."""
    out: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            out[name] = path
    return out


@dataclass(frozen=True, slots=True)
class StepCgroup:
    """The cgroup directories of one step (one per v1 controller, or one v2 directory)."""

    dirs: tuple[Path, ...]

    @classmethod
    def create(cls, limits: Limits, root: Path = CGROUP_ROOT) -> StepCgroup:
        """Create the step's cgroups and write ``limits``.

        Raises:
            SandboxError: a controller is missing or refused a limit (nothing is left behind).
        """
        name = f"pybuild-{secrets.token_hex(6)}"
        made: list[Path] = []
        try:
            if cgroup_version(root) is CgroupVersion.V2:
                _create_v2(root, name, limits, made)
            else:
                _create_v1(root, name, limits, made)
        except OSError as exc:
            StepCgroup(tuple(made)).remove()
            raise SandboxError(
                f"cannot set up the step's cgroup: {exc.strerror or exc}",
                hint="limits need a writable cgroup filesystem (run as root)",
            ) from None
        return cls(tuple(made))

    def add(self, pid: int) -> None:
        """Move ``pid`` into every directory of this cgroup.

        Raises:
            SandboxError: the kernel refused.
        """
        for d in self.dirs:
            try:
                (d / "cgroup.procs").write_text(str(pid))
            except OSError as exc:
                raise SandboxError(f"cannot move the step into {d}: {exc.strerror}") from None

    def remove(self) -> None:
        """Kill what is still inside and delete the directories (best effort, bounded)."""
        for d in self.dirs:
            deadline = time.monotonic() + 2.0
            while d.exists():
                with contextlib.suppress(OSError):
                    for pid in (d / "cgroup.procs").read_text().split():
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(int(pid), signal.SIGKILL)
                try:
                    d.rmdir()
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)


def _create_v1(root: Path, name: str, limits: Limits, made: list[Path]) -> None:
    own = _own_paths()
    wanted = [("memory", limits.memory), ("pids", limits.pids), ("cpu", limits.cpu)]
    for controller, value in wanted:
        if value is None:
            continue
        base = root / controller
        if not base.is_dir():
            raise OSError(2, f"no cgroup v1 hierarchy for {controller}")
        d = base / own.get(controller, "/").lstrip("/") / name
        d.mkdir()
        made.append(d)
        if controller == "memory":
            (d / "memory.limit_in_bytes").write_text(str(limits.memory))
            swap = d / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(limits.memory))
        elif controller == "pids":
            (d / "pids.max").write_text(str(limits.pids))
        else:
            (d / "cpu.cfs_period_us").write_text(str(_CFS_PERIOD))
            (d / "cpu.cfs_quota_us").write_text(str(int(float(value) * _CFS_PERIOD)))


def _create_v2(root: Path, name: str, limits: Limits, made: list[Path]) -> None:
    parent = root / _own_paths().get("", "/").lstrip("/")
    enable = " ".join(
        f"+{c}" for c, v in (("memory", limits.memory), ("pids", limits.pids),
                             ("cpu", limits.cpu)) if v is not None
    )
    (parent / "cgroup.subtree_control").write_text(enable)
    d = parent / name
    d.mkdir()
    made.append(d)
    if limits.memory is not None:
        (d / "memory.max").write_text(str(limits.memory))
        with contextlib.suppress(FileNotFoundError):
            (d / "memory.swap.max").write_text("0")
    if limits.pids is not None:
        (d / "pids.max").write_text(str(limits.pids))
    if limits.cpu is not None:
        (d / "cpu.max").write_text(f"{int(limits.cpu * _CFS_PERIOD)} {_CFS_PERIOD}")
