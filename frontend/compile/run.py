"""RUN → ``ExecOp``: argv (shell form, heredocs), env, mounts, network, security.

May import: frontend.compile.{state,config,sources,history}, frontend.instructions,
solver.ops.

Heredocs follow BuildKit: ``RUN <<EOF`` alone runs the body with the shell
(``sh -c BODY``), or, when the body starts with ``#!``, writes it with mode
0755 to ``/dev/pipes/EOF`` (a read-only mount) and executes that file. With a
command line, each body is appended after the line (``cmd <<EOF\\nBODY\\nEOF``)
and the shell itself feeds it to its command's stdin. Exec form is never
expanded. ARGs in scope and ENV reach the process environment; undeclared
proxy build args are in ``BuildPlan.proxy_env`` (outside every digest).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace

from frontend.compile.config import shell_args
from frontend.compile.history import run_text
from frontend.compile.sources import context_source, from_source
from frontend.compile.state import Context, StageState
from frontend.errors import InstructionError
from frontend.instructions import Run, RunMount
from frontend.nodes import ExecForm, ShellForm
from solver.definition import OpMetadata
from solver.ops import ExecMeta, ExecOp, FileOp, Mkfile, Mount, MountType, NetworkMode
from solver.source import Span

__all__ = ["compile_run", "run_args"]

PIPES = "/dev/pipes"


def run_args(
    ctx: Context, state: StageState, run: Run
) -> tuple[tuple[str, ...], tuple[Mount, ...]]:
    """The argv of ``run`` and any extra mounts its heredocs need.

    Raises:
        InstructionError: heredocs combined with exec form.
    """
    if not run.heredocs:
        return shell_args(state, run.cmd), ()
    if isinstance(run.cmd, ExecForm):
        raise InstructionError("heredocs are not supported with the exec form of RUN",
                               run.node.span)
    text = run.cmd.text.strip()
    only = run.heredocs[0]
    if len(run.heredocs) == 1 and text.lstrip("<-").strip("'\"") == only.name:
        if only.body.startswith("#!"):
            path = f"{PIPES}/{only.name}"
            op = FileOp(None, (Mkfile(f"/{only.name}", only.body.encode(), 0o755),))
            src = ctx.builder.add(op, OpMetadata("[internal] heredoc", (only.span,), state.name))
            return (path,), (Mount(PIPES, MountType.BIND, src, "/", readonly=True),)
        return shell_args(state, ShellForm(only.body)), ()
    script = run.cmd.text
    for doc in run.heredocs:
        script += "\n" + doc.body + doc.name
    return shell_args(state, ShellForm(script)), ()


def _mount(ctx: Context, state: StageState, m: RunMount, span: Span) -> Mount:
    def x(word: str) -> str:
        return ctx.expand_in(state, word, span) if word else word

    target = x(m.target)
    if target and not target.startswith("/"):  # relative targets are under WORKDIR
        target = posixpath.join(state.config.workdir or "/", target)
    match m.type:
        case MountType.BIND:
            include: tuple[str, ...] = ()
            source = (from_source(ctx, state, m.from_, include, span) if m.from_
                      else context_source(ctx, "context", include, span))
            return Mount(target, m.type, source, "/" + x(m.source).lstrip("/"), m.readonly)
        case MountType.CACHE:
            cache_src = from_source(ctx, state, m.from_, (), span) if m.from_ else None
            return Mount(target, m.type, cache_src, x(m.source), m.readonly, cache_id=x(m.id),
                         sharing=m.sharing, mode=m.mode, uid=m.uid, gid=m.gid)
        case MountType.TMPFS:
            return Mount(target, m.type, size=m.size)
        case _:
            return Mount(target, m.type, secret_id=x(m.id), env_name=x(m.env),
                         required=m.required, mode=m.mode, uid=m.uid, gid=m.gid)


def compile_run(ctx: Context, state: StageState, run: Run) -> StageState:
    """Add the ExecOp for ``run``; the new head is its root output.

    Raises:
        FrontendError: bad heredoc use, a malformed expansion in a mount.
    """
    span = run.node.span
    args, extra = run_args(ctx, state, run)
    mounts = tuple(_mount(ctx, state, m, span) for m in run.mounts)
    root = Mount("/", MountType.BIND, state.head, output=True)
    env = state.run_env()
    meta = ExecMeta(args, env, state.config.workdir or "/", state.config.user)
    op = ExecOp(meta, (root, *extra, *mounts), run.network or NetworkMode.DEFAULT, run.security)
    text = run.node.original or f"RUN {run.cmd.text if isinstance(run.cmd, ShellForm) else args}"
    head = ctx.add(op, state, text, span)
    created_by = "RUN " + run_text(args, state.history_args()) + " # buildkit"
    return replace(state, head=head, history=state.with_history(created_by, False))
