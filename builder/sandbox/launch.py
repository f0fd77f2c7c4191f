"""Start a step's outer init process, either through a zygote or by a fresh exec.

May import: stdlib, builder.sandbox.errors.

``LaunchMode.ZYGOTE`` (the default): one ``python -m builder.sandbox.init --zygote``
per interpreter, started on first use and kept until pybuild exits (it ends on EOF of
its socket). Each step costs a fork of that small idle process instead of a Python
start-up and imports. ``LaunchMode.EXEC``: a fresh ``python -m builder.sandbox.init``
per step. Either way the busy pybuild process itself never forks.

Both return the parent's ends of the step's pipes: the plan writer, stdout and stderr
readers and the status reader.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from builder.sandbox.errors import SandboxError

__all__ = ["LaunchMode", "Launched", "launch"]

_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent.parent)
_INIT = ("-S", "-m", "builder.sandbox.init")


class LaunchMode(Enum):
    ZYGOTE = "zygote"
    EXEC = "exec"


@dataclass(frozen=True, slots=True)
class Launched:
    """A started outer process and the parent's ends of its pipes (the caller closes them)."""

    outer_pid: int
    plan_w: int
    stdout: int
    stderr: int
    status: int
    proc: subprocess.Popen[bytes] | None = None


def _env() -> dict[str, str]:
    return {"PYTHONPATH": _PROJECT_ROOT, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def launch(mode: LaunchMode, python: str = sys.executable) -> Launched:
    """Start an outer init process that waits for its plan on ``plan_w``.

    Raises:
        SandboxError: the interpreter or the zygote could not be started.
    """
    pipes = [os.pipe() for _ in range(4)]  # plan, stdout, stderr, status
    child_ends = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
    parent_ends = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
    try:
        if mode is LaunchMode.ZYGOTE:
            pid, proc = _zygote(python).spawn(child_ends), None
        else:
            proc = subprocess.Popen(
                [python, *_INIT, str(child_ends[0]), str(child_ends[3])],
                pass_fds=(child_ends[0], child_ends[3]), stdin=subprocess.DEVNULL,
                stdout=child_ends[1], stderr=child_ends[2], cwd="/", env=_env(),
                start_new_session=True,
            )
            pid = proc.pid
    except (OSError, SandboxError) as exc:
        for fd in (*child_ends, *parent_ends):
            os.close(fd)
        if isinstance(exc, SandboxError):
            raise
        raise SandboxError(f"cannot start the sandbox init: {exc}") from None
    for fd in child_ends:
        os.close(fd)
    return Launched(pid, *parent_ends, proc=proc)


class _Zygote:
    """The long-lived forking helper, and the socket pybuild talks to it over."""

    def __init__(self, python: str) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            os.set_inheritable(child.fileno(), True)
            self.pid = os.posix_spawn(
                python, [python, *_INIT, "--zygote", str(child.fileno())], _env(),
                setsid=True,
                file_actions=[  # never hold pybuild's own stdio open
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
            )
        finally:
            child.close()
        self._sock = parent
        self._lock = threading.Lock()

    def spawn(self, fds: tuple[int, int, int, int]) -> int:
        """Ask for one outer process; its pid.

        Raises:
            OSError: the zygote is gone.
        """
        with self._lock:
            socket.send_fds(self._sock, [b"step"], list(fds))
            reply = self._sock.recv(32)
        if not reply:
            raise OSError("the sandbox zygote exited")
        return int(reply)

    def close(self) -> None:
        self._sock.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


_ZYGOTES: dict[str, _Zygote] = {}
_ZYGOTES_LOCK = threading.Lock()


def _zygote(python: str) -> _Zygote:
    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(python)
        if zygote is not None and _alive(zygote.pid):
            return zygote
        if zygote is not None:
            zygote.close()
        try:
            zygote = _ZYGOTES[python] = _Zygote(python)
        except OSError as exc:
            raise SandboxError(f"cannot start the sandbox zygote: {exc}") from None
        return zygote


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0
