"""The ``default`` network of a step: a pybuild bridge, a veth per step, NAT to the outside.

May import: stdlib, pyroute2 (this is its only door), builder.sandbox (the provider protocol).

``BridgeNetwork(name).attach(pid)`` makes sure the bridge exists (created once, with a
private /16 chosen not to overlap any host route, IPv4 forwarding on and one iptables
MASQUERADE rule), leases an address (a file per address under ``lease_dir``, created
with O_EXCL and reclaimed when its owner pid is gone), and creates a veth pair whose
peer goes straight into the step's network namespace. ``lease.release()`` deletes the
host end (the pair goes with it) and frees the address; ``BridgeNetwork.remove()``
deletes the bridge and its NAT rule.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyroute2 import IPRoute

from builder.sandbox.errors import SandboxError
from builder.sandbox.netsetup import InterfaceConfig

__all__ = ["BRIDGE_LOCK", "BridgeLease", "BridgeNetwork", "CANDIDATE_SUBNETS", "pick_subnet"]

BRIDGE_LOCK = Path("/run/pybuild/net.lock")

CANDIDATE_SUBNETS = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.88.0.0/16", "10.89.0.0/16", "10.90.0.0/16", "172.29.0.0/16",
              "172.30.0.0/16", "192.168.224.0/20")
)


def pick_subnet(
    routes: list[ipaddress.IPv4Network],
    candidates: tuple[ipaddress.IPv4Network, ...] = CANDIDATE_SUBNETS,
) -> ipaddress.IPv4Network:
    """The first candidate overlapping none of ``routes`` (the default route excluded).

    Raises:
        SandboxError: every candidate collides with a host route.
    """
    specific = [r for r in routes if r.prefixlen > 0]
    for net in candidates:
        if not any(net.overlaps(r) for r in specific):
            return net
    raise SandboxError(
        "no private subnet for the pybuild bridge: all candidates overlap host routes",
        hint="use network none or host",
    )


@dataclass(frozen=True, slots=True)
class BridgeLease:
    """One step's veth and address on the bridge."""

    config: InterfaceConfig
    host_ifname: str
    lease_file: Path

    def release(self) -> None:
        """Delete the host end of the veth (if the kernel has not already) and the lease."""
        with IPRoute() as ipr, contextlib.suppress(Exception):
            for index in ipr.link_lookup(ifname=self.host_ifname):
                ipr.link("del", index=index)
        with contextlib.suppress(FileNotFoundError):
            self.lease_file.unlink()


class BridgeNetwork:
    """A ``NetworkProvider`` for the sandbox executor (see the module docstring)."""

    def __init__(self, name: str = "pybuild0", lease_dir: Path | None = None) -> None:
        self.name = name
        self.lease_dir = lease_dir or Path("/run/pybuild/net") / name

    def attach(self, pid: int) -> BridgeLease:
        """Plug the network namespace of ``pid`` into the bridge.

        Raises:
            SandboxError: the bridge, the veth or the address could not be set up.
        """
        try:
            with IPRoute() as ipr:
                subnet, bridge = self._ensure_bridge(ipr)
                address, lease = self._lease(subnet, pid)
                tag = secrets.token_hex(4)
                host, peer = f"pbv{tag}", f"pbp{tag}"
                try:
                    ipr.link("add", ifname=host, kind="veth", peer={"ifname": peer})
                    peer_index = ipr.link_lookup(ifname=peer)[0]
                    ipr.link("set", index=peer_index, net_ns_pid=pid)
                    host_index = ipr.link_lookup(ifname=host)[0]
                    ipr.link("set", index=host_index, master=bridge, state="up")
                except Exception:
                    BridgeLease(InterfaceConfig(peer, "", 0, ""), host, lease).release()
                    raise
        except SandboxError:
            raise
        except Exception as exc:
            raise SandboxError(f"cannot attach the step to {self.name}: {exc}") from None
        gateway = str(next(subnet.hosts()))
        return BridgeLease(InterfaceConfig(peer, address, subnet.prefixlen, gateway), host, lease)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize bridge changes machine-wide (subnet choice must see other bridges)."""
        self.lease_dir.mkdir(parents=True, exist_ok=True)
        BRIDGE_LOCK.parent.mkdir(parents=True, exist_ok=True)
        with open(BRIDGE_LOCK, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _ensure_bridge(self, ipr: IPRoute) -> tuple[ipaddress.IPv4Network, int]:
        with self._locked():
            found = ipr.link_lookup(ifname=self.name)
            if found:
                addrs = ipr.get_addr(index=found[0], family=2)
                if addrs:
                    a = addrs[0]
                    net = ipaddress.IPv4Network(
                        f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}", strict=False)
                    return net, found[0]
                ipr.link("del", index=found[0])
            routes = [
                ipaddress.IPv4Network(f"{r.get_attr('RTA_DST') or '0.0.0.0'}/{r['dst_len']}",
                                      strict=False)
                for r in ipr.get_routes(family=2)
            ]
            subnet = pick_subnet(routes)
            ipr.link("add", ifname=self.name, kind="bridge")
            index = ipr.link_lookup(ifname=self.name)[0]
            ipr.addr("add", index=index, address=str(next(subnet.hosts())),
                     prefixlen=subnet.prefixlen)
            ipr.link("set", index=index, state="up")
            Path("/proc/sys/net/ipv4/ip_forward").write_text("1")
            _iptables("-A", subnet, self.name)
            return subnet, index

    def _lease(self, subnet: ipaddress.IPv4Network, pid: int) -> tuple[str, Path]:
        hosts = subnet.hosts()
        next(hosts)  # the gateway
        for address in hosts:
            path = self.lease_dir / str(address)
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _owner_alive(path):
                    continue
                path.unlink(missing_ok=True)
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                except FileExistsError:
                    continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(pid))
            return str(address), path
        raise SandboxError(f"no free address left on {self.name} ({subnet})")

    def remove(self) -> None:
        """Delete the bridge and its NAT rule (leases of running steps stay valid files)."""
        with IPRoute() as ipr, self._locked():
            for index in ipr.link_lookup(ifname=self.name):
                addrs = ipr.get_addr(index=index, family=2)
                for a in addrs:
                    net = ipaddress.IPv4Network(
                        f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}", strict=False)
                    _iptables("-D", net, self.name)
                ipr.link("del", index=index)


def _owner_alive(path: Path) -> bool:
    try:
        os.kill(int(path.read_text() or "0"), 0)
    except (ValueError, ProcessLookupError, FileNotFoundError):
        return False
    except PermissionError:
        return True
    return True


def _iptables(action: str, subnet: ipaddress.IPv4Network, bridge: str) -> None:
    rule = ["POSTROUTING", "-s", str(subnet), "!", "-o", bridge, "-j", "MASQUERADE"]
    exists = subprocess.run(["iptables", "-t", "nat", "-C", *rule],
                            capture_output=True).returncode == 0
    if (action == "-A") == exists:
        return
    res = subprocess.run(["iptables", "-t", "nat", action, *rule], capture_output=True,
                         text=True)
    if res.returncode != 0:
        raise SandboxError(f"iptables {action} MASQUERADE failed: {res.stderr.strip()}")
