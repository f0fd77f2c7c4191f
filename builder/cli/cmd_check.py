"""``pybuild check [-f FILE] [--build-arg K=V]… [--target T] [--format text|json] CONTEXT``:
run the build checks on a Dockerfile without building it.

May import: stdlib, frontend (parser, dockerignore, checks, compile, resolver, errors),
builder.errors.

The Dockerfile is ``-f FILE`` (``-`` reads stdin), else ``CONTEXT/Dockerfile``,
else ``CONTEXT/dockerfile``; the ignore file is the first of
``frontend.dockerignore.candidate_files`` that exists. The Dockerfile is parsed,
compiled with a resolver that knows no images (for the semantic findings such as
UndefinedVar), and checked. ``--build-arg BUILDKIT_DOCKERFILE_CHECK=…`` replaces
the ``# check=`` directive, as in BuildKit.

Exit codes: 0 when there are only warnings (or none), 1 when ``check=error=true``
turned findings into errors, 2 for a Dockerfile error (a syntax error, an invalid
check directive, a compile error such as an unknown ``--target``) or bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from builder.errors import UsageError
from frontend.checks import CheckConfig, CheckResult, run_checks
from frontend.compile import BuildOptions, compile_dockerfile
from frontend.dockerignore import IgnorePatternError, IgnoreRules, candidate_files
from frontend.dockerignore import parse as parse_ignore
from frontend.errors import Diagnostic, FrontendError
from frontend.parser import parse_dockerfile
from frontend.resolver import NullResolver
from frontend.rules import RULES

__all__ = ["add_arguments", "run"]

_CHECK_ARG = "BUILDKIT_DOCKERFILE_CHECK"


@dataclass(frozen=True, slots=True)
class _Source:
    """The Dockerfile as read: its display name, its path (None for stdin), its text."""

    name: str
    path: str | None
    text: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``CONTEXT``, ``-f``, ``--build-arg``, ``--target`` and ``--format``."""
    parser.add_argument("context", metavar="CONTEXT", help="the build context directory")
    parser.add_argument("-f", "--file", metavar="FILE", help="the Dockerfile ('-' for stdin)")
    parser.add_argument(
        "--build-arg",
        metavar="K=V",
        action="append",
        default=[],
        dest="build_args",
        help="a build argument (K alone takes the value from the environment)",
    )
    parser.add_argument("--target", metavar="STAGE", help="check as if building this stage")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """Check the Dockerfile and print the findings; returns the exit code.

    Raises:
        UsageError: no context directory, no Dockerfile, a bad ``--build-arg``
            or a bad ignore file.
        FrontendError: the Dockerfile does not parse, or its check directive is invalid.
    """
    if not os.path.isdir(args.context):
        raise UsageError(f"context {args.context!r} is not a directory")
    build_args = tuple(_build_arg(a) for a in args.build_args)
    source = _read_dockerfile(args.context, args.file)
    dockerfile = parse_dockerfile(source.text, source.name)
    ignore = _read_ignore(args.context, source.path)
    config = _config(build_args)
    try:
        plan = compile_dockerfile(
            dockerfile, BuildOptions(build_args=build_args, target=args.target), NullResolver()
        )
    except FrontendError as exc:
        # The syntactic findings are still worth showing before the error.
        result = run_checks(dockerfile, ignore=ignore, config=config)
        _print(result, source, args.format, exc)
        return 2
    result = run_checks(dockerfile, ignore=ignore, extra=plan.diagnostics, config=config)
    _print(result, source, args.format, None)
    if result.has_errors:
        print(f"error: {result.error_message()}", file=sys.stderr)
        return 1
    return 0


def _build_arg(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not key:
        raise UsageError(f"invalid --build-arg {text!r}", "write --build-arg NAME=value")
    if not sep:
        value = os.environ.get(key, "")
    return key, value


def _config(build_args: tuple[tuple[str, str], ...]) -> CheckConfig | None:
    value = next((v for k, v in reversed(build_args) if k == _CHECK_ARG), None)
    if value is None:
        return None
    try:
        return CheckConfig.parse(value)
    except FrontendError as exc:
        raise UsageError(f"--build-arg {_CHECK_ARG}: {exc.message}", exc.hint) from None


def _read_dockerfile(context: str, file: str | None) -> _Source:
    if file == "-":
        return _Source("Dockerfile", None, _decode(sys.stdin.buffer.read(), "stdin"))
    if file is not None:
        candidates = [file]
    else:
        candidates = [os.path.join(context, "Dockerfile"), os.path.join(context, "dockerfile")]
    for path in candidates:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            continue
        except IsADirectoryError:
            raise UsageError(f"{path} is a directory, not a Dockerfile") from None
        name = file if file is not None else os.path.basename(path)
        return _Source(name, path, _decode(data, path))
    raise UsageError(
        f"no Dockerfile found: tried {', '.join(candidates)}",
        "name it with -f FILE, or use -f - to read it from stdin",
    )


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parse_dockerfile(data, os.path.basename(where))  # raises the positioned syntax error
        raise UsageError(f"{where}: not UTF-8 text (byte {exc.start})") from None


def _read_ignore(context: str, dockerfile_path: str | None) -> IgnoreRules | None:
    for candidate in candidate_files(dockerfile_path or "-"):
        beside = dockerfile_path is not None and candidate == dockerfile_path + ".dockerignore"
        path = candidate if beside else os.path.join(context, candidate)
        try:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read()
        except FileNotFoundError:
            continue
        try:
            return parse_ignore(text, os.path.basename(path))
        except IgnorePatternError as exc:
            raise UsageError(str(exc), "fix or remove the pattern") from None
    return None


def _print(result: CheckResult, source: _Source, fmt: str, failure: FrontendError | None) -> None:
    if fmt == "json":
        print(json.dumps(_json(result, failure), indent=2, ensure_ascii=False))
        return
    for diag in result.diagnostics:
        print(diag.render(source.text))
        print()
    n = len(result.diagnostics)
    if failure is not None:
        print(failure.render(source.text), file=sys.stderr)
    elif n == 0:
        print("Check complete, no warnings found.")
    else:
        kind = "errors" if result.has_errors else "warnings"
        print(f"Check complete, {n} {kind[:-1] if n == 1 else kind} found.")


def _json(result: CheckResult, failure: FrontendError | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "warnings": [_diag_json(d) for d in result.diagnostics],
        "has_errors": result.has_errors,
    }
    if failure is not None:
        doc["error"] = {
            "message": failure.message,
            "hint": failure.hint,
            "location": failure.span.to_json() if failure.span else None,
        }
    return doc


def _diag_json(diag: Diagnostic) -> dict[str, Any]:
    known = RULES.get(diag.rule)
    return {
        "rule": diag.rule,
        "description": known.description if known else "",
        "message": diag.message,
        "url": diag.url,
        "level": "error" if diag.is_error else "warning",
        "location": diag.span.to_json() if diag.span else None,
    }
