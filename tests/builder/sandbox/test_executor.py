"""The sandbox executor, for real: namespaces, overlay, privileges, output and cleanup."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import pytest

from builder.sandbox import (
    ExitReason,
    NamespaceSpec,
    Privileges,
    ProcessSpec,
    RunOptions,
    SandboxError,
    SandboxSpec,
)
from builder.sandbox.spec import NetworkMode, SecurityMode

from .conftest import Sandbox, host_processes_with, own_mounts

pytestmark = pytest.mark.privileged

DOCKER_CAPS = "00000000a80425fb"


def _status_field(out: str, name: str) -> str:
    for line in out.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{name} not in {out!r}")


def test_step_sees_only_its_own_processes(sandbox: Sandbox) -> None:
    run = sandbox.run("ps -o pid,comm")
    pids = [line.split()[0] for line in run.out.splitlines()[1:]]
    assert run.status.ok, run.err
    assert "1" in pids and all(int(p) < 20 for p in pids), run.out


def test_write_to_root_lands_only_in_upperdir(sandbox: Sandbox, busybox_dir: Path) -> None:
    marker = secrets.token_hex(8)
    run = sandbox.run(f"echo {marker} > /written && rm /etc/group && echo x >> /etc/passwd")
    assert run.status.ok, run.err
    assert (sandbox.upper / "written").read_text() == f"{marker}\n"
    assert not (busybox_dir / "written").exists()
    assert (busybox_dir / "etc" / "group").exists()
    assert not (busybox_dir / "etc" / "passwd").read_text().endswith("x\n")


def test_root_gets_exactly_dockers_capabilities(sandbox: Sandbox) -> None:
    out = sandbox.run("cat /proc/self/status").out
    for name in ("CapEff", "CapPrm", "CapBnd"):
        assert _status_field(out, name) == DOCKER_CAPS
    assert _status_field(out, "CapAmb") == "0000000000000000"
    assert _status_field(out, "CapInh") == "0000000000000000"


def test_seccomp_filter_is_active_and_no_new_privs_off(sandbox: Sandbox) -> None:
    out = sandbox.run("cat /proc/self/status").out
    assert _status_field(out, "Seccomp") == "2"
    assert _status_field(out, "NoNewPrivs") == "0"


def test_mount_unshare_and_chroot_escape_fail(sandbox: Sandbox) -> None:
    run = sandbox.run(
        "mkdir -p /mnt; mount -t tmpfs none /mnt && echo MOUNTED; "
        "unshare -U -r true && echo USERNS; "
        "unshare -m true && echo MOUNTNS; "
        "mkdir -p /x && chroot /x /bin/sh -c 'cd ../../..; ls' && echo CHROOT; "
        "echo done"
    )
    assert run.out.strip() == "done", run.out
    assert "Operation not permitted" in run.err


def test_host_cannot_be_written_via_proc(sandbox: Sandbox, tmp_path: Path) -> None:
    run = sandbox.run(
        "echo h > /proc/sysrq-trigger && echo SYSRQ; "
        "echo 1 > /proc/sys/kernel/domainname && echo SYSCTL; "
        f"ls /proc/1/root{tmp_path} 2>/dev/null && echo HOSTROOT; "
        "echo 1 > /sys/kernel/profiling && echo SYSFS; "
        "echo done"
    )
    assert run.out.strip() == "done", run.out


def test_masked_proc_files_read_empty(sandbox: Sandbox) -> None:
    run = sandbox.run("wc -c < /proc/keys; wc -c < /proc/timer_list; ls /sys/firmware | wc -l")
    assert run.out.split() == ["0", "0", "0"], run.out + run.err


def test_hostname_is_set(sandbox: Sandbox) -> None:
    spec = sandbox.spec("hostname; cat /etc/hostname",
                        namespaces=NamespaceSpec(hostname="stepbox"))
    assert sandbox.run("", spec=spec).out == "stepbox\nstepbox\n"


def test_user_by_name_gets_supplementary_groups_and_no_caps(sandbox: Sandbox) -> None:
    run = sandbox.run("", spec=sandbox.spec("id; echo $HOME; grep CapEff /proc/self/status",
                                            user="alice"))
    lines = run.out.splitlines()
    assert lines[0] == "uid=1000(alice) gid=1000(alice) groups=10(wheel),29(audio),1000(alice)"
    assert lines[1] == "/home/alice"
    assert lines[2].split()[1] == "0000000000000000"


def test_explicit_group_replaces_supplementary_groups(sandbox: Sandbox) -> None:
    run = sandbox.run("", spec=sandbox.spec("id", user="alice:audio"))
    assert run.out == "uid=1000(alice) gid=29(audio) groups=29(audio)\n"


def test_unknown_user_is_a_clear_error_and_leaves_nothing(sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError, match="unable to find user mallory"):
        sandbox.run("", spec=sandbox.spec("true", user="mallory"))
    assert list(sandbox.upper.iterdir()) == []
    assert own_mounts(sandbox.tmp) == []


def test_setuid_helper_works_without_no_new_privs(sandbox: Sandbox, setuid_layer: Path) -> None:
    sandbox.lowers.append(setuid_layer)
    assert sandbox.run("", spec=sandbox.spec("showeuid", user="alice")).out == "euid=0\n"


def test_no_new_privs_on_request_disables_setuid(sandbox: Sandbox, setuid_layer: Path) -> None:
    sandbox.lowers.append(setuid_layer)
    spec = sandbox.spec("showeuid; grep NoNewPrivs /proc/self/status", user="alice",
                        privileges=Privileges(no_new_privs=True))
    assert sandbox.run("", spec=spec).out.split() == ["euid=1000", "NoNewPrivs:", "1"]


def test_insecure_keeps_all_capabilities_and_no_seccomp(sandbox: Sandbox) -> None:
    spec = sandbox.spec("cat /proc/self/status; mkdir /mnt; mount -t tmpfs x /mnt && echo MOUNTED",
                        privileges=Privileges(mode=SecurityMode.INSECURE))
    run = sandbox.run("", spec=spec)
    assert _status_field(run.out, "Seccomp") == "0"
    assert int(_status_field(run.out, "CapEff"), 16) > int(DOCKER_CAPS, 16)
    assert "MOUNTED" in run.out


def test_exit_status_is_propagated(sandbox: Sandbox) -> None:
    status = sandbox.run("exit 42").status
    assert (status.code, status.reason, status.ok) == (42, ExitReason.EXITED, False)


def test_death_by_signal_is_reported(sandbox: Sandbox) -> None:
    status = sandbox.run("kill -TERM $$").status
    assert (status.code, status.reason, status.signal) == (143, ExitReason.SIGNALED, 15)


def test_missing_command_exits_127_with_message(sandbox: Sandbox) -> None:
    run = sandbox.run("", spec=SandboxSpec(ProcessSpec(args=("no-such-tool",))))
    assert run.status.code == 127
    assert "no-such-tool: executable file not found" in run.err


def test_output_is_streamed_line_by_line_while_running(sandbox: Sandbox) -> None:
    seen: list[float] = []
    start = time.monotonic()
    run = sandbox.run("echo one; echo two >&2; sleep 1; printf 'three\\nfour'",
                      on_line=lambda s, line: seen.append(time.monotonic() - start))
    assert run.lines == [("stdout", b"one\n"), ("stderr", b"two\n"),
                         ("stdout", b"three\n"), ("stdout", b"four")]
    assert seen[2] - seen[0] > 0.8  # the first lines arrived before the sleep ended


def test_env_workdir_and_defaults(sandbox: Sandbox) -> None:
    spec = sandbox.spec("echo $GREETING; echo $PATH; pwd; umask; ls -ld /made/here | cut -c1-10",
                        env=("GREETING=hello world",), cwd="/made/here")
    run = sandbox.run("", spec=spec)
    assert run.out.splitlines() == [
        "hello world", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "/made/here", "0022", "drwxr-xr-x",
    ]


def test_stdin_is_dev_null(sandbox: Sandbox) -> None:
    assert sandbox.run("cat; echo end").out == "end\n"


def test_zombies_are_reaped(sandbox: Sandbox) -> None:
    run = sandbox.run("(sleep 0.2 &); (true &); sleep 1; ps -o stat,comm | grep -c '^Z' || true")
    assert run.out.strip() == "0", run.out


def test_background_process_does_not_outlive_the_step(sandbox: Sandbox) -> None:
    marker = str(900000 + secrets.randbelow(99999))
    run = sandbox.run(f"sleep {marker} & echo started")
    assert run.out == "started\n"
    assert host_processes_with(f"sleep {marker}") == []


def test_timeout_kills_the_whole_tree(sandbox: Sandbox) -> None:
    marker = str(900000 + secrets.randbelow(99999))
    start = time.monotonic()
    run = sandbox.run(f"sleep {marker} & sleep {marker}", options=RunOptions(timeout=1.0))
    assert run.status.reason is ExitReason.TIMED_OUT
    assert time.monotonic() - start < 10
    assert host_processes_with(f"sleep {marker}") == []
    assert own_mounts(sandbox.tmp) == []


def test_cancel_event_stops_the_step(sandbox: Sandbox) -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    run = sandbox.run("sleep 30", options=RunOptions(cancel=cancel))
    timer.join()
    assert run.status.reason is ExitReason.CANCELLED


def test_nothing_stays_mounted(sandbox: Sandbox) -> None:
    before = own_mounts(sandbox.tmp)
    assert sandbox.run("true").status.ok
    assert sandbox.run("exit 3").status.code == 3
    assert own_mounts(sandbox.tmp) == before == []


def test_network_none_has_only_loopback_and_it_is_up(sandbox: Sandbox) -> None:
    run = sandbox.run("ls /sys/class/net; ip -o link show lo; ping -c1 -W1 127.0.0.1 >/dev/null "
                      "&& echo PING")
    lines = run.out.splitlines()
    assert lines[0] == "lo"
    assert "UP" in lines[1] and lines[2] == "PING", run.out + run.err


def test_network_host_sees_host_interfaces(sandbox: Sandbox) -> None:
    spec = sandbox.spec("ls /sys/class/net", namespaces=NamespaceSpec(network=NetworkMode.HOST))
    before = {p.name for p in Path("/sys/class/net").iterdir()}
    inside = set(sandbox.run("", spec=spec).out.split())
    after = {p.name for p in Path("/sys/class/net").iterdir()}
    stable = before & after  # other tests may add or remove veths meanwhile
    assert stable - {"lo"} and stable <= inside, (before, inside, after)


def test_network_default_is_refused_clearly(sandbox: Sandbox) -> None:
    spec = sandbox.spec("true", namespaces=NamespaceSpec(network=NetworkMode.DEFAULT))
    with pytest.raises(SandboxError, match="network mode 'default'"):
        sandbox.run("", spec=spec)


def test_grace_period_forwards_sigterm_to_the_step_first(sandbox: Sandbox) -> None:
    run = sandbox.run("trap 'echo got TERM; exit 7' TERM; echo ready; sleep 30 & wait",
                      options=RunOptions(timeout=1.0, grace=10.0))
    assert run.out == "ready\ngot TERM\n"
    assert (run.status.reason, run.status.code) == (ExitReason.TIMED_OUT, 7)


def test_grace_period_ends_in_sigkill_when_sigterm_is_ignored(sandbox: Sandbox) -> None:
    start = time.monotonic()
    run = sandbox.run("trap '' TERM; sleep 30", options=RunOptions(timeout=0.5, grace=1.0))
    assert (run.status.reason, run.status.signal) == (ExitReason.TIMED_OUT, 9)
    assert time.monotonic() - start < 10
