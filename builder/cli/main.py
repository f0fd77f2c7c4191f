"""``pybuild`` entry point: global options, lazy command dispatch, error rendering.

May import: stdlib at module level; command modules (``builder.cli.cmd_*``) lazily.

Each command lives in its own module that defines::

    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> int

and is listed in ``COMMANDS`` below with its one-line help. Only the module of
the command being run is imported, so ``pybuild --version`` and ``--help``
import nothing heavy. ``pybuild -t img .`` (no command word) means ``build``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

VERSION = "0.1.0"

# command words → (module, help). Two-word commands use "word sub" keys.
COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("builder.cli.cmd_build", "Build an image from a Dockerfile"),
    "check": ("builder.cli.cmd_check", "Run build checks on a Dockerfile"),
    "debug parse": ("builder.cli.cmd_debug_parse", "Print a Dockerfile's syntax tree"),
    "debug graph": ("builder.cli.cmd_debug_graph", "Print the build graph (DOT or JSON)"),
    "images": ("builder.cli.cmd_images", "List images"),
    "image ls": ("builder.cli.cmd_images", "List images"),
    "image rm": ("builder.cli.cmd_rmi", "Remove images"),
    "image tag": ("builder.cli.cmd_tag", "Tag an image"),
    "image inspect": ("builder.cli.cmd_inspect", "Show image details as JSON"),
    "image history": ("builder.cli.cmd_history", "Show an image's history"),
    "image prune": ("builder.cli.cmd_prune", "Remove unused images"),
    "rmi": ("builder.cli.cmd_rmi", "Remove images"),
    "tag": ("builder.cli.cmd_tag", "Tag an image"),
    "inspect": ("builder.cli.cmd_inspect", "Show image details as JSON"),
    "history": ("builder.cli.cmd_history", "Show an image's history"),
    "save": ("builder.cli.cmd_save", "Write images to a docker-archive or OCI tar"),
    "load": ("builder.cli.cmd_load", "Load images from an archive"),
    "import": ("builder.cli.cmd_import", "Make an image from a rootfs tarball"),
    "pull": ("builder.cli.cmd_pull", "Pull an image from a registry"),
    "push": ("builder.cli.cmd_push", "Push an image to a registry"),
    "login": ("builder.cli.cmd_login", "Log in to a registry"),
    "logout": ("builder.cli.cmd_logout", "Log out from a registry"),
    "system df": ("builder.cli.cmd_system", "Show disk usage"),
    "system prune": ("builder.cli.cmd_system", "Remove unused data"),
}

GROUPS = {"debug", "image", "system"}

def _available(key: str) -> bool:
    module = COMMANDS[key][0]
    return importlib.util.find_spec(module) is not None

def _usage() -> str:
    lines = [
        "usage: pybuild [--root DIR] [--debug] COMMAND [ARGS…]",
        "       pybuild [build options] CONTEXT      (same as pybuild build)",
        "",
        "A BuildKit-class container image builder.",
        "",
        "Commands:",
    ]

    for key, (_, help_) in COMMANDS.items():
        if _available(key):
            lines.append(f"  {key:<16} {help_}")
    lines += [
        "",
        "Global options:",
        "  --root DIR     state directory (default $PYBUILD_ROOT, /var/lib/pybuild as root)",
        "  --debug        show Python tracebacks",
        "  --version      print the version and exit",
        "",
        "Run 'pybuild COMMAND --help' for a command's options.",
    ]
    return "\n".join(lines)

def _split_globals(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    ns = argparse.Namespace(root=os.environ.get("PYBUILD_ROOT") or None, debug=False)
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if rest:
            rest.append(arg)
        elif arg == "--debug":
            ns.debug = True
        elif arg == "--root" and i + 1 < len(argv):
            ns.root = argv[i + 1]
            i += 1
        elif arg.startswith("--root="):
            ns.root = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return ns, rest

def _pick(rest: list[str]) -> tuple[str, list[str]]:
    if rest and rest[0] in GROUPS:
        if len(rest) > 1 and f"{rest[0]} {rest[1]}" in COMMANDS:
            return f"{rest[0]} {rest[1]}", rest[2:]
        if rest[0] == "image" and len(rest) > 1 and rest[1] in ("list", "remove"):
            return {"list": "image ls", "remove": "image rm"}[rest[1]], rest[2:]
        subs = sorted(k.split()[1] for k in COMMANDS if k.startswith(rest[0] + " "))
        raise SystemExit(_fail(f"'{rest[0]}' needs a subcommand: {', '.join(subs)}", 2))
    if rest and rest[0] in COMMANDS:
        return rest[0], rest[1:]
    return "build", rest

def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code

def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit code."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    glob, rest = _split_globals(args_in)
    if not rest or rest[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if rest[0] in ("--version", "version"):
        print(f"pybuild {VERSION}")
        return 0
    try:
        key, cmd_args = _pick(rest)
    except SystemExit as exc:
        return int(exc.code or 0)
    module_name = COMMANDS[key][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return _fail(f"'{key}' is not available in this version of pybuild", 2)
    parser = argparse.ArgumentParser(prog=f"pybuild {key}", description=COMMANDS[key][1])
    module.add_arguments(parser)
    parsed = parser.parse_args(cmd_args)
    parsed.root = glob.root
    parsed.debug = glob.debug
    parsed.command = key
    return _run(module, parsed)

def _run(module: object, parsed: argparse.Namespace) -> int:
    try:
        return int(module.run(parsed))  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the one place that turns errors into exit codes
        if parsed.debug:
            raise
        return _report(exc)

def _report(exc: Exception) -> int:
    from builder.errors import PybuildError
    from frontend.errors import FrontendError
    from solver.errors import SolverError

    if isinstance(exc, FrontendError):
        source = getattr(exc, "source_text", None)
        print(exc.render(source), file=sys.stderr)
        return 2
    if isinstance(exc, PybuildError | SolverError):
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, OSError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
    print("hint: run with --debug for the traceback, and report it", file=sys.stderr)
    return 1

if __name__ == "__main__":
    sys.exit(main())
