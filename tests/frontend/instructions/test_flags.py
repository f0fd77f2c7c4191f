"""Flag specs: unknown flags point at the flag with a did-you-mean hint; types are checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.errors import InstructionError
from frontend.instructions import parse_instruction
from frontend.instructions.flags import parse_flags
from frontend.nodes import Flag, Instruction
from solver.source import Span

SPAN = Span("Dockerfile", 1, 6, 1, 15)
Node = Callable[..., Instruction]


def test_unknown_flag_points_at_flag_and_suggests_closest() -> None:
    with pytest.raises(InstructionError) as info:
        parse_flags("COPY", (Flag("chwon", "1:1", SPAN),))
    assert info.value.span == SPAN
    assert info.value.hint == "did you mean --chown?"
    assert "unknown flag --chwon" in info.value.message


def test_flag_on_instruction_without_flags_says_so() -> None:
    with pytest.raises(InstructionError) as info:
        parse_flags("USER", (Flag("x", "1", SPAN),))
    assert info.value.hint == "USER takes no flags"


def test_bool_flag_accepts_bare_and_explicit_values() -> None:
    assert parse_flags("COPY", (Flag("link", None, SPAN),)).boolean("link") is True
    assert parse_flags("COPY", (Flag("link", "false", SPAN),)).boolean("link") is False
    with pytest.raises(InstructionError, match="expects a boolean"):
        parse_flags("COPY", (Flag("link", "maybe", SPAN),))


def test_string_flag_needs_a_value() -> None:
    with pytest.raises(InstructionError, match="missing a value on flag --from"):
        parse_flags("COPY", (Flag("from", None, SPAN),))


def test_repeatable_flags_collect_and_others_refuse_duplicates() -> None:
    flags = parse_flags("RUN", (Flag("mount", "type=tmpfs,target=/a", SPAN),
                                Flag("mount", "type=tmpfs,target=/b", SPAN)))
    assert flags.strings("mount") == ("type=tmpfs,target=/a", "type=tmpfs,target=/b")
    with pytest.raises(InstructionError, match="duplicate flag --from"):
        parse_flags("COPY", (Flag("from", "a", SPAN), Flag("from", "b", SPAN)))


def test_dispatch_attaches_instruction_span_when_error_has_none(node: Node) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("SHELL", "/bin/bash -c"))
    assert info.value.span is not None and info.value.span.line == 3


def test_unknown_instruction_suggests_closest(node: Node) -> None:
    with pytest.raises(InstructionError) as info:
        parse_instruction(node("COPPY", "a b"))
    assert info.value.hint == "did you mean COPY?"
