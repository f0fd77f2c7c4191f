"""Sandbox specs: validation at construction, and an exact JSON round trip for the init."""

from __future__ import annotations

import pytest

from builder.sandbox.errors import SandboxError
from builder.sandbox.spec import (
    EtcFiles,
    IdMap,
    InitPlan,
    Limits,
    MountKind,
    MountSpec,
    NamespaceSpec,
    NetworkMode,
    Privileges,
    ProcessSpec,
    SandboxSpec,
    SecurityMode,
)


def _plan() -> InitPlan:
    spec = SandboxSpec(
        process=ProcessSpec(("sh", "-c", "make"), ("A=1", "B=x=y"), "/src", "app:staff", ("7",)),
        namespaces=NamespaceSpec(NetworkMode.HOST, "box", (IdMap(0, 100000, 65536),), ()),
        mounts=(MountSpec("/cache", MountKind.TMPFS, size_bytes=1 << 20),
                MountSpec("/ctx", source="/host/ctx", read_only=False)),
        limits=Limits(memory=1 << 28, pids=64, cpu=1.5),
        privileges=Privileges(SecurityMode.INSECURE, no_new_privs=True),
    )
    return InitPlan(spec, ("/l/0", "/l/1"), "/u", "/w", "/m", EtcFiles("/h", "/r", "/n"))


def test_plan_survives_a_json_round_trip() -> None:
    plan = _plan()
    assert InitPlan.from_json(plan.to_json()) == plan


def test_malformed_plan_is_a_sandbox_error() -> None:
    data = _plan().to_json()
    data["namespaces"]["network"] = "bridge"
    with pytest.raises(SandboxError, match="malformed sandbox plan"):
        InitPlan.from_json(data)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"args": ()}, "at least one argument"),
    ({"args": ("true",), "cwd": "rel"}, "not absolute"),
    ({"args": ("true",), "env": ("NOVALUE",)}, "not KEY=VALUE"),
])
def test_bad_process_specs_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        ProcessSpec(**kwargs)  # type: ignore[arg-type]


def test_limits_report_whether_any_is_set() -> None:
    assert not Limits().any
    assert Limits(pids=10).any
