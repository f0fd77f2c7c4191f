"""Typed instructions from syntax nodes: the dispatch table, and the single
place that attaches an instruction's span to any error raised below it.

May import: frontend.instructions.*, frontend.errors, frontend.nodes.

``parse_instruction(node)`` returns one of the frozen instruction values
(``From``, ``Run``, ``Copy``, ``Add``, ``Env`` …). Nothing is expanded here:
``frontend.compile`` expands words once the stage's ARG/ENV scope is known.
"""

from __future__ import annotations

from collections.abc import Callable

from frontend.errors import FrontendError, InstructionError
from frontend.instructions.config import (
    Arg,
    ArgDecl,
    Cmd,
    Entrypoint,
    Env,
    Expose,
    Healthcheck,
    KeyValue,
    Label,
    Maintainer,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from frontend.instructions.copy import Add, Copy
from frontend.instructions.from_ import From
from frontend.instructions.onbuild import Onbuild
from frontend.instructions.run import Run, RunMount, parse_mount
from frontend.nodes import Instruction

__all__ = [
    "Add", "Arg", "ArgDecl", "Cmd", "Command", "Copy", "Entrypoint", "Env", "Expose", "From",
    "Healthcheck", "KeyValue", "Label", "Maintainer", "Onbuild", "Run", "RunMount", "Shell",
    "StopSignal", "User", "Volume", "Workdir", "parse_instruction", "parse_mount",
]

Command = (
    From | Run | Copy | Add | Env | Label | Arg | User | Workdir | Expose | Volume | Cmd
    | Entrypoint | Shell | StopSignal | Healthcheck | Maintainer | Onbuild
)

_PLAIN: dict[str, Callable[[Instruction], Command]] = {
    "FROM": From.parse, "RUN": Run.parse, "COPY": Copy.parse, "ADD": Add.parse,
    "USER": User.parse, "WORKDIR": Workdir.parse, "EXPOSE": Expose.parse,
    "VOLUME": Volume.parse, "CMD": Cmd.parse, "ENTRYPOINT": Entrypoint.parse,
    "SHELL": Shell.parse, "STOPSIGNAL": StopSignal.parse, "HEALTHCHECK": Healthcheck.parse,
    "MAINTAINER": Maintainer.parse,
}
_ESCAPED: dict[str, Callable[[Instruction, str], Command]] = {
    "ENV": Env.parse, "LABEL": Label.parse, "ARG": Arg.parse, "ONBUILD": Onbuild.parse,
}


def parse_instruction(node: Instruction, escape: str = "\\") -> Command:
    """Turn a syntax node into its typed instruction value.

    Raises:
        InstructionError: unknown instruction, bad flags or arguments (with the
            node's span when the parser below gave none).
    """
    try:
        value = _dispatch(node, escape)
        if isinstance(value, Onbuild):
            _dispatch(value.inner, escape)
        return value
    except FrontendError as exc:
        raise exc.with_span(node.span) from None


def _dispatch(node: Instruction, escape: str) -> Command:
    if node.keyword in _PLAIN:
        return _PLAIN[node.keyword](node)
    if node.keyword in _ESCAPED:
        return _ESCAPED[node.keyword](node, escape)
    import difflib

    known = sorted([*_PLAIN, *_ESCAPED])
    close = difflib.get_close_matches(node.keyword, known, n=1)
    hint = f"did you mean {close[0]}?" if close else "instructions are: " + ", ".join(known)
    word = node.keyword_text or node.keyword
    raise InstructionError(f"unknown instruction: {word}", node.span, hint)
