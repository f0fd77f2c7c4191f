"""Metadata instructions → image-config changes and history entries (no ops),
plus WORKDIR, which also creates its directory.

May import: frontend.compile.{state,history}, frontend.instructions,
frontend.imageconfig, solver.ops.

Every ``$var`` in one ENV or LABEL line takes its value from before that line.
ENTRYPOINT clears a CMD inherited from the base (not one set in this stage).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from frontend.compile.history import (
    go_list,
    go_port_set,
    go_quote,
    go_quoted_list,
    healthcheck_text,
)
from frontend.compile.state import Context, StageState
from frontend.errors import InstructionError
from frontend.imageconfig import HealthConfig, ImageConfig
from frontend.instructions import (
    Cmd,
    Entrypoint,
    Env,
    Expose,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from frontend.nodes import ExecForm, ShellForm
from solver.ops import ChownOpt, FileOp, Mkdir

__all__ = ["MetaCommand", "compile_meta", "shell_args"]

MetaCommand = (
    Env | Label | User | Workdir | Expose | Volume | Cmd | Entrypoint | Shell | StopSignal
    | Healthcheck | Maintainer | Onbuild
)

DEFAULT_SHELL = ("/bin/sh", "-c")


def shell_args(state: StageState, form: ExecForm | ShellForm) -> tuple[str, ...]:
    """Exec form as is; shell form as ``shell + (text,)`` (default ``/bin/sh -c``)."""
    if isinstance(form, ExecForm):
        return form.args
    return (*(state.config.shell or DEFAULT_SHELL), form.text)


def compile_meta(ctx: Context, state: StageState, cmd: MetaCommand) -> StageState:
    """Apply one metadata instruction.

    Raises:
        FrontendError: a malformed expansion or an invalid value.
    """
    match cmd:
        case Env() | Label():
            return _pairs(ctx, state, cmd)
        case Workdir():
            return _workdir(ctx, state, cmd)
        case Cmd() | Entrypoint():
            return _command(state, cmd)
        case Healthcheck():
            return _health(state, cmd)
        case Expose():
            return _expose(ctx, state, cmd)
        case Maintainer():
            history = state.with_history(f"MAINTAINER {cmd.name}", True)
            return replace(state, author=cmd.name, history=history)
        case _:
            config, text = _simple(ctx, state, cmd)
            return replace(state, config=config, history=state.with_history(text, True))


def _simple(ctx: Context, state: StageState, cmd: MetaCommand) -> tuple[ImageConfig, str]:
    span, config = cmd.node.span, state.config
    match cmd:
        case User():
            user = ctx.expand_in(state, cmd.user, span)
            return replace(config, user=user), f"USER {user}"
        case Volume():
            paths = tuple(ctx.expand_in(state, p, span) for p in cmd.paths)
            if any(not p for p in paths):
                raise InstructionError("VOLUME specified can not be an empty string", span)
            volumes = tuple(dict.fromkeys((*config.volumes, *paths)))
            return replace(config, volumes=volumes), f"VOLUME {go_list(paths)}"
        case Shell():
            return replace(config, shell=cmd.args), f"SHELL {go_list(cmd.args)}"
        case StopSignal():
            signal = ctx.expand_in(state, cmd.signal, span)
            return replace(config, stop_signal=signal), f"STOPSIGNAL {signal}"
        case Onbuild():
            onbuild = (*config.onbuild, cmd.expression)
            return replace(config, onbuild=onbuild), f"ONBUILD {cmd.expression}"
    raise AssertionError(f"not a metadata instruction: {cmd!r}")


def _pairs(ctx: Context, state: StageState, cmd: Env | Label) -> StageState:
    span, word = cmd.node.span, "ENV" if isinstance(cmd, Env) else "LABEL"
    if cmd.legacy:
        ctx.warn("LegacyKeyValueFormat", span, cmd.node.keyword_text or word)
    words = [w for pair in cmd.pairs for w in (pair.key, pair.value)]
    literal = all(ctx.is_literal(w) for w in words)
    env, known = ({}, frozenset()) if literal else (state.vars(), state.known())
    pairs: list[tuple[str, str]] = []
    for pair in cmd.pairs:
        key = ctx.expand(pair.key, env, span, known)
        pairs.append((key, ctx.expand(pair.value, env, span, known)))
        if isinstance(cmd, Env):
            ctx.check_secret_name("ENV", key, span)
    config = (state.config.with_envs(pairs) if isinstance(cmd, Env)
              else state.config.with_labels(pairs))
    created_by = f"{word} " + " ".join(f"{k}={v}" for k, v in pairs)
    return replace(state, config=config, history=state.with_history(created_by, True))


def _workdir(ctx: Context, state: StageState, cmd: Workdir) -> StageState:
    span = cmd.node.span
    path = ctx.expand_in(state, cmd.path, span)
    if not path.startswith("/"):
        if not state.workdir_set:
            ctx.warn("WorkdirRelativePath", span, go_quote(path))
        path = posixpath.join(state.config.workdir or "/", path)
    path = posixpath.normpath(path)
    path = "/" + path.lstrip("/")
    head = state.head
    if path != "/":
        chown = ChownOpt(*_split_user(state.config.user)) if state.config.user else None
        op = FileOp(head, (Mkdir(path, 0o755, True, chown),))
        head = ctx.add(op, state, f"WORKDIR {cmd.path}", span)
    return replace(
        state, head=head, config=replace(state.config, workdir=path), workdir_set=True,
        history=state.with_history(f"WORKDIR {path}", path == "/"),
    )


def _split_user(user: str) -> tuple[str, str]:
    name, _, group = user.partition(":")
    return name, group


def _command(state: StageState, cmd: Cmd | Entrypoint) -> StageState:
    args = shell_args(state, cmd.cmd)
    if isinstance(cmd.cmd, ShellForm) and not cmd.cmd.text.strip():
        args = ()
    if isinstance(cmd, Cmd):
        config = replace(state.config, cmd=args)
        history = state.with_history(f"CMD {go_quoted_list(args)}", True)
        return replace(state, config=config, history=history, cmd_set=True)
    config = replace(state.config, entrypoint=args)
    if not state.cmd_set:
        config = replace(config, cmd=None)
    history = state.with_history(f"ENTRYPOINT {go_quoted_list(args)}", True)
    return replace(state, config=config, history=history)


def _health(state: StageState, cmd: Healthcheck) -> StageState:
    health = HealthConfig(
        cmd.test, cmd.interval, cmd.timeout, cmd.start_period, cmd.start_interval, cmd.retries
    )
    config = replace(state.config, healthcheck=health)
    return replace(state, config=config, history=state.with_history(healthcheck_text(health), True))


_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\w+))?$")


def _expose(ctx: Context, state: StageState, cmd: Expose) -> StageState:
    span, ports = cmd.node.span, []
    for raw in cmd.ports:
        text = ctx.expand_in(state, raw, span)
        match = _PORT.match(text.rsplit(":", 1)[-1])
        if not match:
            raise InstructionError(f"invalid port in EXPOSE: {text!r}", span, "write 80 or 80/tcp")
        lo, hi, proto = int(match[1]), int(match[2] or match[1]), (match[3] or "tcp").lower()
        if hi < lo or hi > 65535:
            raise InstructionError(f"invalid port range in EXPOSE: {text!r}", span)
        ports += [f"{p}/{proto}" for p in range(lo, hi + 1)]
    exposed = tuple(sorted(set(state.config.exposed_ports) | set(ports)))
    config = replace(state.config, exposed_ports=exposed)
    history = state.with_history(f"EXPOSE {go_port_set(tuple(ports))}", True)
    return replace(state, config=config, history=history)
