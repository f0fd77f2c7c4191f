"""RUN: forms, flags, and the --mount mini-grammar (cases in testdata/instructions/mounts.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from frontend.errors import InstructionError
from frontend.instructions import Run, parse_instruction, parse_mount
from frontend.nodes import ExecForm, Heredoc, Instruction, ShellForm
from solver.ops import MountType, NetworkMode, SecurityMode

Node = Callable[..., Instruction]
CASES = json.loads(
    (Path(__file__).resolve().parents[3] / "testdata/instructions/mounts.json").read_text()
)


@pytest.mark.parametrize("case", CASES["ok"], ids=lambda c: c["text"])
def test_mount_fields_and_defaults(case: dict[str, Any]) -> None:
    mount = parse_mount(case["text"])
    for field, want in case["want"].items():
        got = getattr(mount, field)
        got = got.value if hasattr(got, "value") else got
        assert got == want, field


@pytest.mark.parametrize("case", CASES["error"], ids=lambda c: c["text"])
def test_mount_errors_are_clear(case: dict[str, Any]) -> None:
    with pytest.raises(InstructionError, match=case["message"]):
        parse_mount(case["text"])


def test_ssh_agent_targets_are_numbered_by_position(node: Node) -> None:
    run = parse_instruction(node("RUN", "git clone x", "--mount=type=ssh", "--mount=type=ssh,id=b"))
    assert isinstance(run, Run)
    assert [m.target for m in run.mounts] == [
        "/run/buildkit/ssh_agent.0", "/run/buildkit/ssh_agent.1"
    ]


def test_network_and_security_are_typed(node: Node) -> None:
    run = parse_instruction(node("RUN", "make", "--network=none", "--security=insecure"))
    assert isinstance(run, Run)
    assert run.network is NetworkMode.NONE and run.security is SecurityMode.INSECURE
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("RUN", "make", "--network=bridge"))
    assert info.value.hint == "use one of: default, none, host"
    assert info.value.span is not None


def test_exec_and_shell_forms_are_kept(node: Node) -> None:
    exec_run = parse_instruction(node("RUN", '["echo", "$HOME"]'))
    shell_run = parse_instruction(node("RUN", "echo $HOME"))
    assert isinstance(exec_run, Run) and isinstance(shell_run, Run)
    assert exec_run.cmd == ExecForm(("echo", "$HOME"))
    assert shell_run.cmd == ShellForm("echo $HOME")


def test_run_without_command_is_an_error_unless_heredoc(node: Node) -> None:
    with pytest.raises(InstructionError, match="RUN requires at least one argument"):
        parse_instruction(node("RUN", ""))
    doc = Heredoc("EOF", "echo hi\n", True, False, node("RUN", "x").span)
    run = parse_instruction(node("RUN", "<<EOF", heredocs=(doc,)))
    assert isinstance(run, Run) and run.heredocs == (doc,)


def test_mount_type_is_enum(node: Node) -> None:
    run = parse_instruction(node("RUN", "ls", "--mount=type=tmpfs,target=/t"))
    assert isinstance(run, Run) and run.mounts[0].type is MountType.TMPFS
