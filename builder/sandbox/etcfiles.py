"""The /etc/hosts, /etc/resolv.conf and /etc/hostname a step sees, written on the host.

May import: stdlib, builder.sandbox.spec.

These files are bind-mounted into the step and never become part of its layer. DNS comes
from the host's resolv.conf; loopback nameservers (a systemd-resolved stub, dnsmasq) are
unreachable from a private network namespace, so they are dropped there and Docker's
fallback (Google's public resolvers) is used when nothing else is left.
"""

from __future__ import annotations

from pathlib import Path

from builder.sandbox.spec import EtcFiles, NamespaceSpec, NetworkMode

__all__ = ["FALLBACK_NAMESERVERS", "hosts_text", "resolv_conf_text", "write_etc_files"]

FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")
HOST_RESOLV_CONF = Path("/etc/resolv.conf")


def hosts_text(hostname: str) -> str:
    """The step's /etc/hosts: loopback names plus its own hostname."""
    return (
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"127.0.0.1\t{hostname}\n"
    )


def resolv_conf_text(host_text: str, network: NetworkMode) -> str:
    """The step's resolv.conf derived from the host's (loopback servers dropped unless host net)."""
    lines = []
    for line in host_text.splitlines():
        words = line.split()
        if (
            network is not NetworkMode.HOST
            and len(words) >= 2
            and words[0] == "nameserver"
            and (words[1].startswith("127.") or words[1] == "::1")
        ):
            continue
        lines.append(line)
    if not any(line.split()[:1] == ["nameserver"] for line in lines):
        lines += [f"nameserver {ns}" for ns in FALLBACK_NAMESERVERS]
    return "\n".join(lines) + "\n"


def write_etc_files(state: Path, namespaces: NamespaceSpec) -> EtcFiles:
    """Write the three files into ``state`` and say where they are.

    Raises:
        OSError: ``state`` is not writable.
    """
    try:
        host_resolv = HOST_RESOLV_CONF.read_text(errors="replace")
    except OSError:
        host_resolv = ""
    files = {
        "hosts": hosts_text(namespaces.hostname),
        "resolv.conf": resolv_conf_text(host_resolv, namespaces.network),
        "hostname": namespaces.hostname + "\n",
    }
    for name, text in files.items():
        (state / name).write_text(text)
    return EtcFiles(
        hosts=str(state / "hosts"),
        resolv_conf=str(state / "resolv.conf"),
        hostname=str(state / "hostname"),
    )
