"""``pybuild build [-t NAME]… [-f FILE] [--build-arg K[=V]]… … CONTEXT``: build an image.

May import: stdlib, builder.build, builder.* (root, errors, oci, layers, exporters),
builder.cli.render, frontend.errors, solver.{errors,ops}.

Options are parsed into typed values here (the edge) and handed to
``builder.build.build``. A failing step prints its Dockerfile position and excerpt,
its error and its last log lines, and exits 1; a Dockerfile error exits 2 (rendered
by ``builder.cli.main``). ``SOURCE_DATE_EPOCH`` (environment, or ``--build-arg``)
makes the image reproducible.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from builder.build import BuildRequest, BuildResult, build
from builder.cli.render import ProgressMode, Renderer, make_renderer
from builder.content.store import ContentStore
from builder.errors import UsageError
from builder.exporters.archive import ArchiveFormat, SaveItem, save_archive
from builder.layers import Compression, parse_source_date_epoch
from builder.oci.reference import ImageRef
from builder.root import Root
from frontend.errors import render_excerpt
from solver.errors import SolveError
from solver.ops import NetworkMode

__all__ = ["OutputSpec", "add_arguments", "parse_output", "run"]


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """``--output type=image|docker|oci[,dest=PATH][,compression=gzip|zstd]``."""

    kind: str = "image"
    dest: str = ""
    compression: Compression = Compression.GZIP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument("context", metavar="CONTEXT", help="the build context directory")
    parser.add_argument("-t", "--tag", action="append", default=[], metavar="NAME[:TAG]",
                        help="name the image (repeatable)")
    parser.add_argument("-f", "--file", help="the Dockerfile (default CONTEXT/Dockerfile)")
    parser.add_argument("--build-arg", action="append", default=[], metavar="K[=V]",
                        help="set a build argument; K alone takes it from the environment")
    parser.add_argument("--target", help="build this stage")
    parser.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    parser.add_argument("--no-cache-filter", action="append", default=[], metavar="STAGE",
                        help="do not use the cache for this stage (repeatable)")
    parser.add_argument("--explain", action="store_true",
                        help="say why each step that runs missed the cache")
    parser.add_argument("--pull", action="store_true", help="always ask the registry for FROM")
    parser.add_argument("--progress", default="auto",
                        choices=[m.value for m in ProgressMode], help="progress output")
    parser.add_argument("-o", "--output", metavar="type=…,dest=…",
                        help="also export: type=docker|oci,dest=FILE (- for stdout)")
    parser.add_argument("--iidfile", help="write the image ID to this file")
    parser.add_argument("--metadata-file", help="write build metadata (JSON) to this file")
    parser.add_argument("--network", default="default",
                        choices=[m.value for m in NetworkMode], help="RUN's network")
    parser.add_argument("--secret", action="append", default=[], metavar="id=ID,src=FILE",
                        help="a secret for RUN --mount=type=secret (repeatable)")
    parser.add_argument("--allow", action="append", default=[], choices=["security.insecure"],
                        help="grant an entitlement: security.insecure (RUN --security=insecure)")
    parser.add_argument("--label", action="append", default=[], metavar="K=V",
                        help="set an image label (repeatable)")
    parser.add_argument("--platform", default="linux/amd64", help="target platform")
    parser.add_argument("-q", "--quiet", action="store_true", help="same as --progress quiet")


def _kv_list(text: str, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"invalid {flag} {text!r}: {part!r} is not KEY=VALUE",
                             f"write {flag} key=value[,key=value…]")
        out[key.strip()] = value.strip()
    return out


def parse_output(text: str | None) -> OutputSpec:
    """``--output`` into an ``OutputSpec``.

    Raises:
        UsageError: an unknown type or compression, or a missing ``dest``.
    """
    if not text:
        return OutputSpec()
    fields = _kv_list(text, "--output")
    kind = fields.pop("type", "image")
    if kind not in ("image", "docker", "oci"):
        raise UsageError(f"--output type {kind!r} is not supported",
                         "use type=image, type=docker or type=oci")
    try:
        compression = Compression(fields.pop("compression", "gzip"))
    except ValueError:
        raise UsageError(f"invalid --output compression in {text!r}",
                         "use compression=gzip or compression=zstd") from None
    dest = fields.pop("dest", "")
    fields.pop("name", None)
    if fields:
        raise UsageError(f"unknown --output attribute {next(iter(fields))!r}")
    if kind != "image" and not dest:
        raise UsageError(f"--output type={kind} needs dest=FILE", "use dest=- for stdout")
    return OutputSpec(kind, dest, compression)


def _build_args(items: list[str]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid --build-arg {item!r}", "write --build-arg NAME=VALUE")
        if not sep:
            if key not in os.environ:
                continue  # docker: an unset variable is not passed
            value = os.environ[key]
        out.append((key, value))
    return tuple(out)


def _labels(items: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid --label {item!r}", "write --label KEY=VALUE")
        out.append((key, value))
    return tuple(out)


def _secrets(items: list[str]) -> tuple[tuple[str, Path], ...]:
    out = []
    for item in items:
        fields = _kv_list(item, "--secret")
        sid = fields.get("id", "")
        src = fields.get("src") or fields.get("source") or ""
        if not sid or not src:
            raise UsageError(f"invalid --secret {item!r}", "write --secret id=ID,src=FILE")
        if not os.path.isfile(src):
            raise UsageError(f"--secret {sid}: {src}: no such file")
        out.append((sid, Path(src)))
    return tuple(out)


def _request(args: argparse.Namespace, output: OutputSpec) -> BuildRequest:
    build_args = _build_args(args.build_arg)
    epoch_text = dict(build_args).get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH")
    network = NetworkMode(args.network)
    return BuildRequest(
        context=Path(args.context), dockerfile=args.file,
        tags=tuple(ImageRef.parse(t) for t in args.tag), build_args=build_args,
        target=args.target, no_cache=args.no_cache, pull=args.pull,
        network=NetworkMode.HOST if network is NetworkMode.DEFAULT else network,
        secrets=_secrets(args.secret), labels=_labels(args.label),
        compression=output.compression, source_date_epoch=parse_source_date_epoch(epoch_text),
        platform=args.platform, explain=args.explain,
        allow_insecure="security.insecure" in args.allow,
        no_cache_filter=frozenset(s for item in args.no_cache_filter for s in item.split(",")),
    )


def run(args: argparse.Namespace) -> int:
    """Build; returns 0, or 1 when a step failed.

    Raises:
        UsageError: bad options, or no such context directory.
        FrontendError: the Dockerfile is wrong (exit 2).
        PybuildError: a store, registry or export failure.
    """
    output = parse_output(args.output)
    if not os.path.isdir(args.context):
        raise UsageError(f"context {args.context!r} is not a directory",
                         "pass the build context directory, e.g. '.'")
    request = _request(args, output)
    mode = ProgressMode.QUIET if args.quiet else ProgressMode(args.progress)
    renderer = make_renderer(mode, sys.stdout, sys.stderr)
    with Root.open(args.root) as root:
        try:
            result = build(request, root, renderer)
        except SolveError as exc:
            _report_failure(exc, request)
            return 1
        _finish(args, root, result, output, renderer)
    if mode is ProgressMode.QUIET:
        print(result.image.image_id)
    return 0


def _report_failure(exc: SolveError, request: BuildRequest) -> None:
    print(exc.render(), file=sys.stderr)
    if not exc.spans:
        return
    span = exc.spans[0]
    path = Path(request.dockerfile or "Dockerfile")
    path = path if path.is_absolute() else request.context / path
    with contextlib.suppress(OSError):
        print(render_excerpt(path.read_text(errors="replace"), span), file=sys.stderr)


def _finish(args: argparse.Namespace, root: Root, result: BuildResult, output: OutputSpec,
            renderer: Renderer) -> None:
    image = result.image
    renderer.summary(f"writing image {image.image_id} done")
    for tag in args.tag:
        renderer.summary(f"naming to {ImageRef.parse(tag)} done")
    if output.kind != "image":
        names = tuple(ImageRef.parse(t) for t in args.tag)
        fmt = ArchiveFormat.OCI if output.kind == "oci" else ArchiveFormat.DOCKER
        with _open_dest(output.dest) as out:
            save_archive(root, ContentStore(root), [SaveItem(image.manifest, names)], fmt, out)
    if args.iidfile:
        Path(args.iidfile).write_text(str(image.image_id))
    if args.metadata_file:
        meta = {
            "containerimage.config.digest": str(image.image_id),
            "containerimage.descriptor": image.manifest.to_json(),
            "containerimage.digest": str(image.manifest.digest),
            "image.name": ",".join(str(ImageRef.parse(t)) for t in args.tag),
        }
        Path(args.metadata_file).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def _open_dest(dest: str) -> Iterator[BinaryIO]:
    if dest == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    tmp = f"{dest}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            yield fh
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
