"""ONBUILD: the trigger is parsed and validated; chaining, FROM and MAINTAINER are refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.errors import InstructionError
from frontend.instructions import Onbuild, parse_instruction
from frontend.nodes import Instruction

Node = Callable[..., Instruction]


def test_trigger_keeps_expression_and_parses_inner(node: Node) -> None:
    cmd = parse_instruction(node("ONBUILD", "COPY --chown=1:1 . /app/src"))
    assert isinstance(cmd, Onbuild)
    assert cmd.expression == "COPY --chown=1:1 . /app/src"
    assert cmd.inner.keyword == "COPY"
    assert [f.name for f in cmd.inner.flags] == ["chown"]


@pytest.mark.parametrize("inner", ["ONBUILD RUN x", "FROM alpine", "maintainer me"])
def test_forbidden_triggers(node: Node, inner: str) -> None:
    with pytest.raises(InstructionError, match="ONBUILD|isn't allowed") as info:
        parse_instruction(node("ONBUILD", inner))
    assert info.value.span is not None


def test_invalid_trigger_is_reported_at_declaration(node: Node) -> None:
    with pytest.raises(InstructionError, match="unknown flag --fro"):
        parse_instruction(node("ONBUILD", "COPY --fro=x a b"))
