"""RUN → ExecOp: argv, heredocs, env, user/cwd, mounts (FEATURES.md §4 items 42-44)."""

from __future__ import annotations

from collections.abc import Callable

from frontend.compile import BuildPlan
from solver.ops import (
    CacheSharing,
    ExecOp,
    FileOp,
    LocalSource,
    Mkfile,
    MountType,
    NetworkMode,
    SecurityMode,
    SourceOp,
)

Build = Callable[..., BuildPlan]


def _runs(plan: BuildPlan) -> list[ExecOp]:
    return [op for op in plan.definition.ops.values() if isinstance(op, ExecOp)]


def test_shell_form_runs_through_default_shell(build: Build) -> None:
    run = _runs(build("FROM alpine\nRUN make all\n"))[0]
    assert run.meta.args == ("/bin/sh", "-c", "make all")
    assert run.mounts[0].target == "/" and run.mounts[0].output is True


def test_exec_form_is_never_expanded(build: Build) -> None:
    run = _runs(build('FROM alpine\nENV HOME=/root\nRUN ["echo", "$HOME"]\n'))[0]
    assert run.meta.args == ("echo", "$HOME")


def test_shell_form_is_not_expanded_by_the_frontend(build: Build) -> None:
    run = _runs(build("FROM alpine\nENV X=1\nRUN echo $X ${X}\n"))[0]
    assert run.meta.args[-1] == "echo $X ${X}"


def test_shell_instruction_changes_only_later_shell_forms(build: Build) -> None:
    text = (
        'FROM alpine\nRUN one\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN two\n'
        'RUN ["three"]\nCMD serve\n'
    )
    plan = build(text)
    assert [r.meta.args for r in _runs(plan)] == [
        ("/bin/sh", "-c", "one"), ("/bin/bash", "-eo", "pipefail", "-c", "two"), ("three",)
    ]
    assert plan.config.cmd == ("/bin/bash", "-eo", "pipefail", "-c", "serve")
    assert plan.config.shell == ("/bin/bash", "-eo", "pipefail", "-c")


def test_heredoc_without_command_runs_body_with_shell(build: Build) -> None:
    run = _runs(build("FROM alpine\nRUN <<EOF\napk add git\necho done\nEOF\n"))[0]
    assert run.meta.args == ("/bin/sh", "-c", "apk add git\necho done\n")


def test_shebang_heredoc_is_written_executable_and_run_directly(build: Build) -> None:
    plan = build("FROM alpine\nRUN <<EOF\n#!/usr/bin/env python3\nprint('hi')\nEOF\n")
    run = _runs(plan)[0]
    assert run.meta.args == ("/dev/pipes/EOF",)
    pipe = run.mounts[1]
    assert (pipe.target, pipe.readonly) == ("/dev/pipes", True)
    assert pipe.source is not None
    src = plan.definition.ops[pipe.source.digest]
    assert isinstance(src, FileOp)
    assert src.actions == (Mkfile("/EOF", b"#!/usr/bin/env python3\nprint('hi')\n", 0o755),)


def test_heredocs_with_command_are_fed_by_the_shell(build: Build) -> None:
    text = "FROM alpine\nRUN cat <<A > /a && cat <<B > /b\none\nA\ntwo\nB\n"
    run = _runs(build(text))[0]
    assert run.meta.args == ("/bin/sh", "-c", "cat <<A > /a && cat <<B > /b\none\nA\ntwo\nB")


def test_env_user_and_cwd_come_from_state(build: Build) -> None:
    text = "FROM alpine\nENV A=1\nARG B=2\nWORKDIR /src\nUSER app:app\nRUN make\n"
    run = _runs(build(text))[0]
    assert run.meta.env == ("A=1", "B=2")
    assert (run.meta.cwd, run.meta.user) == ("/src", "app:app")


def test_cache_secret_tmpfs_ssh_and_bind_mounts(build: Build) -> None:
    text = (
        "FROM golang AS deps\nRUN go mod download\n"
        "FROM golang\n"
        "RUN --mount=type=cache,target=/root/.cache,sharing=locked "
        "--mount=type=secret,id=npmrc,target=/root/.npmrc "
        "--mount=type=tmpfs,target=/tmp,size=1g --mount=type=ssh "
        "--mount=type=bind,from=deps,source=/go/pkg,target=/go/pkg "
        "--mount=type=bind,source=go.sum,target=/src/go.sum make\n"
    )
    plan = build(text)
    run = _runs(plan)[-1]
    kinds = [(m.type, m.target) for m in run.mounts[1:]]
    assert kinds == [
        (MountType.CACHE, "/root/.cache"), (MountType.SECRET, "/root/.npmrc"),
        (MountType.TMPFS, "/tmp"), (MountType.SSH, "/run/buildkit/ssh_agent.0"),
        (MountType.BIND, "/go/pkg"), (MountType.BIND, "/src/go.sum"),
    ]
    cache, secret, tmpfs, ssh, from_deps, ctx_bind = run.mounts[1:]
    assert (cache.cache_id, cache.sharing) == ("/root/.cache", CacheSharing.LOCKED)
    assert (secret.secret_id, secret.mode) == ("npmrc", 0o400)
    assert tmpfs.size == 1024**3 and ssh.secret_id == "default"
    assert from_deps.source == plan.stages[0].output and from_deps.selector == "/go/pkg"
    assert ctx_bind.source is not None and ctx_bind.readonly
    assert isinstance(plan.definition.ops[ctx_bind.source.digest], SourceOp)
    assert plan.definition.ops[ctx_bind.source.digest] == SourceOp(LocalSource("context"))
    assert plan.stages[0].built is True


def test_mount_values_are_expanded(build: Build) -> None:
    run = _runs(build("FROM alpine\nARG CACHE=/c\nRUN --mount=type=cache,target=$CACHE x\n"))[0]
    assert run.mounts[1].target == "/c"


def test_network_and_security_reach_the_op(build: Build) -> None:
    run = _runs(build("FROM alpine\nRUN --network=none --security=insecure true\n"))[0]
    assert (run.network, run.security) == (NetworkMode.NONE, SecurityMode.INSECURE)


def test_cache_mount_id_is_part_of_digest_but_metadata_is_not(build: Build) -> None:
    a = _runs(build("FROM alpine\nRUN --mount=type=cache,target=/c,id=a make\n"))[0]
    b = _runs(build("FROM alpine\nRUN --mount=type=cache,target=/c,id=b make\n"))[0]
    moved = _runs(build("FROM alpine\n\n\nRUN --mount=type=cache,target=/c,id=a   make\n"))[0]
    assert a.digest != b.digest
    assert a.digest == moved.digest


def test_relative_mount_target_is_under_workdir(build: Build) -> None:
    text = "FROM golang\nWORKDIR /src\nRUN --mount=type=bind,source=go.sum,target=go.sum x\n"
    run = _runs(build(text))[0]
    assert (run.mounts[1].target, run.mounts[1].selector) == ("/src/go.sum", "/go.sum")
