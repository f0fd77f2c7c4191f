"""``pybuild debug parse FILE [--json]``: print a Dockerfile's syntax tree with positions.

May import: stdlib, frontend (parser, nodes).

The JSON shape is documented in docs/parse-json.md; a bad Dockerfile raises
``DockerfileSyntaxError``, which ``builder.cli.main`` renders (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from frontend.nodes import Dockerfile, ExecForm, Instruction
from frontend.parser import parse_dockerfile
from solver.source import Span

__all__ = ["add_arguments", "render_json", "render_tree", "run"]

_SPAN_LIST = re.compile(r"\[\s+(\d+),\s+(\d+),\s+(\d+),\s+(\d+)\s+\]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``FILE`` and ``--json``."""
    parser.add_argument("file", metavar="FILE", help="the Dockerfile to parse ('-' for stdin)")
    parser.add_argument("--json", action="store_true", help="print JSON (docs/parse-json.md)")


def run(args: argparse.Namespace) -> int:
    """Parse ``args.file`` and print its tree; returns 0.

    Raises:
        OSError: the file cannot be read.
        DockerfileSyntaxError: the file does not parse.
    """
    if args.file == "-":
        data = sys.stdin.buffer.read()
        name = "Dockerfile"
    else:
        with open(args.file, "rb") as handle:
            data = handle.read()
        name = args.file
    dockerfile = parse_dockerfile(data, name)
    sys.stdout.write(render_json(dockerfile) if args.json else render_tree(dockerfile))
    return 0


def render_json(dockerfile: Dockerfile) -> str:
    """The ``--json`` document: two-space indented, spans on one line, final newline."""
    text = json.dumps(dockerfile.to_json(), indent=2, ensure_ascii=False)
    return _SPAN_LIST.sub(r"[\1, \2, \3, \4]", text) + "\n"


def render_tree(dockerfile: Dockerfile) -> str:
    """The human-readable tree: one block per instruction, positions as line:col."""
    out = [f"Dockerfile {_name(dockerfile)} (escape {dockerfile.escape})"]
    for directive in dockerfile.directives:
        out.append(f"  directive {directive.name}={directive.value}  @{_where(directive.span)}")
    for instruction in dockerfile.instructions:
        out += _instruction_lines(instruction, "  ")
    return "\n".join(out) + "\n"


def _instruction_lines(instruction: Instruction, indent: str) -> list[str]:
    out = [f"{indent}{instruction.keyword}  @{_where(instruction.span)}"]
    for flag in instruction.flags:
        value = "" if flag.value is None else f"={flag.value}"
        out.append(f"{indent}  flag --{flag.name}{value}  @{_where(flag.span)}")
    if isinstance(instruction.args, ExecForm):
        out.append(f"{indent}  exec {json.dumps(list(instruction.args.args), ensure_ascii=False)}")
    elif instruction.args.text:
        out.append(f"{indent}  shell {instruction.args.text}")
    for heredoc in instruction.heredocs:
        mode = ", ".join(
            m for m, on in (("expand", heredoc.expand), ("chomp", heredoc.chomp)) if on
        )
        where = _where(heredoc.span)
        out.append(f"{indent}  heredoc {heredoc.name} ({mode or 'verbatim'})  @{where}")
        out += [f"{indent}  | {body}" for body in heredoc.body.splitlines()]
    if instruction.inner is not None:
        out += _instruction_lines(instruction.inner, indent + "  ")
    return out


def _where(span: Span) -> str:
    return f"{span.line}:{span.col}-{span.end_line}:{span.end_col}"


def _name(dockerfile: Dockerfile) -> str:
    return dockerfile.source.name if dockerfile.source is not None else "Dockerfile"
