"""Sandbox: run one build step in fresh namespaces over an overlay root filesystem.

May import: stdlib, solver.ops, builder lower layers (errors, oci, snapshots/overlay.py).

    Executor(ExecutorOptions(network=provider)).run(
        spec, RootfsLayout(lowerdirs, upperdir, workdir), on_output, RunOptions(timeout=…)
    ) -> ExitStatus

The heavy lifting happens in ``python -m builder.sandbox.init``, a fresh process that
imports this package too; exports therefore load lazily, keeping its start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from builder.sandbox.errors import SandboxError
    from builder.sandbox.executor import (
        Executor,
        ExecutorOptions,
        ExitReason,
        ExitStatus,
        RootfsLayout,
        RunOptions,
    )
    from builder.sandbox.launch import LaunchMode
    from builder.sandbox.netsetup import InterfaceConfig, NetworkLease, NetworkProvider
    from builder.sandbox.spec import (
        Limits,
        MountKind,
        MountSpec,
        NamespaceSpec,
        Privileges,
        ProcessSpec,
        SandboxSpec,
    )

_HOMES = {
    "Executor": "executor", "ExecutorOptions": "executor", "ExitReason": "executor",
    "ExitStatus": "executor", "RootfsLayout": "executor", "RunOptions": "executor",
    "Limits": "spec", "MountKind": "spec", "MountSpec": "spec", "NamespaceSpec": "spec",
    "Privileges": "spec", "ProcessSpec": "spec", "SandboxSpec": "spec",
    "SandboxError": "errors", "LaunchMode": "launch", "InterfaceConfig": "netsetup",
    "NetworkLease": "netsetup", "NetworkProvider": "netsetup",
}

__all__ = [
    "Executor",
    "ExecutorOptions",
    "ExitReason",
    "ExitStatus",
    "InterfaceConfig",
    "LaunchMode",
    "Limits",
    "MountKind",
    "MountSpec",
    "NamespaceSpec",
    "NetworkLease",
    "NetworkProvider",
    "Privileges",
    "ProcessSpec",
    "RootfsLayout",
    "RunOptions",
    "SandboxError",
    "SandboxSpec",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'builder.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(f"builder.sandbox.{home}"), name)
