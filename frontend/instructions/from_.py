"""FROM: base image (raw, expanded later with global ARGs), platform, stage alias.

May import: frontend.errors, frontend.nodes, frontend.instructions.{base,flags}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from frontend.errors import InstructionError
from frontend.instructions.base import arg_list
from frontend.instructions.flags import parse_flags
from frontend.nodes import Instruction

__all__ = ["From"]

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")


@dataclass(frozen=True, slots=True)
class From:
    """``FROM [--platform=P] image [AS alias]``; ``alias`` is lower-cased."""

    node: Instruction = field(compare=False, repr=False)
    image: str
    platform: str | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, node: Instruction) -> From:
        """Parse a FROM node.

        Raises:
            InstructionError: wrong number of words, or an invalid stage name.
        """
        flags = parse_flags("FROM", node.flags)
        words = arg_list(node)
        if len(words) == 3 and words[1].lower() == "as":
            alias = words[2].lower()
            if not _STAGE_NAME.match(alias):
                raise InstructionError(
                    f"invalid name for build stage: {words[2]!r}",
                    node.args_span,
                    "stage names start with a letter and use only letters, digits, '-', '_', '.'",
                )
            return cls(node, words[0], flags.string("platform"), alias)
        if len(words) != 1:
            raise InstructionError(
                "FROM requires either one or three arguments",
                node.args_span,
                "write FROM image or FROM image AS name",
            )
        return cls(node, words[0], flags.string("platform"), None)
