"""Compile a parsed Dockerfile into a build plan: solver ops plus the final image config.

May import: frontend.*, solver.{ops,definition,digest,source}.

``compile_dockerfile(dockerfile, options, resolver)`` splits the stages, picks
the ones ``--target`` needs, compiles each (``frontend.compile.stage``) and
returns a ``BuildPlan``: the ``Definition`` whose output is the target stage's
root, the target's image config and history, what each stage became, the
semantic build-check findings, and ``proxy_env``: the proxy build args
(``HTTP_PROXY`` …) the worker adds to every RUN's environment. They are kept
out of every op digest and out of the history unless the Dockerfile declares
them with ARG, in which case they are in the op's env like any ARG.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontend.compile.args import AUTOMATIC_ARGS, compile_global_args
from frontend.compile.stage import compile_stage
from frontend.compile.state import (
    PROXY_ARGS,
    BuildOptions,
    Context,
    ContextKind,
    HistoryEntry,
    StageState,
)
from frontend.errors import Diagnostic, FrontendError
from frontend.imageconfig import ImageConfig
from frontend.instructions import Arg
from frontend.nodes import Dockerfile
from frontend.resolver import ImageConfigResolver, NullResolver
from frontend.shellwords import expand as expand_word
from frontend.stages import StageList, parse_stages, select_stages
from solver.definition import Definition
from solver.ops import Input

__all__ = [
    "BuildOptions",
    "BuildPlan",
    "ContextKind",
    "HistoryEntry",
    "StageInfo",
    "compile_dockerfile",
]


@dataclass(frozen=True, slots=True)
class StageInfo:
    """One stage of the Dockerfile: whether it is built, and its result."""

    index: int
    name: str | None
    base: str
    built: bool
    output: Input | None = None
    config: ImageConfig | None = None


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """What to build and the image it makes.

    ``definition.output`` is the target stage's root (None for an empty
    ``FROM scratch`` stage); ``config`` and ``history`` are the target's (the
    builder prepends the base image's history); ``author`` is the last
    MAINTAINER; ``target`` the index of the target stage; ``proxy_env`` the
    undeclared proxy build args every RUN gets (outside all digests).
    """

    definition: Definition
    config: ImageConfig
    history: tuple[HistoryEntry, ...]
    stages: tuple[StageInfo, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    proxy_env: tuple[tuple[str, str], ...] = ()
    target: int = -1
    author: str = ""


def compile_dockerfile(
    dockerfile: Dockerfile,
    options: BuildOptions | None = None,
    resolver: ImageConfigResolver | None = None,
) -> BuildPlan:
    """Compile ``dockerfile`` for ``options`` (defaults: no args, last stage).

    Raises:
        FrontendError: any Dockerfile error (InstructionError, UnknownStageError,
            StageCycleError, ExpansionError), with a span and a hint.
    """
    options = options or BuildOptions()
    stages = parse_stages(dockerfile)
    ctx = Context(options, resolver or NullResolver(), stages, dockerfile.escape)
    ctx.compile_stage = lambda index: compile_stage(ctx, stages.stages[index])
    compile_global_args(ctx, stages.global_args)
    bases = [_quiet_base(ctx, s.from_.image) for s in stages.stages]
    order = select_stages(stages, options.target, bases, options.context_names())
    for index in order:
        if index not in ctx.finished:
            compile_stage(ctx, stages.stages[index])
    final = ctx.finished[order[-1]]
    _unused_args(ctx, stages)
    config = final.config
    for key, value in options.labels:
        config = config.with_label(key, value)
    infos = tuple(_info(ctx, s.index, bases[s.index]) for s in stages.stages)
    proxies = tuple((k, v) for k, v in options.build_args if k in PROXY_ARGS)
    return BuildPlan(
        ctx.builder.build(final.head) if final.head else ctx.builder.build(None),
        config, final.history, infos, tuple(ctx.diagnostics), proxies, order[-1], final.author,
    )


def _quiet_base(ctx: Context, image: str) -> str:
    try:
        return expand_word(image, ctx.global_args, ctx.escape).text
    except FrontendError:  # reported with its span when the stage is compiled
        return image


def _info(ctx: Context, index: int, base: str) -> StageInfo:
    stage = ctx.stages.stages[index]
    done: StageState | None = ctx.finished.get(index)
    if done is None:
        return StageInfo(index, stage.name, base, False)
    return StageInfo(index, stage.name, base, True, done.head, done.config)


def _unused_args(ctx: Context, stages: StageList) -> None:
    declared = set(ctx.global_names)
    for stage in stages.stages:
        for cmd in stage.commands:
            if isinstance(cmd, Arg):
                declared |= {d.name for d in cmd.args}
    ignored = declared | PROXY_ARGS | set(AUTOMATIC_ARGS)
    unused = [k for k, _ in ctx.options.build_args
              if k not in ignored and not k.startswith("BUILDKIT_")]
    if unused:
        ctx.warn("UnusedBuildArg", None, " ".join(unused))

