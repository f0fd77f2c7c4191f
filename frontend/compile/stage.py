"""Compile one stage: FROM (image, stage, scratch or named context), then its instructions.

May import: frontend.compile.*, frontend.instructions, frontend.stages,
frontend.resolver, frontend.imageconfig, solver.ops.
"""

from __future__ import annotations

from dataclasses import replace

from frontend.compile.args import AUTOMATIC_ARGS, compile_arg
from frontend.compile.config import compile_meta
from frontend.compile.copy import compile_copy
from frontend.compile.history import go_quote
from frontend.compile.onbuild import run_triggers
from frontend.compile.run import compile_run
from frontend.compile.sources import context_source
from frontend.compile.state import Context, StageState
from frontend.errors import FrontendError, InstructionError
from frontend.imageconfig import ImageConfig
from frontend.instructions import Arg, Cmd, Command, Copy, Entrypoint, From, Healthcheck, Run
from frontend.resolver import ResolveError, normalize_ref
from frontend.shellwords import expand as expand_word
from frontend.stages import Stage
from solver.definition import OpMetadata
from solver.ops import ImageSource, SourceOp

__all__ = ["compile_stage", "dispatch", "from_image"]

_ONCE = (Cmd, Entrypoint, Healthcheck)


def dispatch(ctx: Context, state: StageState, cmd: Command) -> StageState:
    """Compile one instruction in ``state``.

    Raises:
        FrontendError: anything wrong with the instruction.
    """
    match cmd:
        case Run():
            return compile_run(ctx, state, cmd)
        case Copy():
            return compile_copy(ctx, state, cmd)
        case Arg():
            return compile_arg(ctx, state, cmd)
        case From():
            raise InstructionError("FROM is not allowed here", cmd.node.span)
        case _:
            return compile_meta(ctx, state, cmd)


def from_image(ctx: Context, from_: From) -> str:
    """FROM's image expanded with the global ARGs; warns UndefinedArgInFrom for
    names no global ARG declares and InvalidDefaultArgInFrom when the defaults
    alone give no valid image name.

    Raises:
        FrontendError: a malformed expansion.
    """
    span = from_.node.span
    try:
        result = expand_word(from_.image, ctx.global_args, ctx.escape)
        default = expand_word(from_.image, ctx.global_defaults, ctx.escape).text
    except FrontendError as exc:
        raise exc.with_span(span) from None
    automatic = set(AUTOMATIC_ARGS)
    for name in sorted(result.used - ctx.global_names - automatic):
        ctx.warn("UndefinedArgInFrom", span, name)
    if result.used & ctx.global_names and not _valid_base(ctx, default):
        ctx.warn("InvalidDefaultArgInFrom", span, from_.image)
    return result.text


def _valid_base(ctx: Context, name: str) -> bool:
    low = name.lower()
    if low == "scratch" or ctx.stages.find(low) is not None:
        return True
    try:
        normalize_ref(name)
    except ValueError:
        return False
    return bool(name) and not name.endswith((":", "@", "/"))


def _platform(ctx: Context, from_: From) -> str:
    if from_.platform is None:
        return ctx.options.target_platform
    span = from_.node.span
    if from_.platform.strip() in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
        ctx.warn("RedundantTargetPlatform", span, go_quote("$TARGETPLATFORM"))
    elif "$" not in from_.platform:
        ctx.warn("FromPlatformFlagConstDisallowed", span, go_quote(from_.platform))
    return ctx.expand(from_.platform, ctx.global_args, span, frozenset(ctx.global_args))


def _base(ctx: Context, stage: Stage, image: str, platform: str) -> StageState:
    span, low, name = stage.from_.node.span, image.lower(), stage.display
    steps = len(stage.commands) + 1
    if low in ctx.options.context_names():
        head = context_source(ctx, low, (), span)
        return StageState(name, head, ImageConfig(), platform, base_ref=None, steps=steps)
    parent = ctx.stages.find(low) if not low.isdigit() else None
    if parent is not None and parent.index != stage.index:
        done = ctx.finished.get(parent.index)
        if done is None:  # only reached for stages compiled on demand
            assert ctx.compile_stage is not None
            done = ctx.compile_stage(parent.index)
        return StageState(
            name, done.head, done.config, done.platform, done.args, done.history,
            done.cmd_set, done.workdir_set, done.base_ref, steps=steps, author=done.author,
        )
    os_, _, arch = platform.partition("/")
    arch, _, variant = arch.partition("/")
    if low == "scratch":
        config = ImageConfig(os=os_, architecture=arch, variant=variant)
        return StageState(name, None, config, platform, steps=steps)
    try:
        resolved = ctx.resolver.resolve(image, platform)
    except (ResolveError, ValueError) as exc:
        raise InstructionError(f"FROM {image}: {exc}", span,
                               "check the image name, or build the stage it names") from None
    meta = OpMetadata(f"[{name} 1/{steps}] FROM {resolved.ref}", (span,), name)
    head = ctx.builder.add(SourceOp(ImageSource(resolved.ref, platform)), meta)
    return StageState(name, head, resolved.config, platform, base_ref=resolved.ref, steps=steps)


def compile_stage(ctx: Context, stage: Stage) -> StageState:
    """Compile ``stage`` (its dependencies must be in ``ctx.finished``).

    Raises:
        FrontendError: anything wrong in the stage.
    """
    ctx.in_progress.add(stage.index)
    image = from_image(ctx, stage.from_)
    state = _base(ctx, stage, image, _platform(ctx, stage.from_))
    if state.config.onbuild:
        state = run_triggers(ctx, state, stage.from_, dispatch)
    last: dict[type, Command] = {}
    for step, cmd in enumerate(stage.commands, start=2):
        state = dispatch(ctx, replace(state, step=step), cmd)
        if isinstance(cmd, _ONCE):
            if type(cmd) in last:  # reported where it is ignored, named as the later one
                word = cmd.node.keyword_text or cmd.node.keyword
                ctx.warn("MultipleInstructionsDisallowed", last[type(cmd)].node.span, word)
            last[type(cmd)] = cmd
    ctx.finished[stage.index] = state
    ctx.in_progress.discard(stage.index)
    return state
