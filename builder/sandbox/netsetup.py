"""Networking seen from inside a step: the provider protocol, and interface set-up by ioctl.

May import: stdlib.

For ``NetworkMode.DEFAULT`` the executor asks a ``NetworkProvider`` (implemented in
builder/runtime/network.py, the only pyroute2 user) to plug a veth into the step's fresh
network namespace. The init's pid 1 then names it eth0, gives it the leased address,
brings it up and adds the default route, with plain ioctls (no netlink library needed in
the init). Loopback is brought up in every private namespace.
"""

from __future__ import annotations

import _socket
import fcntl
import ipaddress
import struct
from dataclasses import dataclass
from typing import Protocol

__all__ = ["InterfaceConfig", "NetworkLease", "NetworkProvider", "configure", "loopback_up"]

_SIOCSIFNAME, _SIOCGIFFLAGS, _SIOCSIFFLAGS = 0x8923, 0x8913, 0x8914
_SIOCSIFADDR, _SIOCSIFNETMASK, _SIOCADDRT = 0x8916, 0x891C, 0x890B
_IFF_UP, _RTF_UP, _RTF_GATEWAY = 0x1, 0x1, 0x2


@dataclass(frozen=True, slots=True)
class InterfaceConfig:
    """What pid 1 does to the veth end it finds in its namespace."""

    ifname: str
    address: str
    prefixlen: int
    gateway: str

    def to_json(self) -> dict[str, object]:
        return {"ifname": self.ifname, "address": self.address,
                "prefixlen": self.prefixlen, "gateway": self.gateway}


class NetworkLease(Protocol):
    """One step's attachment; ``release`` removes its links and frees its address."""

    @property
    def config(self) -> InterfaceConfig: ...

    def release(self) -> None: ...


class NetworkProvider(Protocol):
    """Plugs a step's network namespace (named by a pid inside it) into a network."""

    def attach(self, pid: int) -> NetworkLease: ...


def _ifreq(name: str, payload: bytes = b"") -> bytes:
    return struct.pack("16s", name.encode()) + payload.ljust(24, b"\0")


def _sockaddr(address: str) -> bytes:
    return struct.pack("=HH4s8x", _socket.AF_INET, 0, ipaddress.IPv4Address(address).packed)


def _set_up(sock: _socket.socket, name: str) -> None:
    flags = struct.unpack("16sH", fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, _ifreq(name))[:18])[1]
    fcntl.ioctl(sock.fileno(), _SIOCSIFFLAGS, _ifreq(name, struct.pack("H", flags | _IFF_UP)))


def loopback_up() -> None:
    """Bring ``lo`` up in the current network namespace.

    Raises:
        OSError: the kernel refused.
    """
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        _set_up(sock, "lo")
    finally:
        sock.close()


def configure(cfg: InterfaceConfig) -> None:
    """Rename the veth end to eth0, address it, bring it up, route through the gateway.

    Raises:
        OSError: the interface is missing or the kernel refused.
    """
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        fd = sock.fileno()
        fcntl.ioctl(fd, _SIOCSIFNAME, _ifreq(cfg.ifname, struct.pack("16s", b"eth0")))
        fcntl.ioctl(fd, _SIOCSIFADDR, _ifreq("eth0", _sockaddr(cfg.address)))
        mask = str(ipaddress.IPv4Network(f"0.0.0.0/{cfg.prefixlen}").netmask)
        fcntl.ioctl(fd, _SIOCSIFNETMASK, _ifreq("eth0", _sockaddr(mask)))
        _set_up(sock, "eth0")
        route = struct.pack(
            "@L16s16s16sHhLPhPLLH",
            0, _sockaddr("0.0.0.0"), _sockaddr(cfg.gateway), _sockaddr("0.0.0.0"),
            _RTF_UP | _RTF_GATEWAY, 0, 0, 0, 0, 0, 0, 0, 0,
        )
        fcntl.ioctl(fd, _SIOCADDRT, route)
    finally:
        sock.close()
