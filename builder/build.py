"""The composition root of a build: context → parse → compile → solve → export.

May import: stdlib, frontend, solver, builder.* (everything below it).

    result = build(BuildRequest(context=Path("."), tags=(ImageRef.parse("img"),)), root, sink)

``build`` opens the context (``.dockerignore`` applied), parses and compiles the
Dockerfile with a resolver over the image store (the local image unless ``pull``),
reports the plan's build-check findings as ``BuildWarning`` events, solves the
definition with a ``Scheduler`` over a ``LocalWorker`` (cache index in
``root/cache/index``, file-hash cache in ``root/cache/files``) and exports the
target's layers and config into the image store under every tag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from builder.content.store import ContentStore
from builder.context.local import LocalContext
from builder.errors import NotFoundError, PybuildError
from builder.exporters.image import ExportedImage, ExportOptions, ImageSpec, export_image
from builder.images.store import ImageStore
from builder.layers import Compression, LayerOptions
from builder.oci import config as oci
from builder.oci.reference import ImageRef
from builder.registry.resolve import BaseImage, PullPolicy
from builder.root import Root
from builder.snapshots.store import SnapshotStore
from builder.worker.exec_op import ExecSettings
from builder.worker.hashcache import HashCache
from builder.worker.local import LocalHasher, LocalWorker, WorkerOptions
from builder.worker.refs import SnapshotRef, Stores
from builder.worker.source_op import BaseImages
from frontend.compile import BuildOptions, BuildPlan, compile_dockerfile
from frontend.errors import FrontendError
from frontend.imageconfig import HealthConfig
from frontend.imageconfig import ImageConfig as PlanConfig
from frontend.parser import parse_dockerfile
from frontend.resolver import ResolvedImage, ResolveError
from solver.cachestore import CacheStore
from solver.definition import Definition
from solver.ops import ExecOp, FileOp, ImageSource, Input, NetworkMode, SourceOp
from solver.progress import BuildWarning, ProgressSink, RecordingSink
from solver.scheduler import Scheduler, SolveOptions, run_interruptible

__all__ = ["BuildRequest", "BuildResult", "StoreResolver", "build"]


@dataclass(frozen=True)
class BuildRequest:
    """One build, as the CLI or the server asks for it.

    Attributes:
        context: the build context directory.
        dockerfile: ``-f`` (relative to the context, or absolute); None: ``Dockerfile``.
        tags: names the image gets (none: a dangling image).
        build_args: ``--build-arg`` pairs.
        target: ``--target`` stage.
        no_cache / pull: ``--no-cache`` / ``--pull``.
        network: what RUN's default network is (``--network``).
        secrets: ``--secret id=…,src=…`` pairs.
        labels: ``--label`` pairs.
        compression / source_date_epoch: how layers, config and manifest are written.
        platform: the target platform.
        max_parallelism: steps run at once (None: the CPU count).
        explain: emit a ``CacheMissReason`` for every step that runs.
        no_cache_filter: stages whose steps ignore the cache (``--no-cache-filter``).
        allow_insecure: the ``security.insecure`` entitlement (``--allow``).
    """

    context: Path
    dockerfile: str | None = None
    tags: tuple[ImageRef, ...] = ()
    build_args: tuple[tuple[str, str], ...] = ()
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    network: NetworkMode = NetworkMode.HOST
    secrets: tuple[tuple[str, Path], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    compression: Compression = Compression.GZIP
    source_date_epoch: int | None = None
    platform: str = "linux/amd64"
    max_parallelism: int | None = None
    explain: bool = False
    allow_insecure: bool = False
    no_cache_filter: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BuildResult:
    """The built image (its manifest and image ID) and the plan it came from."""

    image: ExportedImage
    plan: BuildPlan
    dockerfile_text: str


class StoreResolver:
    """``frontend.resolver.ImageConfigResolver`` over ``BaseImages``."""

    def __init__(self, bases: BaseImages) -> None:
        self.bases = bases

    def resolve(self, ref: str, platform: str | None) -> ResolvedImage:
        """The image's config, pinned to its manifest digest.

        Raises:
            ResolveError: no such image (locally, or in its registry with --pull).
        """
        try:
            base = self.bases.lookup(ref, platform)
        except PybuildError as exc:
            raise ResolveError(str(exc).removeprefix("error: ")) from None
        pinned = base.ref.with_digest(base.manifest.digest)
        return ResolvedImage(str(pinned), str(base.manifest.digest), plan_config(base.config))


def build(request: BuildRequest, root: Root, sink: ProgressSink | None = None) -> BuildResult:
    """Build ``request`` in ``root``; progress events go to ``sink``.

    Raises:
        ContextError: the context or its Dockerfile cannot be read.
        FrontendError: the Dockerfile does not parse or compile (with its source).
        SolveError: a step failed (its span, exit code and last log lines).
        PybuildError: a store, registry or export failure.
    """
    sink = sink or RecordingSink()
    context = LocalContext(request.context, request.dockerfile)
    text = context.dockerfile.decode("utf-8", "replace")
    content = ContentStore(root)
    images = ImageStore(root, content)
    stores = Stores(root, content, SnapshotStore(root, content))
    policy = PullPolicy.ALWAYS if request.pull else PullPolicy.MISSING
    bases = BaseImages(images, policy)
    plan = _compile(request, context, text, StoreResolver(bases))
    for diag in plan.diagnostics:
        sink.emit(BuildWarning(diag.rule, diag.message, diag.span))
    layer = LayerOptions(request.compression, None, request.source_date_epoch)
    settings = ExecSettings(layer, plan.proxy_env, request.network, dict(request.secrets),
                            request.allow_insecure)
    worker = LocalWorker(stores, images, WorkerOptions(
        {"context": context.source_tree()}, settings, bases))
    result = _solve(root, worker, plan.definition, request, sink)
    spec = _image_spec(plan, result, _base_of(plan.definition, bases))
    opts = ExportOptions(request.compression, None, request.source_date_epoch)
    image = export_image(content, images, spec, opts, request.tags)
    return BuildResult(image, plan, text)


def _compile(request: BuildRequest, context: LocalContext, text: str,
             resolver: StoreResolver) -> BuildPlan:
    options = BuildOptions(
        build_args=request.build_args, target=request.target,
        target_platform=request.platform, labels=request.labels,
        source_date_epoch=request.source_date_epoch,
    )
    try:
        return compile_dockerfile(parse_dockerfile(context.dockerfile, context.dockerfile_name),
                                  options, resolver)
    except FrontendError as exc:
        if exc.source_text is None:
            exc.source_text = text
        raise


def _solve(root: Root, worker: LocalWorker, definition: Definition, request: BuildRequest,
           sink: ProgressSink) -> SnapshotRef:
    (root.cache / "index").mkdir(parents=True, exist_ok=True)
    with CacheStore(root.cache / "index") as cache, HashCache(root.cache / "files") as files:
        scheduler = Scheduler(worker, cache, sink, request.max_parallelism,
                              LocalHasher(worker, files))
        refs = run_interruptible(scheduler.solve(definition, SolveOptions(
            no_cache=request.no_cache, no_cache_filter=request.no_cache_filter,
            explain=request.explain)))
    if not refs:
        return SnapshotRef()
    ref = refs[0]
    if not isinstance(ref, SnapshotRef):
        raise NotFoundError("the target stage is a build context, not a filesystem")
    return ref


def _base_of(definition: Definition, bases: BaseImages) -> BaseImage | None:
    """The base image at the bottom of the output's root-filesystem chain."""
    current: Input | None = definition.output
    while current is not None:
        op = definition.op(current.digest)
        match op:
            case ExecOp():
                current = op.mounts[0].source if op.mounts else None
            case FileOp():
                current = op.base
            case SourceOp(source=ImageSource() as src):
                return bases.lookup(src.ref, src.platform)
            case _:
                return None
    return None


def _image_spec(plan: BuildPlan, ref: SnapshotRef, base: BaseImage | None) -> ImageSpec:
    base_config = base.config if base is not None else oci.ImageConfig()
    c = plan.config
    config = dataclasses.replace(
        base_config, architecture=c.architecture, os=c.os, variant=c.variant,
        author=plan.author or base_config.author,
        config=container_config(c, base_config.config))
    history = tuple(oci.History(created_by=h.created_by, comment=h.comment,
                                empty_layer=h.empty_layer) for h in plan.history)
    return ImageSpec(ref.layers, config, base_config.history, history)


def container_config(c: PlanConfig, base: oci.ContainerConfig) -> oci.ContainerConfig:
    """The OCI ``config`` object for the plan's config (base fields it lacks kept)."""
    health = None
    if c.healthcheck is not None:
        h = c.healthcheck
        health = oci.Healthcheck(h.test, h.interval or 0, h.timeout or 0, h.start_period or 0,
                                 h.start_interval or 0, h.retries or 0)
    return dataclasses.replace(
        base, user=c.user, exposed_ports=c.exposed_ports,
        env=tuple(f"{k}={v}" for k, v in c.env), entrypoint=c.entrypoint or (),
        cmd=c.cmd or (), volumes=c.volumes, working_dir=c.workdir, labels=dict(c.labels),
        stop_signal=c.stop_signal, healthcheck=health, on_build=c.onbuild, shell=c.shell or ())


def plan_config(config: oci.ImageConfig) -> PlanConfig:
    """The frontend's view of a base image's config."""
    cc = config.config
    health = None
    if cc.healthcheck is not None:
        h = cc.healthcheck
        health = HealthConfig(h.test, h.interval or None, h.timeout or None,
                              h.start_period or None, h.start_interval or None,
                              h.retries or None)
    env = tuple((e.split("=", 1)[0], e.split("=", 1)[1] if "=" in e else "") for e in cc.env)
    return PlanConfig(
        env=env, cmd=cc.cmd or None, entrypoint=cc.entrypoint or None, user=cc.user,
        workdir=cc.working_dir, labels=tuple(cc.labels.items()),
        exposed_ports=cc.exposed_ports, volumes=cc.volumes, stop_signal=cc.stop_signal,
        healthcheck=health, shell=cc.shell or None, onbuild=cc.on_build,
        os=config.os or "linux", architecture=config.architecture or "amd64",
        variant=config.variant)
