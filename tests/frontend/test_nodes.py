"""Tests for frontend/nodes.py: the parser's fast ``new_*`` constructors give
exactly what the dataclass constructors give."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from frontend.nodes import (
    ExecForm,
    Flag,
    Heredoc,
    Instruction,
    ShellForm,
    new_exec_form,
    new_flag,
    new_heredoc,
    new_instruction,
    new_shell_form,
)
from solver.source import Span, new_span


def _pairs() -> list[tuple[Any, Any]]:
    span = Span("D", 2, 1, 2, 9)
    flag_args = ("from", "build", Span("D", 2, 6, 2, 18), "--from=build")
    fields = (
        "COPY", ShellForm("a b"), span, (Flag(*flag_args),), (), "copy", "copy --from=build a b",
        ("note",), (3,), Span("D", 2, 19, 2, 22), (4,),
    )
    heredoc_args = ("EOF", "a\n", False, True, Span("D", 3, 1, 4, 4), None, span)
    fast_fields = (*fields[:3], (new_flag(*flag_args),), *fields[4:])
    return [
        (new_span("D", 1, 2, 3, 4), Span("D", 1, 2, 3, 4)),
        (new_shell_form("make"), ShellForm("make")),
        (new_exec_form(("sh", "-c")), ExecForm(("sh", "-c"))),
        (new_flag(*flag_args), Flag(*flag_args)),
        (new_heredoc(*heredoc_args), Heredoc(*heredoc_args)),
        (new_instruction(*fast_fields), Instruction(*fields)),
        (
            new_instruction(*fields, inner=Instruction(*fields)),
            Instruction(*fields, Instruction(*fields)),
        ),
    ]


@pytest.mark.parametrize(("fast", "slow"), _pairs())
def test_fast_constructor_gives_the_same_value(fast: Any, slow: Any) -> None:
    assert type(fast) is type(slow)
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)


@pytest.mark.parametrize(("fast", "slow"), _pairs())
def test_fast_constructor_gives_a_frozen_value(fast: Any, slow: Any) -> None:
    name = dataclasses.fields(fast)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, name, None)
    assert not hasattr(fast, "__dict__")
    assert dataclasses.replace(fast) == slow
