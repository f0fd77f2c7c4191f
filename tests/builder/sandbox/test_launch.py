"""Launching the init: the zygote is reused, restarted when it dies, and EXEC mode works."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from builder.sandbox import Executor, ExecutorOptions, ProcessSpec, SandboxSpec
from builder.sandbox import launch as launch_module
from builder.sandbox.launch import LaunchMode

from .conftest import Sandbox, host_processes_with

pytestmark = pytest.mark.privileged


def _run(sandbox: Sandbox, executor: Executor, script: str) -> str:
    lines: list[bytes] = []
    status = executor.run(SandboxSpec(ProcessSpec(("sh", "-c", script))), sandbox.layout(),
                          lambda stream, line: lines.append(line))
    assert status.ok
    return b"".join(lines).decode()


def test_exec_mode_runs_a_fresh_init_per_step(sandbox: Sandbox) -> None:
    executor = Executor(ExecutorOptions(launch=LaunchMode.EXEC))
    cmdline = _run(sandbox, executor, "cat /proc/1/cmdline | tr '\\0' ' '")
    assert re.search(r"-m builder\.sandbox\.init \d+ \d+ $", cmdline), cmdline


def test_zygote_is_reused_and_restarted_after_it_dies(sandbox: Sandbox) -> None:
    executor = Executor()
    assert _run(sandbox, executor, "echo a") == "a\n"
    zygote = launch_module._ZYGOTES[ExecutorOptions().python]
    assert _run(sandbox, executor, "echo b") == "b\n"
    assert launch_module._ZYGOTES[ExecutorOptions().python] is zygote
    os.kill(zygote.pid, signal.SIGKILL)
    os.waitpid(zygote.pid, 0)
    assert _run(sandbox, executor, "echo c") == "c\n"
    assert launch_module._ZYGOTES[ExecutorOptions().python].pid != zygote.pid


def test_concurrent_steps_are_isolated_from_each_other(busybox_dir: Path, tmp_path: Path) -> None:
    outputs: dict[int, str] = {}

    def step(i: int) -> None:
        box = Sandbox(tmp_path / str(i), [busybox_dir])
        box.tmp.mkdir()
        outputs[i] = _run(box, Executor(), f"echo {i} > /mine; sleep 0.3; cat /mine; ps | wc -l")

    threads = [threading.Thread(target=step, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        first, count = outputs[i].split()
        assert first == str(i) and int(count) <= 5, outputs[i]


def test_steps_die_when_pybuild_itself_is_killed(busybox_dir: Path, tmp_path: Path) -> None:
    marker = str(800000 + secrets.randbelow(99999))
    script = (
        "import sys; from pathlib import Path\n"
        "from builder.sandbox import Executor, ExecutorOptions, ProcessSpec, RootfsLayout\n"
        "from builder.sandbox import SandboxSpec\n"
        f"t = Path({str(tmp_path)!r}); (t / 'u').mkdir(); (t / 'w').mkdir()\n"
        f"cmd = 'sleep {marker} & echo up; sleep {marker}'\n"
        "spec = SandboxSpec(ProcessSpec(('sh', '-c', cmd)))\n"
        "layout = RootfsLayout((Path(%r),), t / 'u', t / 'w')\n" % str(busybox_dir)
        + "Executor(ExecutorOptions(state_dir=t)).run(spec, layout,\n"
        "               lambda s, line: print(line.decode(), end='', flush=True))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])})
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
        assert len(set(host_processes_with(f"sleep {marker}")) - {proc.pid}) == 2
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while host_processes_with(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_processes_with(f"sleep {marker}") == []
    assert proc.stdout is not None
    proc.stdout.close()
