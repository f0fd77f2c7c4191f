"""Helpers shared by the instruction parsers: argument lists and raw text.

May import: frontend.errors, frontend.nodes.
"""

from __future__ import annotations

from frontend.errors import InstructionError
from frontend.nodes import ExecForm, Instruction

__all__ = ["arg_list", "require_text", "rest_text"]


def rest_text(node: Instruction) -> str:
    """The instruction's arguments as one string (exec form re-joined by spaces)."""
    if isinstance(node.args, ExecForm):
        return " ".join(node.args.args)
    return node.args.text.strip()


def arg_list(node: Instruction) -> tuple[str, ...]:
    """BuildKit's ``parseMaybeJSONToList``: the JSON array, else whitespace-split words."""
    if isinstance(node.args, ExecForm):
        return node.args.args
    return tuple(node.args.text.split())


def require_text(node: Instruction) -> str:
    """The argument text, which must not be empty.

    Raises:
        InstructionError: the instruction has no arguments.
    """
    text = rest_text(node)
    if not text:
        raise InstructionError(f"{node.keyword} requires at least one argument")
    return text
