"""FROM: alias lower-cased and validated, one or three words, platform flag."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.errors import InstructionError
from frontend.instructions import From, parse_instruction
from frontend.nodes import Instruction

Node = Callable[..., Instruction]


def test_alias_is_lower_cased(node: Node) -> None:
    value = parse_instruction(node("FROM", "golang:1.22 AS Build", "--platform=$BUILDPLATFORM"))
    assert isinstance(value, From)
    assert (value.image, value.alias, value.platform) == ("golang:1.22", "build", "$BUILDPLATFORM")


def test_as_keyword_is_case_insensitive(node: Node) -> None:
    value = parse_instruction(node("FROM", "alpine as base"))
    assert isinstance(value, From) and value.alias == "base"


@pytest.mark.parametrize("name", ["1st", "my$stage", "a/b"])
def test_stage_name_must_start_with_letter_and_avoid_symbols(node: Node, name: str) -> None:
    with pytest.raises(InstructionError, match="invalid name for build stage"):
        parse_instruction(node("FROM", f"alpine AS {name}"))


@pytest.mark.parametrize("args", ["", "a b", "a AS", "a FOR b"])
def test_from_needs_one_or_three_words(node: Node, args: str) -> None:
    with pytest.raises(InstructionError, match="one or three arguments"):
        parse_instruction(node("FROM", args))


def test_from_rejects_unknown_flag_with_hint(node: Node) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("FROM", "alpine", "--platfrom=linux/arm64"))
    assert info.value.hint == "did you mean --platform?"
