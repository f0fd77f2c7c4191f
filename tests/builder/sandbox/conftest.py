"""Fixtures for sandbox tests: a busybox rootfs directory (a lower layer) and a runner."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from builder.sandbox import (
    Executor,
    ExitStatus,
    ProcessSpec,
    RootfsLayout,
    RunOptions,
    SandboxSpec,
)

BUSYBOX = "/bin/busybox"
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "alice:x:1000:1000:alice:/home/alice:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\nwheel:x:10:alice\naudio:x:29:bob,alice\nalice:x:1000:\nnogroup:x:65534:\n"
SHOW_EUID_C = (
    '#include <stdio.h>\n#include <unistd.h>\n'
    'int main(void){printf("euid=%d\\n",(int)geteuid());return 0;}\n'
)


def make_busybox_rootfs(root: Path) -> Path:
    """A minimal rootfs: /bin/busybox with applet links, passwd, group, /tmp, /proc, /dev."""
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    for name in ("proc", "dev", "sys", "root", "home/alice"):
        (root / name).mkdir(parents=True)
    (root / "tmp").mkdir(mode=0o1777)
    os.chmod(root / "tmp", 0o1777)
    os.chown(root / "home" / "alice", 1000, 1000)
    return root


@pytest.fixture(scope="session")
def busybox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox rootfs directory, shared read-only by the tests of one worker."""
    if os.geteuid() != 0:
        pytest.skip("sandbox tests need root")
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("needs /bin/busybox (apt-get install busybox-static)")
    return make_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")


@pytest.fixture(scope="session")
def setuid_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A layer holding /bin/showeuid, a static setuid-root program printing its euid."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is needed to build the setuid helper (apt-get install gcc libc6-dev)")
    layer = tmp_path_factory.mktemp("setuid")
    (layer / "bin").mkdir()
    src = layer.parent / f"showeuid-{secrets.token_hex(4)}.c"
    src.write_text(SHOW_EUID_C)
    subprocess.run([gcc, "-static", "-O", "-o", str(layer / "bin" / "showeuid"), str(src)],
                   check=True)
    os.chmod(layer / "bin" / "showeuid", 0o4755)
    return layer


@dataclass
class Run:
    """What one sandboxed step gave: its status and its output lines per stream."""

    status: ExitStatus
    lines: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def out(self) -> str:
        return b"".join(line for s, line in self.lines if s == "stdout").decode()

    @property
    def err(self) -> str:
        return b"".join(line for s, line in self.lines if s == "stderr").decode()


@dataclass
class Sandbox:
    """Runs steps on the busybox rootfs (plus extra layers) with a fresh upperdir each."""

    tmp: Path
    lowers: list[Path]

    @property
    def upper(self) -> Path:
        return self.tmp / "upper"

    def layout(self) -> RootfsLayout:
        for d in ("upper", "work"):
            (self.tmp / d).mkdir(exist_ok=True)
        return RootfsLayout(tuple(self.lowers), self.tmp / "upper", self.tmp / "work")

    def run(self, script: str, *, spec: SandboxSpec | None = None,
            options: RunOptions | None = None,
            on_line: Callable[[str, bytes], None] | None = None) -> Run:
        spec = spec or SandboxSpec(ProcessSpec(args=("sh", "-c", script)))
        lines: list[tuple[str, bytes]] = []

        def sink(stream: str, line: bytes) -> None:
            lines.append((stream, line))
            if on_line is not None:
                on_line(stream, line)

        status = Executor().run(spec, self.layout(), sink, options)
        return Run(status, lines)

    def spec(self, script: str, *, user: str = "", cwd: str = "/",
             env: tuple[str, ...] = (), **rest: Any) -> SandboxSpec:
        """A spec running ``sh -c script``; ``rest`` goes to ``SandboxSpec``."""
        return SandboxSpec(ProcessSpec(("sh", "-c", script), env, cwd, user), **rest)


@pytest.fixture
def sandbox(tmp_path: Path, busybox_dir: Path) -> Sandbox:
    return Sandbox(tmp_path, [busybox_dir])


def host_processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry.name))
    return found


def own_mounts(tmp: Path) -> list[str]:
    """Lines of the host's mountinfo that mention ``tmp``."""
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(tmp) in line]

