"""ONBUILD: the wrapped instruction, re-parsed; nested ONBUILD, FROM and MAINTAINER refused.

May import: frontend.errors, frontend.nodes, frontend.instructions.base,
frontend.parser (``parse_inner``).

``expression`` is the trigger text as written after ``ONBUILD``; it is what the
image config stores, and what a child build parses again after its FROM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from frontend.errors import InstructionError
from frontend.instructions.base import rest_text
from frontend.nodes import Instruction
from frontend.parser import parse_inner
from solver.source import Span

__all__ = ["Onbuild", "parse_trigger"]

_FORBIDDEN = {
    "ONBUILD": "chaining ONBUILD via 'ONBUILD ONBUILD' isn't allowed",
    "FROM": "FROM isn't allowed as an ONBUILD trigger",
    "MAINTAINER": "MAINTAINER isn't allowed as an ONBUILD trigger",
}


@dataclass(frozen=True, slots=True)
class Onbuild:
    node: Instruction = field(compare=False, repr=False)
    inner: Instruction = field(compare=False, repr=False)
    expression: str = ""

    @classmethod
    def parse(cls, node: Instruction, escape: str = "\\") -> Onbuild:
        """Parse an ONBUILD node and its trigger.

        Raises:
            InstructionError: empty trigger, or a trigger that is not allowed.
            DockerfileSyntaxError: the trigger does not parse.
        """
        expression = rest_text(node)
        if not expression:
            raise InstructionError("ONBUILD requires at least one argument", node.span)
        inner = parse_trigger(expression, node.args_span or node.span, escape)
        return cls(node, inner, expression)


def parse_trigger(expression: str, span: Span, escape: str = "\\") -> Instruction:
    """Parse one trigger expression (``RUN make``) into an instruction node.

    Raises:
        InstructionError: the trigger keyword is ONBUILD, FROM or MAINTAINER.
        DockerfileSyntaxError: the trigger does not parse.
    """
    keyword = expression.split(None, 1)[0].upper()
    if keyword in _FORBIDDEN:
        raise InstructionError(_FORBIDDEN[keyword], span, "move the instruction out of ONBUILD")
    return parse_inner(expression, span, escape)
