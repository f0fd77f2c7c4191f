"""The /etc files a step sees: hosts with its hostname, resolv.conf from the host's."""

from __future__ import annotations

from pathlib import Path

from builder.sandbox.etcfiles import hosts_text, resolv_conf_text, write_etc_files
from builder.sandbox.spec import NamespaceSpec, NetworkMode

HOST = "search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n"


def test_loopback_nameservers_are_dropped_in_a_private_network() -> None:
    assert resolv_conf_text(HOST, NetworkMode.NONE) == (
        "search example.org\nnameserver 10.0.0.2\noptions edns0\n")


def test_host_network_keeps_the_hosts_resolv_conf() -> None:
    assert resolv_conf_text(HOST, NetworkMode.HOST) == HOST


def test_no_usable_nameserver_falls_back_to_dockers_default() -> None:
    text = resolv_conf_text("nameserver 127.0.0.1\n", NetworkMode.NONE)
    assert text == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


def test_hosts_names_localhost_and_the_hostname() -> None:
    lines = hosts_text("box").splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost" and lines[-1] == "127.0.0.1\tbox"


def test_files_are_written_where_the_plan_says(tmp_path: Path) -> None:
    etc = write_etc_files(tmp_path, NamespaceSpec(hostname="h1"))
    assert Path(etc.hostname).read_text() == "h1\n"
    assert Path(etc.hosts).parent == tmp_path
    assert "nameserver" in Path(etc.resolv_conf).read_text()
