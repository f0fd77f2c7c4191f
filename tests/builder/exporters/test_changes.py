"""Applying typed ``import --change``s to an image config, with Docker's rules."""

from __future__ import annotations

import pytest

from builder.errors import UsageError
from builder.exporters.changes import ConfigChange, apply_changes, normalize_ports
from builder.oci.image import ContainerConfig


def test_entrypoint_clears_an_inherited_cmd() -> None:
    base = ContainerConfig(cmd=("sh",))
    config = apply_changes(base, [ConfigChange("ENTRYPOINT", ("/app",))])
    assert config.cmd == () and config.entrypoint == ("/app",)


def test_entrypoint_keeps_a_cmd_set_by_an_earlier_change() -> None:
    changes = [ConfigChange("CMD", ("a",)), ConfigChange("ENTRYPOINT", ("e",))]
    config = apply_changes(ContainerConfig(cmd=("old",)), changes)
    assert config.cmd == ("a",) and config.entrypoint == ("e",)


def test_env_replaces_an_inherited_value_in_place_of_appending() -> None:
    base = ContainerConfig(env=("PATH=/bin", "A=1"))
    config = apply_changes(base, [ConfigChange("ENV", pairs=(("PATH", "/usr/bin"),))])
    assert config.env == ("A=1", "PATH=/usr/bin")


def test_relative_workdirs_join_and_labels_merge() -> None:
    changes = [ConfigChange("WORKDIR", ("/a",)), ConfigChange("WORKDIR", ("b",)),
               ConfigChange("LABEL", pairs=(("x", "1"),)),
               ConfigChange("LABEL", pairs=(("y", "2"),))]
    config = apply_changes(ContainerConfig(), changes)
    assert config.working_dir == "/a/b" and dict(config.labels) == {"x": "1", "y": "2"}


def test_normalize_ports_defaults_to_tcp_and_expands_ranges() -> None:
    assert normalize_ports(["80", "53/UDP", "7-8"]) == ("80/tcp", "53/udp", "7/tcp", "8/tcp")


@pytest.mark.parametrize("word", ["http", "0", "70000", "9-8", "80/ftp"])
def test_normalize_ports_refuses_bad_ports(word: str) -> None:
    with pytest.raises(UsageError):
        normalize_ports([word])
