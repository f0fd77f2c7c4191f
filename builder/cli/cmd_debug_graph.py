"""``pybuild debug graph [-f FILE] [--target T] [--build-arg K=V]… [--format dot|json] CONTEXT``:
print the build graph a Dockerfile compiles to, without building anything.

May import: stdlib, frontend (parser, compile, resolver, errors), solver (graph),
builder.errors.

Base images are not looked up (``NullResolver``: every image exists with an
empty config), so ONBUILD triggers of real base images do not show. A bad
Dockerfile raises a ``FrontendError`` that ``builder.cli.main`` renders with
its excerpt (exit code 2); bad usage raises ``UsageError`` (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from builder.errors import UsageError
from frontend.compile import BuildOptions, ContextKind, compile_dockerfile
from frontend.errors import FrontendError
from frontend.parser import parse_dockerfile
from frontend.resolver import NullResolver
from solver.graph import definition_to_dot, definition_to_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's options."""
    parser.add_argument("context", metavar="CONTEXT", help="the build context directory")
    parser.add_argument("-f", "--file", help="the Dockerfile (default CONTEXT/Dockerfile)")
    parser.add_argument("--target", help="build only this stage and what it needs")
    parser.add_argument("--build-arg", action="append", default=[], metavar="K=V",
                        help="set a build argument (repeatable)")
    parser.add_argument("--platform", default="linux/amd64", help="target platform")
    parser.add_argument("--build-context", action="append", default=[], metavar="NAME=SRC",
                        help="a named context (repeatable; shown as a local source)")
    parser.add_argument("--format", choices=("dot", "json"), default="dot",
                        help="output format (default dot)")


def _pair(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"invalid {flag} {text!r}", f"write {flag} NAME=VALUE")
    return key, value


def _dockerfile_path(context: str, file: str | None) -> str:
    if file:
        return file
    for name in ("Dockerfile", "dockerfile"):
        path = os.path.join(context, name)
        if os.path.isfile(path):
            return path
    raise UsageError(f"no Dockerfile in {context!r}", "give one with -f FILE")


def run(args: argparse.Namespace) -> int:
    """Compile the Dockerfile and print its graph; returns 0.

    Raises:
        UsageError: no context directory, no Dockerfile, a bad ``K=V`` option.
        FrontendError: the Dockerfile does not parse or compile.
    """
    if not os.path.isdir(args.context):
        raise UsageError(f"context {args.context!r} is not a directory")
    path = _dockerfile_path(args.context, args.file)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    options = BuildOptions(
        build_args=tuple(_pair(a, "--build-arg") for a in args.build_arg),
        target=args.target,
        target_platform=args.platform,
        contexts=tuple(
            (_pair(c, "--build-context")[0], ContextKind.LOCAL) for c in args.build_context
        ),
    )
    name = os.path.basename(path) if args.file is None else args.file
    try:
        plan = compile_dockerfile(parse_dockerfile(data, name), options, NullResolver())
    except FrontendError as exc:
        if exc.source_text is None:
            exc.source_text = data.decode("utf-8", "replace")
        raise
    if args.format == "json":
        sys.stdout.write(json.dumps(definition_to_json(plan.definition), indent=2) + "\n")
    else:
        sys.stdout.write(definition_to_dot(plan.definition))
    return 0
