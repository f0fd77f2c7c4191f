"""Helpers to build instruction nodes by hand (the instruction layer is tested
without the parser)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from frontend.nodes import ExecForm, Flag, Heredoc, Instruction, ShellForm
from solver.source import Span

SPAN = Span("Dockerfile", 3, 1, 3, 40)


def make_node(
    keyword: str, args: str, *flags: str, heredocs: tuple[Heredoc, ...] = ()
) -> Instruction:
    """``make_node("COPY", "a b", "--from=x")``; JSON arrays become exec form."""
    form: ExecForm | ShellForm = ShellForm(args)
    try:
        value: Any = json.loads(args)
    except ValueError:
        value = None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        form = ExecForm(tuple(value))
    parsed = []
    for i, text in enumerate(flags):
        name, sep, val = text[2:].partition("=")
        parsed.append(Flag(name, val if sep else None, Span("Dockerfile", 3, 10 + i, 3, 20 + i)))
    return Instruction(keyword, form, SPAN, tuple(parsed), heredocs, keyword,
                       f"{keyword} {args}", args_span=SPAN)


@pytest.fixture
def node() -> Callable[..., Instruction]:
    return make_node
