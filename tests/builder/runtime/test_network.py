"""The default network: a step reaches the host through the bridge; nothing is left over."""

from __future__ import annotations

import http.server
import ipaddress
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.errors import PybuildError
from builder.runtime.network import BridgeNetwork, pick_subnet
from builder.sandbox import (
    Executor,
    ExecutorOptions,
    ExitReason,
    NamespaceSpec,
    ProcessSpec,
    RunOptions,
    SandboxSpec,
)
from builder.sandbox.spec import NetworkMode

from ..sandbox.conftest import Sandbox

N = ipaddress.IPv4Network


def test_subnet_avoids_every_host_route_but_the_default() -> None:
    routes = [N("0.0.0.0/0"), N("10.0.0.0/8"), N("172.29.5.0/24")]
    assert pick_subnet(routes) == N("172.30.0.0/16")


def test_no_free_subnet_is_a_clear_error() -> None:
    with pytest.raises(PybuildError, match="no private subnet"):
        pick_subnet([N("10.0.0.0/8"), N("172.16.0.0/12"), N("192.168.0.0/16")])


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[BridgeNetwork]:
    net = BridgeNetwork(f"pbt{secrets.token_hex(3)}", tmp_path / "leases")
    yield net
    nat = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True).stdout
    net.remove()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert net.name not in links
    after = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True).stdout
    assert f"! -o {net.name} -j MASQUERADE" in nat and net.name not in after


@pytest.fixture
def server() -> Iterator[int]:
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"hello from the host\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Hello)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _run(box: Sandbox, net: BridgeNetwork, script: str) -> str:
    lines: list[bytes] = []
    spec = SandboxSpec(ProcessSpec(("sh", "-c", script)),
                       NamespaceSpec(network=NetworkMode.DEFAULT))
    status = Executor(ExecutorOptions(network=net)).run(
        spec, box.layout(), lambda stream, line: lines.append(line))
    out = b"".join(lines).decode()
    assert status.ok, out
    return out


@pytest.mark.privileged
def test_default_step_reaches_a_server_on_the_bridge(
        bridge: BridgeNetwork, server: int, busybox_dir: Path, tmp_path: Path) -> None:
    box = Sandbox(tmp_path, [busybox_dir])
    gw = "$(ip -4 route | grep default | cut -d' ' -f3)"
    out = _run(box, bridge, f"echo {gw}; wget -qO- http://{gw}:{server}/; "
                            "ls /sys/class/net | sort | tr '\\n' ' '")
    gateway, body, links = out.splitlines()
    assert body == "hello from the host"
    assert links.split() == ["eth0", "lo"]
    assert ipaddress.IPv4Address(gateway).is_private


@pytest.mark.privileged
def test_concurrent_steps_get_distinct_addresses_and_leave_nothing(
        bridge: BridgeNetwork, busybox_dir: Path, tmp_path: Path) -> None:
    addresses: dict[int, str] = {}

    def step(i: int) -> None:
        box = Sandbox(tmp_path / str(i), [busybox_dir])
        box.tmp.mkdir()
        addresses[i] = _run(box, bridge, "sleep 0.5; ip -4 -o addr show eth0 | "
                                         "tr -s ' ' | cut -d' ' -f4").strip()

    threads = [threading.Thread(target=step, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(addresses.values())) == 3, addresses
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"master {bridge.name}" not in links
    assert list(bridge.lease_dir.iterdir()) == []


@pytest.mark.privileged
def test_killed_default_step_leaves_no_link_or_lease(
        bridge: BridgeNetwork, busybox_dir: Path, tmp_path: Path) -> None:
    box = Sandbox(tmp_path, [busybox_dir])
    spec = SandboxSpec(ProcessSpec(("sleep", "60")), NamespaceSpec(network=NetworkMode.DEFAULT))
    status = Executor(ExecutorOptions(network=bridge)).run(
        spec, box.layout(), lambda stream, line: None, RunOptions(timeout=1.0))
    assert status.reason is ExitReason.TIMED_OUT
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"master {bridge.name}" not in links
    assert list(bridge.lease_dir.iterdir()) == []


@pytest.mark.privileged
@pytest.mark.slow
def test_many_steps_leave_no_links_leases_mounts_or_cgroups(
        bridge: BridgeNetwork, busybox_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from builder.sandbox import Limits
    from builder.sandbox.cgroups import StepCgroup

    made: list[StepCgroup] = []
    real_create = StepCgroup.create

    def recording_create(limits: Limits) -> StepCgroup:
        made.append(real_create(limits))
        return made[-1]

    monkeypatch.setattr(StepCgroup, "create", recording_create)

    box = Sandbox(tmp_path, [busybox_dir])
    executor = Executor(ExecutorOptions(network=bridge))
    spec = SandboxSpec(ProcessSpec(("sh", "-c", "sleep 1 & echo ok")),
                       NamespaceSpec(network=NetworkMode.DEFAULT), limits=Limits(pids=50))
    lines: list[bytes] = []
    for _ in range(40):
        assert executor.run(spec, box.layout(), lambda s, line: lines.append(line)).ok
    assert lines == [b"ok\n"] * 40
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"master {bridge.name}" not in links
    assert list(bridge.lease_dir.iterdir()) == []
    assert str(tmp_path) not in Path("/proc/self/mountinfo").read_text()
    assert len(made) == 40 and all(d.exists() is False for cg in made for d in cg.dirs)
