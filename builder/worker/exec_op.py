"""ExecOp on the local worker: run a process on an overlay of its root, commit the upper.

May import: stdlib, solver.{ops,worker,errors,progress}, builder lower layers
(layers, snapshots, sandbox), builder.worker.refs.

The root mount's layer chain becomes the sandbox's lowerdirs under a fresh
upperdir; after a successful run the upperdir holds exactly the step's changes and
is committed as the new layer. Other mounts:

- ``bind`` of another stage or image: a merged overlay view (writes, when the mount
  is not read-only, go to a throwaway upper); of the build context: read-only, in place;
- ``cache``: a persistent directory ``cache/mounts/<sha256(id)>`` of the root;
- ``tmpfs``: a fresh tmpfs;
- ``secret``: a copy of the ``--secret`` file on a tmpfs (``/dev/shm``), bind-mounted
  read-only; it is never in the upperdir and so never in a layer.

The environment is the op's (ARG and ENV), then the build's proxy variables not
already set, then BuildKit's default ``PATH`` when none is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from builder.layers import LayerOptions
from builder.sandbox.executor import Executor, ExitReason, RootfsLayout, RunOptions
from builder.sandbox.spec import (
    DEFAULT_PATH,
    MountKind,
    MountSpec,
    NamespaceSpec,
    Privileges,
    ProcessSpec,
    SandboxSpec,
)
from builder.worker.refs import DirRef, LocalRef, SnapshotRef, Stores, commit_upper, merged_view
from solver.errors import OpFailed
from solver.ops import ExecOp, Input, Mount, MountType, NetworkMode, SecurityMode
from solver.progress import LogStream
from solver.worker import Cancelled, RunContext

__all__ = ["ExecSettings", "build_env", "run_exec_op"]


@dataclass(frozen=True, slots=True)
class ExecSettings:
    """Per-build settings of RUN steps that are not part of any op digest.

    Attributes:
        layer: how new layer blobs are written.
        proxy_env: ``HTTP_PROXY``-style variables every step gets unless it sets them.
        default_network: what ``NetworkMode.DEFAULT`` means (``--network``).
        secrets: ``--secret`` id → file on the host.
        allow_insecure: ``RUN --security=insecure`` is allowed (``--allow security.insecure``).
    """

    layer: LayerOptions = field(default_factory=LayerOptions)
    proxy_env: tuple[tuple[str, str], ...] = ()
    default_network: NetworkMode = NetworkMode.HOST
    secrets: Mapping[str, Path] = field(default_factory=dict)
    allow_insecure: bool = False


def build_env(env: tuple[str, ...], proxy_env: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The process environment: ``env``, then proxies it lacks, then the default PATH."""
    names = {e.split("=", 1)[0] for e in env}
    out = list(env) + [f"{k}={v}" for k, v in proxy_env if k not in names]
    if "PATH" not in names:
        out.append(f"PATH={DEFAULT_PATH}")
    return tuple(out)


def run_exec_op(stores: Stores, executor: Executor, op: ExecOp,
                refs: Mapping[Input, LocalRef], ctx: RunContext,
                settings: ExecSettings) -> SnapshotRef:
    """Run ``op`` and commit its root's changes on top of the root input.

    Raises:
        OpFailed: the process exited non-zero, or a mount cannot be provided.
        Cancelled: ``ctx.cancel`` fired; the process was killed.
        SandboxError: the sandbox could not be set up.
    """
    base = _root(op, refs)
    if op.security is SecurityMode.INSECURE and not settings.allow_insecure:
        raise OpFailed("RUN --security=insecure needs the security.insecure entitlement "
                       "(pybuild build --allow security.insecure)")
    with stores.root.tempdir("exec-") as tmp, contextlib.ExitStack() as stack:
        upper, work = tmp / "upper", tmp / "work"
        upper.mkdir()
        work.mkdir()
        env = build_env(op.meta.env, settings.proxy_env)
        mounts: list[MountSpec] = []
        for mount in op.mounts[1:]:
            mspec, extra_env = _mount(stores, stack, mount, refs, settings)
            if mspec is not None:
                mounts.append(mspec)
            env += extra_env
        network = settings.default_network if op.network is NetworkMode.DEFAULT else op.network
        spec = SandboxSpec(
            ProcessSpec(op.meta.args, env, op.meta.cwd or "/", op.meta.user),
            NamespaceSpec(network=network, hostname=op.meta.hostname or "pybuild"),
            tuple(mounts),
            privileges=Privileges(mode=op.security),
        )
        cancel = threading.Event()
        ctx.cancel.on_cancel(cancel.set)
        status = executor.run(
            spec, RootfsLayout(tuple(base.diff_dirs(stores.snapshots)), upper, work),
            lambda stream, data: ctx.log(LogStream(stream), data), RunOptions(cancel=cancel))
        if status.reason is ExitReason.CANCELLED or ctx.cancel.cancelled:
            raise Cancelled("cancelled")
        if not status.ok:
            what = (f"signal {status.signal}" if status.reason is ExitReason.SIGNALED
                    else f"exit code: {status.code}")
            raise OpFailed(f'process "{" ".join(op.meta.args)}" did not complete '
                           f"successfully: {what}", status.code)
        stack.close()
        return commit_upper(stores, base, upper, settings.layer)


def _root(op: ExecOp, refs: Mapping[Input, LocalRef]) -> SnapshotRef:
    source = op.mounts[0].source if op.mounts else None
    if source is None:
        return SnapshotRef()
    ref = refs[source]
    if not isinstance(ref, SnapshotRef):
        raise OpFailed("a RUN step cannot use the build context as its root filesystem")
    return ref


def _mount(stores: Stores, stack: contextlib.ExitStack, mount: Mount,
           refs: Mapping[Input, LocalRef],
           settings: ExecSettings) -> tuple[MountSpec | None, tuple[str, ...]]:
    match mount.type:
        case MountType.BIND:
            return _bind(stores, stack, mount, refs), ()
        case MountType.CACHE:
            key = hashlib.sha256((mount.cache_id or mount.target).encode()).hexdigest()
            path = stores.root.cache / "mounts" / key
            path.mkdir(parents=True, exist_ok=True)
            if mount.mode is not None:
                os.chmod(path, mount.mode)
            if mount.uid is not None or mount.gid is not None:
                os.chown(path, mount.uid or 0, mount.gid or 0)
            return MountSpec(mount.target, MountKind.BIND, str(path), read_only=False), ()
        case MountType.TMPFS:
            return MountSpec(mount.target, MountKind.TMPFS, read_only=False,
                             size_bytes=mount.size), ()
        case MountType.SECRET:
            return _secret(stack, mount, settings)
        case _:
            raise OpFailed(f"RUN --mount=type={mount.type.value} is not supported yet")


def _bind(stores: Stores, stack: contextlib.ExitStack, mount: Mount,
          refs: Mapping[Input, LocalRef]) -> MountSpec:
    if mount.source is None:
        empty = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=stores.root.tmp)))
        return MountSpec(mount.target, MountKind.BIND, str(empty), read_only=mount.readonly)
    ref = refs[mount.source]
    view = stack.enter_context(merged_view(stores, ref))
    path = (view / mount.selector.lstrip("/")).resolve()
    if not path.is_relative_to(view.resolve()) or not path.exists():
        raise OpFailed(f"mount source {mount.selector!r} does not exist in its stage")
    read_only = mount.readonly or isinstance(ref, DirRef)
    return MountSpec(mount.target, MountKind.BIND, str(path), read_only=read_only)


def _secret(stack: contextlib.ExitStack, mount: Mount,
            settings: ExecSettings) -> tuple[MountSpec | None, tuple[str, ...]]:
    source = settings.secrets.get(mount.secret_id)
    if source is None:
        if mount.required:
            raise OpFailed(f"secret {mount.secret_id!r} is required but was not given",
                           None)
        return None, ()
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise OpFailed(f"cannot read secret {mount.secret_id!r}: {exc.strerror}") from None
    env: tuple[str, ...] = ()
    if mount.env_name:
        env = (f"{mount.env_name}={data.decode('utf-8', 'replace')}",)
        if not mount.target:
            return None, env
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    holder = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=shm)))
    copy = holder / "secret"
    copy.write_bytes(data)
    os.chmod(copy, mount.mode if mount.mode is not None else 0o400)
    os.chown(copy, mount.uid or 0, mount.gid or 0)
    target = mount.target or f"/run/secrets/{mount.secret_id}"
    stack.callback(shutil.rmtree, holder, True)
    return MountSpec(target, MountKind.BIND, str(copy), read_only=True), env
