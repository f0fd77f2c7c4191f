"""Dockerfile COPY/ADD compiled by the frontend, applied by the worker: both halves agree."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from builder.worker import SourceTree, apply_file_actions
from frontend.compile import BuildOptions, compile_dockerfile
from frontend.parser import parse_dockerfile
from solver.ops import Copy, FileOp
from tests.builder.worker.conftest import write


def _apply(text: str, context: Path, root: Path) -> None:
    plan = compile_dockerfile(parse_dockerfile(text), BuildOptions(), None)
    ops = [op for op in plan.definition.ops.values() if isinstance(op, FileOp)]
    tree = SourceTree(context, root_owned=True)
    for op in ops:
        sources = {a.source: tree for a in op.actions if isinstance(a, Copy)}
        apply_file_actions(root, op.actions, sources)


def test_compiled_copy_instructions_apply(src: Path, root: Path) -> None:
    write(src / "x/y/a.txt", "a")
    write(src / "bin/tool", "#!", 0o744)
    write(src / "bin/data", "d", 0o600)
    _apply(
        "FROM scratch\n"
        "COPY --parents ./x/./y/*.txt /p/\n"
        "COPY --chmod=u=rwX,go=rX bin /opt/bin/\n"
        "WORKDIR /w\n"
        "COPY <<EOF rel.txt\nhello\nEOF\n",
        src, root,
    )
    assert (root / "p/y/a.txt").read_text() == "a"
    assert stat.S_IMODE(os.stat(root / "opt/bin/tool").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(root / "opt/bin/data").st_mode) == 0o644
    assert (root / "w/rel.txt").read_text() == "hello\n"
    assert stat.S_IMODE(os.stat(root / "w/rel.txt").st_mode) == 0o644


def test_source_trailing_slash_is_ignored_and_relative_dest_uses_workdir(
    src: Path, root: Path
) -> None:
    write(src / "dir/a", "a")
    write(src / "f", "f")
    _apply("FROM scratch\nWORKDIR /w/x\nCOPY dir/ sub/\nCOPY /../f ../g\n", src, root)
    assert (root / "w/x/sub/a").read_text() == "a"
    assert (root / "w/g").read_text() == "f"
