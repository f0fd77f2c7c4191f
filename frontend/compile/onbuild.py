"""Run the base image's ONBUILD triggers right after the child's FROM.

May import: frontend.compile.state, frontend.instructions, frontend.errors.

Triggers run in the order they were registered, as if written after the FROM;
``--from=<stage>`` inside a trigger resolves in the child Dockerfile. A failing
trigger fails that FROM. Triggers are not passed on: the stage's config starts
with no ONBUILD entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from frontend.compile.state import Context, StageState
from frontend.errors import FrontendError, InstructionError
from frontend.instructions import Command, From, Onbuild, parse_instruction
from frontend.instructions.onbuild import parse_trigger

__all__ = ["run_triggers"]

Dispatch = Callable[[Context, StageState, Command], StageState]


def run_triggers(ctx: Context, state: StageState, from_: From, dispatch: Dispatch) -> StageState:
    """Apply ``state.config.onbuild`` triggers with ``dispatch``, then clear them.

    Raises:
        FrontendError: a trigger does not parse or fails (pointing at the FROM).
    """
    triggers = state.config.onbuild
    state = replace(state, config=replace(state.config, onbuild=()))
    span = from_.node.span
    for expression in triggers:
        try:
            node = parse_trigger(expression, span, ctx.escape)
            cmd = parse_instruction(node, ctx.escape)
            if isinstance(cmd, From | Onbuild):
                raise InstructionError(f"{node.keyword} isn't allowed as an ONBUILD trigger")
            state = dispatch(ctx, state, cmd)
        except FrontendError as exc:
            exc.message = f"ONBUILD trigger {expression!r} of the base image failed: {exc.message}"
            exc.args = (exc.message,)
            exc.span = span
            raise
    return state
