"""The sandbox's init, run as a fresh process: ``python -m builder.sandbox.init PLAN_FD STATUS_FD``.

May import: stdlib, builder.sandbox.{libc,netsetup,privileges,rootfs,spec,users,errors},
builder.snapshots.overlay (loaded by file path, to skip the snapshots package's imports).

Three processes, as in buildah's reexec pattern (the busy parent never forks):

``outer``   reports its pid, reads the ``InitPlan`` JSON from PLAN_FD, unshares the pid
            namespace, forks pid 1, reports pid 1's host pid, and exits after pid 1.
``pid 1``   dies with the outer process (PDEATHSIG); unshares the mount, uts, ipc,
            cgroup and (unless host networking) net namespaces; in ``default`` mode reports
            ``{"event": "netns"}`` and waits on PLAN_FD for its interface settings (or an
            error) from the executor's network provider; builds the root filesystem and
            pivots into it, sets the hostname, resolves the user,
            forks the step, forwards signals to it, reaps every zombie, and when the
            step exits kills whatever is left and reports the step's status.
``step``    drops to Docker's privileges (bounding set, seccomp, ids, capabilities),
            sets umask 022, stdin /dev/null and the working directory, and execs.

With ``--zygote SOCK_FD`` the process instead serves many steps: the executor starts it
once, and it forks an outer process per step (see ``_zygote``). It is itself a fresh
process that never runs anything else, so forking it is safe and cheap.

STATUS_FD carries JSON lines: ``{"event": "outer", "pid": N}``, ``{"event": "started",
"pid": N}``, then either
``{"event": "exit", "status": S, "created": [...]}`` or ``{"event": "error",
"message": M, "created": [...]}``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from builder.sandbox import libc, netsetup, privileges
from builder.sandbox.errors import SandboxError
from builder.sandbox.rootfs import setup_rootfs
from builder.sandbox.spec import DEFAULT_PATH, InitPlan, NetworkMode, SecurityMode
from builder.sandbox.users import ExecUser, resolve_user

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
              signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH)
EXIT_NOT_FOUND, EXIT_NOT_EXECUTABLE = 127, 126


def _emit(fd: int, event: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (json.dumps(event) + "\n").encode())


def _read_line(fd: int) -> bytes:
    """One newline-terminated message from the executor (the plan, later the network)."""
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)


def _read_plan(fd: int) -> InitPlan:
    try:
        data = json.loads(_read_line(fd))
    except ValueError as exc:
        raise SandboxError(f"malformed sandbox plan: {exc}") from None
    return InitPlan.from_json(data)


def _join_network(plan: InitPlan, plan_fd: int, status_fd: int) -> None:
    """Set up the step's network namespace (pid 1 has just unshared it)."""
    mode = plan.spec.namespaces.network
    if mode is NetworkMode.DEFAULT:
        _emit(status_fd, {"event": "netns"})
        try:
            reply = json.loads(_read_line(plan_fd))
        except ValueError:
            raise SandboxError("the executor gave up before the network was ready") from None
        if "error" in reply:
            raise SandboxError(f"network set-up failed: {reply['error']}")
        netsetup.configure(netsetup.InterfaceConfig(**reply))
    if mode is not NetworkMode.HOST:
        netsetup.loopback_up()


@cache
def _load_overlay() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "snapshots" / "overlay.py"
    spec = importlib.util.spec_from_file_location("_pybuild_overlay", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    """Entry point: ``PLAN_FD STATUS_FD`` (one step) or ``--zygote SOCK_FD`` (many).

    Raises:
        SystemExit: bad arguments (the executor always passes two fds).
    """
    if len(argv) != 2:
        raise SystemExit("usage: python -m builder.sandbox.init PLAN_FD STATUS_FD")
    if argv[0] == "--zygote":
        return _zygote(int(argv[1]))
    return _outer(int(argv[0]), int(argv[1]))


def _outer(plan_fd: int, status_fd: int) -> int:
    """Read the plan, enter a new pid namespace, fork pid 1, wait for it."""
    _emit(status_fd, {"event": "outer", "pid": os.getpid()})
    try:
        plan = _read_plan(plan_fd)
        libc.unshare(libc.CLONE_NEWPID)
        pid = os.fork()
    except (OSError, SandboxError) as exc:
        _emit(status_fd, {"event": "error", "message": _describe(exc), "created": []})
        return 1
    if pid == 0:
        _pid1(plan, plan_fd, status_fd)
    os.close(plan_fd)
    _emit(status_fd, {"event": "started", "pid": pid})
    os.close(status_fd)
    _, status = os.waitpid(pid, 0)
    return max(os.waitstatus_to_exitcode(status), 0)


def _zygote(sock_fd: int) -> int:
    """Fork one outer process per request: a fresh, idle, single-threaded process forks.

    A request is one SEQPACKET message carrying four fds (plan reader, stdout, stderr and
    status writers); the reply is the outer process's pid. EOF on the socket ends the zygote.
    """
    import socket

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the outer processes
    _load_overlay()  # everything a step needs is loaded once, before the first fork
    libc.libc()
    with contextlib.suppress(OSError):
        privileges.preload()
    sock = socket.socket(fileno=sock_fd)
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(sock, 16, 4)
        except OSError:
            return 0
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            return 0
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os._exit(_as_outer(*fds))
        for fd in fds:
            os.close(fd)
        sock.send(str(pid).encode())


def _as_outer(plan_fd: int, stdout_fd: int, stderr_fd: int, status_fd: int) -> int:
    try:
        # The zygote dies when pybuild does (EOF on its socket); its steps die with it.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        null = os.open("/dev/null", os.O_RDONLY)
        for src, dst in ((null, 0), (stdout_fd, 1), (stderr_fd, 2)):
            os.dup2(src, dst)
            os.close(src)
        os.setsid()
        return _outer(plan_fd, status_fd)
    except BaseException as exc:  # a forked child must never return into the zygote's loop
        _emit(status_fd, {"event": "error", "message": _describe(exc), "created": []})
        return 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SandboxError):
        return exc.message
    if isinstance(exc, OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _pid1(plan: InitPlan, plan_fd: int, status_fd: int) -> NoReturn:
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    created: list[str] = []
    try:
        # Only processes of this pid namespace ever hold the mount namespace, so it (and
        # the overlay) is gone by the time the outer process has reaped pid 1.
        flags = libc.CLONE_NEWNS | libc.CLONE_NEWUTS | libc.CLONE_NEWIPC | libc.CLONE_NEWCGROUP
        if plan.spec.namespaces.network is not NetworkMode.HOST:
            flags |= libc.CLONE_NEWNET
        libc.unshare(flags)
        _join_network(plan, plan_fd, status_fd)
        os.close(plan_fd)
        overlay = _load_overlay()
        if plan.spec.privileges.mode is SecurityMode.SANDBOX:
            privileges.preload()
        setup_rootfs(plan, created, lambda: overlay.mount_overlay(
            plan.lowerdirs, plan.upperdir, plan.workdir, plan.mountpoint))
        libc.sethostname(plan.spec.namespaces.hostname)
        user = resolve_user(plan.spec.process.user, _read_etc("passwd"), _read_etc("group"),
                            plan.spec.process.extra_groups)
        os.makedirs(plan.spec.process.cwd, mode=0o755, exist_ok=True)
    except Exception as exc:  # pid 1 must always report, never die with a traceback
        _emit(status_fd, {"event": "error", "message": _describe(exc), "created": created})
        os._exit(1)
    step = os.fork()
    if step == 0:
        os.close(status_fd)
        _exec_step(plan, user)
    for sig in _FORWARDED:
        signal.signal(sig, lambda s, _f: _forward(step, s))
    status = _reap(step)
    _emit(status_fd, {"event": "exit", "status": status, "created": created})
    os._exit(0)


def _forward(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(step: int) -> int:
    """Reap zombies until the step exits, then kill the rest; the step's exit code."""
    result = 0
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return result
        if pid == step:
            result = os.waitstatus_to_exitcode(status)
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)


def _read_etc(name: str) -> str:
    try:
        return Path("/etc", name).read_text(errors="replace")
    except OSError:
        return ""


def _step_env(plan: InitPlan, user: ExecUser) -> dict[str, str]:
    env = dict(e.split("=", 1) for e in plan.spec.process.env)
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("HOME", user.home)
    return env


def _exec_step(plan: InitPlan, user: ExecUser) -> NoReturn:
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.umask(0o022)
        os.chdir(plan.spec.process.cwd)
        _drop_privileges(plan, user)
    except (OSError, SandboxError) as exc:
        os.write(2, f"pybuild: cannot start the step: {_describe(exc)}\n".encode())
        os._exit(EXIT_NOT_EXECUTABLE)
    args = list(plan.spec.process.args)
    try:
        os.execvpe(args[0], args, _step_env(plan, user))
    except FileNotFoundError:
        os.write(2, f"pybuild: exec {args[0]}: executable file not found in $PATH\n".encode())
        os._exit(EXIT_NOT_FOUND)
    except OSError as exc:
        os.write(2, f"pybuild: exec {args[0]}: {exc.strerror}\n".encode())
        os._exit(EXIT_NOT_EXECUTABLE)


def _drop_privileges(plan: InitPlan, user: ExecUser) -> None:
    sandboxed = plan.spec.privileges.mode is SecurityMode.SANDBOX
    caps = privileges.DOCKER_CAPS if sandboxed else None
    privileges.drop_bounding_set(caps)
    if plan.spec.privileges.no_new_privs:
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1)
    if sandboxed:
        privileges.install_seccomp()  # while CAP_SYS_ADMIN is still held
    os.setgroups(list(user.groups))
    os.setresgid(user.gid, user.gid, user.gid)
    os.setresuid(user.uid, user.uid, user.uid)
    privileges.set_capabilities(caps if user.uid == 0 else ())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
