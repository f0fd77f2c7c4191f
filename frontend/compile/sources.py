"""Where ``--from=NAME`` and plain context paths come from: named context, stage, image.

May import: frontend.compile.state, frontend.resolver, frontend.errors, solver.ops.

Order (BuildKit): a named build context, then a stage (by name, or by index
when NAME is a number), then an image reference.
"""

from __future__ import annotations

from frontend.compile.state import Context, StageState
from frontend.errors import InstructionError, StageCycleError, UnknownStageError
from frontend.resolver import normalize_ref
from solver.definition import OpMetadata
from solver.ops import FileOp, ImageSource, Input, LocalSource, SourceOp
from solver.source import Span

__all__ = ["context_source", "from_source", "scratch_input"]


def context_source(
    ctx: Context, name: str, include: tuple[str, ...], span: Span
) -> Input:
    """A ``LocalSource`` op for context ``name`` narrowed to ``include`` patterns."""
    meta = OpMetadata(f"[internal] load build context {name}", (span,))
    return ctx.builder.add(SourceOp(LocalSource(name, tuple(sorted(set(include))))), meta)


def scratch_input(ctx: Context) -> Input:
    """An empty filesystem as an op (what a ``FROM scratch`` stage copies from)."""
    return ctx.builder.add(FileOp(None, ()), OpMetadata("[internal] scratch"))


def from_source(
    ctx: Context, state: StageState, ref: str, include: tuple[str, ...], span: Span
) -> Input:
    """The root of what ``--from=ref`` names.

    Raises:
        UnknownStageError: a numeric reference to a stage that does not come first.
        InstructionError: an image reference that does not parse.
    """
    low = ref.lower()
    if low in ctx.options.context_names():
        return context_source(ctx, low, include, span)
    stage = ctx.stages.find(low)
    if stage is not None:
        done = ctx.finished.get(stage.index)
        if done is None:
            if stage.index in ctx.in_progress or ctx.compile_stage is None:
                raise StageCycleError(
                    f"--from={ref}: stage {stage.display!r} depends on this one",
                    span, "a stage cannot depend on itself through --from or FROM",
                )
            done = ctx.compile_stage(stage.index)
        return done.head if done.head is not None else scratch_input(ctx)
    if low.isdigit():
        raise UnknownStageError(f"--from={ref}: no stage with index {ref}", span, ctx.stages.hint())
    try:
        norm = normalize_ref(ref)
    except ValueError as exc:
        raise InstructionError(f"--from={ref}: {exc}", span, ctx.stages.hint()) from None
    meta = OpMetadata(f"[internal] load image {norm}", (span,))
    return ctx.builder.add(SourceOp(ImageSource(norm, state.platform)), meta)
