"""``import --change`` text → typed ``ConfigChange``s, through the Dockerfile frontend.

May import: stdlib, frontend (parser, instructions, shellwords, nodes), builder.errors,
builder.exporters.changes.

Each line is parsed as a one-instruction Dockerfile named ``--change``, so
quoting, JSON-vs-shell form and errors (with a column and a caret) are exactly
the frontend's. Words are expanded with the ENV set by earlier ``--change``s,
as Docker's import dispatcher does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from builder.errors import UsageError
from builder.exporters.changes import KEYWORDS, ConfigChange, normalize_ports
from frontend.instructions import parse_instruction
from frontend.instructions.config import (
    Cmd,
    Entrypoint,
    Env,
    Expose,
    Label,
    StopSignal,
    User,
    Volume,
    Workdir,
)
from frontend.instructions.onbuild import Onbuild
from frontend.nodes import ExecForm
from frontend.parser import parse_dockerfile
from frontend.shellwords import expand

__all__ = ["parse_changes"]


def parse_changes(lines: Sequence[str]) -> tuple[ConfigChange, ...]:
    """Parse ``--change`` lines in order.

    Raises:
        UsageError: not one instruction, or one ``import`` does not support.
        FrontendError: the instruction does not parse (rendered with position).
    """
    env: dict[str, str] = {}
    out: list[ConfigChange] = []
    for line in lines:
        change = _change(line, env)
        if change.keyword == "ENV":
            env.update(change.pairs)
        out.append(change)
    return tuple(out)


def _change(line: str, env: Mapping[str, str]) -> ConfigChange:
    doc = parse_dockerfile(line, name="--change")
    if len(doc.instructions) != 1:
        raise UsageError(f"--change {line!r}: want exactly one instruction")
    node = doc.instructions[0]
    if node.keyword not in KEYWORDS:
        raise UsageError(
            f"--change: {node.keyword.lower()!r} is not a valid change command",
            hint="use one of " + ", ".join(KEYWORDS),
        )
    value = parse_instruction(node)

    def x(word: str) -> str:
        return expand(word, env).text

    match value:
        case Cmd(cmd=form) | Entrypoint(cmd=form):
            if isinstance(form, ExecForm):
                return ConfigChange(node.keyword, form.args)
            if not form.text.strip():
                raise UsageError(f"--change {node.keyword}: needs an argument")
            return ConfigChange(node.keyword, ("/bin/sh", "-c", form.text))
        case Env(pairs=pairs) | Label(pairs=pairs):
            return ConfigChange(node.keyword, pairs=tuple((x(p.key), x(p.value)) for p in pairs))
        case Expose(ports=ports):
            return ConfigChange(node.keyword, normalize_ports([x(p) for p in ports]))
        case Volume(paths=paths):
            return ConfigChange(node.keyword, tuple(x(p) for p in paths))
        case User(user=text) | Workdir(path=text) | StopSignal(signal=text):
            return ConfigChange(node.keyword, (x(text),))
        case Onbuild(expression=text):
            return ConfigChange(node.keyword, (text,))
    raise UsageError(f"--change: {node.keyword} is not supported")  # pragma: no cover
