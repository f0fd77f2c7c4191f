"""Run one step in the sandbox: start the init process, stream its output, clean up.

May import: stdlib, builder.sandbox.{spec,cgroups,etcfiles,errors,launch,netsetup,scrub}.

``Executor().run(spec, RootfsLayout(lowerdirs, upperdir, workdir), on_output)`` blocks
until the step ends, calling ``on_output("stdout" | "stderr", line)`` for every line as it
arrives, and returns an ``ExitStatus``. A timeout or a set ``cancel`` event kills pid 1
of the step's pid namespace, which makes the kernel kill every process in it. The overlay
and all other mounts live only in the step's mount namespace, so they vanish with it;
mount points the init had to create are removed from the upperdir, and the step's cgroups
and state directory are deleted — whether the step succeeded, failed or was killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from builder.sandbox.cgroups import StepCgroup
from builder.sandbox.errors import SandboxError
from builder.sandbox.etcfiles import write_etc_files
from builder.sandbox.launch import Launched, LaunchMode, launch
from builder.sandbox.netsetup import NetworkLease, NetworkProvider
from builder.sandbox.scrub import scrub_upper
from builder.sandbox.spec import InitPlan, NetworkMode, SandboxSpec

__all__ = [
    "Executor",
    "ExecutorOptions",
    "ExitReason",
    "ExitStatus",
    "OutputCallback",
    "RootfsLayout",
    "RunOptions",
]

OutputCallback = Callable[[str, bytes], None]
_MAX_LINE = 64 * 1024


class ExitReason(Enum):
    EXITED = "exited"
    SIGNALED = "signaled"
    TIMED_OUT = "timed-out"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How the step ended. ``code`` is the shell convention (128+N after signal N)."""

    code: int
    reason: ExitReason = ExitReason.EXITED
    signal: int | None = None

    @property
    def ok(self) -> bool:
        return self.reason is ExitReason.EXITED and self.code == 0


@dataclass(frozen=True, slots=True)
class RootfsLayout:
    """The step's overlay: image layer dirs bottom to top, a fresh upperdir and a workdir."""

    lowerdirs: tuple[Path, ...]
    upperdir: Path
    workdir: Path


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How long the step may run, how the caller cancels it, and the grace period.

    With ``grace`` > 0 a timeout or cancel first sends SIGTERM (pid 1 forwards it to the
    step) and SIGKILLs the namespace only if the step is still there ``grace`` seconds later.
    """

    timeout: float | None = None
    cancel: threading.Event | None = None
    grace: float = 0.0


@dataclass(frozen=True, slots=True)
class ExecutorOptions:
    """Where state files go, and the interpreter that runs the init process."""

    state_dir: Path | None = None
    python: str = sys.executable
    launch: LaunchMode = LaunchMode.ZYGOTE
    network: NetworkProvider | None = None


class Executor:
    """Runs steps; holds no per-step state, so one instance serves concurrent threads."""

    def __init__(self, options: ExecutorOptions | None = None) -> None:
        self._options = options or ExecutorOptions()

    def run(
        self,
        spec: SandboxSpec,
        rootfs: RootfsLayout,
        on_output: OutputCallback,
        options: RunOptions | None = None,
    ) -> ExitStatus:
        """Run ``spec`` on ``rootfs`` and return how it ended.

        Raises:
            SandboxError: the sandbox could not be set up (the step never ran); nothing
                is left mounted, running or in the upperdir.
        """
        if spec.namespaces.network is NetworkMode.DEFAULT and self._options.network is None:
            raise SandboxError(
                "network mode 'default' needs a network provider, and this executor has none",
                hint="use network none or host, or pass ExecutorOptions(network=…)",
            )
        opts = options or RunOptions()
        state = Path(tempfile.mkdtemp(prefix="pybuild-sandbox-", dir=self._options.state_dir))
        cgroup: StepCgroup | None = None
        events = _Events()
        try:
            lowers = rootfs.lowerdirs or (self._empty_lower(state),)
            (state / "root").mkdir()
            plan = InitPlan(
                spec=spec,
                lowerdirs=tuple(str(Path(p).absolute()) for p in lowers),
                upperdir=str(rootfs.upperdir.absolute()),
                workdir=str(rootfs.workdir.absolute()),
                mountpoint=str(state / "root"),
                etc=write_etc_files(state, spec.namespaces),
            )
            if spec.limits.any:
                cgroup = StepCgroup.create(spec.limits)
            sinks = _Sinks(on_output, events, self._options.network)
            self._start_and_wait(plan, cgroup, sinks, opts)
            return _outcome(events)
        finally:
            if cgroup is not None:
                cgroup.remove()
            scrub_upper(rootfs.upperdir, events.created, rootfs.lowerdirs)
            shutil.rmtree(state, ignore_errors=True)

    @staticmethod
    def _empty_lower(state: Path) -> Path:
        empty = state / "empty"
        empty.mkdir()
        return empty

    def _start_and_wait(
        self,
        plan: InitPlan,
        cgroup: StepCgroup | None,
        sinks: _Sinks,
        opts: RunOptions,
    ) -> None:
        launched = launch(self._options.launch, self._options.python)
        watcher = _Watcher(launched, sinks)
        try:
            if cgroup is not None:
                cgroup.add(launched.outer_pid)
            watcher.send(json.dumps(plan.to_json()).encode() + b"\n")
            if plan.spec.namespaces.network is not NetworkMode.DEFAULT:
                watcher.close_plan()
            watcher.pump(opts)
        finally:
            watcher.finish()
            if sinks.events.lease is not None:
                sinks.events.lease.release()


@dataclass
class _Events:  # mutable on purpose: filled in as the init reports
    """What the init reported on its status pipe, and whether pybuild killed it."""

    outer: int | None = None
    pid1: int | None = None
    netns_requested: bool = False
    lease: NetworkLease | None = None
    exit_status: int | None = None
    error: str | None = None
    created: tuple[str, ...] = ()
    killed: ExitReason | None = None
    outer_code: int | None = None


@dataclass(frozen=True, slots=True)
class _Sinks:
    output: OutputCallback
    events: _Events
    network: NetworkProvider | None = None


class _Watcher:
    """Multiplexes the step's stdout, stderr and the init's status pipe until all close."""

    def __init__(self, launched: Launched, sinks: _Sinks) -> None:
        self.launched = launched
        self.events = sinks.events
        self._sink = sinks.output
        self._network = sinks.network
        self._plan_w: int | None = launched.plan_w
        self._sel = selectors.DefaultSelector()
        self._buffers: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self._status = bytearray()
        for name, fd in (("stdout", launched.stdout), ("stderr", launched.stderr),
                         ("status", launched.status)):
            os.set_blocking(fd, False)
            self._sel.register(fd, selectors.EVENT_READ, name)

    def pump(self, opts: RunOptions) -> None:
        deadline = None if opts.timeout is None else time.monotonic() + opts.timeout
        kill_at: float | None = None
        while self._sel.get_map():
            wait = 0.1
            now = time.monotonic()
            if self.events.killed is None:
                reason = None
                if deadline is not None and now >= deadline:
                    reason = ExitReason.TIMED_OUT
                elif opts.cancel is not None and opts.cancel.is_set():
                    reason = ExitReason.CANCELLED
                elif deadline is not None:
                    wait = max(0.0, min(wait, deadline - now))
                if reason is not None and opts.grace > 0 and self.events.pid1 is not None:
                    self.events.killed = reason
                    kill_at = now + opts.grace
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.events.pid1, signal.SIGTERM)  # forwarded to the step
                elif reason is not None:
                    self.kill(reason)
            elif kill_at is not None and now >= kill_at:
                kill_at = None
                self.kill(self.events.killed)
            for key, _ in self._sel.select(wait):
                self._read(key.fd, key.data)

    def _read(self, fd: int, name: str) -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        if name == "status":
            self._status += chunk
            self._parse_status()
        else:
            self._emit(name, chunk)
        if not chunk:
            self._sel.unregister(fd)

    def _emit(self, name: str, chunk: bytes) -> None:
        buf = self._buffers[name]
        buf += chunk
        while (nl := buf.find(b"\n")) >= 0 or len(buf) >= _MAX_LINE or (not chunk and buf):
            end = nl + 1 if nl >= 0 else min(len(buf), _MAX_LINE)
            line = bytes(buf[:end])
            del buf[:end]
            self._sink(name, line)

    def send(self, data: bytes) -> None:
        """Write to the init's plan pipe (the plan, then the network reply)."""
        if self._plan_w is None:
            return
        with contextlib.suppress(BrokenPipeError):
            view = memoryview(data)
            while view:
                view = view[os.write(self._plan_w, view):]

    def close_plan(self) -> None:
        if self._plan_w is not None:
            os.close(self._plan_w)
            self._plan_w = None

    def _attach_network(self) -> None:
        """pid 1 has its network namespace: plug it in and tell it how it was set up."""
        assert self.events.pid1 is not None and self._network is not None
        try:
            self.events.lease = self._network.attach(self.events.pid1)
            reply: dict[str, object] = dict(self.events.lease.config.to_json())
        except Exception as exc:  # reported by the init as a set-up failure
            reply = {"error": str(exc)}
        self.send(json.dumps(reply).encode() + b"\n")
        self.close_plan()

    def _parse_status(self) -> None:
        while (nl := self._status.find(b"\n")) >= 0:
            line = bytes(self._status[:nl])
            del self._status[: nl + 1]
            with contextlib.suppress(ValueError):
                _apply(self.events, json.loads(line))
            ready = self.events.netns_requested and self.events.pid1 is not None
            if ready and self._plan_w is not None:  # both events seen, in either order
                self._attach_network()

    def kill(self, reason: ExitReason) -> None:
        """SIGKILL pid 1 (the kernel then kills its whole namespace) and the outer process."""
        self.events.killed = reason
        for pid in (self.events.pid1, self.events.outer or self.launched.outer_pid):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def finish(self) -> None:
        """Wait for every pipe to close: then no process of the step is left."""
        if self._sel.get_map():  # interrupted (KeyboardInterrupt, a failing callback…)
            self.kill(ExitReason.CANCELLED)
            while self._sel.get_map():
                for key, _ in self._sel.select(1.0):
                    self._read(key.fd, key.data)
        self._sel.close()
        self.close_plan()
        for fd in (self.launched.stdout, self.launched.stderr, self.launched.status):
            os.close(fd)
        if self.launched.proc is not None:
            self.events.outer_code = self.launched.proc.wait()


def _apply(events: _Events, event: dict[str, Any]) -> None:
    kind = event.get("event")
    if kind == "netns":
        events.netns_requested = True
    elif kind == "outer":
        events.outer = int(event["pid"])
    elif kind == "started":
        events.pid1 = int(event["pid"])
    elif kind in ("exit", "error"):
        events.created = tuple(str(p) for p in event.get("created", ()))
        if kind == "exit":
            events.exit_status = int(event["status"])
        else:
            events.error = str(event.get("message", "unknown error"))


def _outcome(events: _Events) -> ExitStatus:
    if events.killed is not None:
        if events.exit_status is not None:  # the step ended within the grace period
            code = events.exit_status
            sig = -code if code < 0 else None
            return ExitStatus(128 + sig if sig else code, events.killed, sig)
        return ExitStatus(128 + signal.SIGKILL, events.killed, signal.SIGKILL)
    if events.error is not None:
        raise SandboxError(f"sandbox setup failed: {events.error}")
    if events.exit_status is None:
        raise SandboxError(
            f"sandbox init ended without a status (outer exit code {events.outer_code})",
            hint="run with --debug and report this as a bug",
        )
    if events.exit_status < 0:
        sig = -events.exit_status
        return ExitStatus(128 + sig, ExitReason.SIGNALED, sig)
    return ExitStatus(events.exit_status)
