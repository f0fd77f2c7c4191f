"""Hostile and odd Dockerfiles end to end (parse → compile → checks, and the
``pybuild check`` / ``debug graph`` commands): each gives a one-line positioned
FrontendError or succeeds, never another exception, and in bounded time."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.cli.main import main
from frontend.checks import run_checks
from frontend.compile import compile_dockerfile
from frontend.errors import FrontendError
from frontend.parser import parse_dockerfile


def _nested(depth: int) -> str:
    return "FROM busybox\nENV X=" + "${a:-" * depth + "x" + "}" * depth + "\n"


def _stage_chain(count: int) -> str:
    return "".join(
        f"FROM {'busybox' if i == 0 else f's{i - 1}'} AS s{i}\nRUN echo {i}\n"
        for i in range(count)
    )


def _copy_chain(count: int) -> str:
    head = "FROM busybox AS s0\n"
    return head + "".join(f"FROM busybox AS s{i}\nCOPY --from=s{i - 1} /a /b\n"
                          for i in range(1, count))


CASES: dict[str, tuple[Callable[[], str | bytes], float]] = {
    # name: (Dockerfile text, seconds allowed: generous for a loaded 2-core CI box)
    "nested-expansion-2000": (lambda: _nested(2000), 5),
    "stage-chain-3000": (lambda: _stage_chain(3000), 30),
    "copy-from-chain-3000": (lambda: _copy_chain(3000), 30),
    "one-line-of-1mb": (lambda: "FROM busybox\nRUN echo " + "a" * 1_000_000 + "\n", 10),
    "env-with-20000-pairs": (
        lambda: "FROM busybox\nENV " + " ".join(f"K{i}=v{i}" for i in range(20_000)) + "\n", 15),
    "label-with-20000-pairs": (
        lambda: "FROM busybox\nLABEL " + " ".join(f"k{i}=v" for i in range(20_000)) + "\n", 15),
    "backtracking-pattern": (
        lambda: "FROM busybox\nARG A=" + "a" * 20_000 + "\nENV B=${A#*a*a*a*a*a*b}\n", 5),
    "nul-bytes": (lambda: b"FROM busybox\nRUN echo \x00 hi\n", 5),
    "invalid-utf8": (lambda: b"FROM busybox\nRUN echo \xff\xfe\n", 5),
    "binary-garbage": (lambda: bytes(range(256)) * 20, 5),
    "unclosed-quotes": (lambda: "FROM busybox\nENV X=" + '"' * 10_001 + "\n", 5),
    "dollars-only": (lambda: "FROM busybox\nENV X=" + "$" * 100_000 + "\n", 5),
    "heredoc-of-100000-lines": (
        lambda: "FROM busybox\nRUN <<EOF\n" + "line\n" * 100_000 + "EOF\n", 10),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_dockerfile_succeeds_or_fails_cleanly_in_bounded_time(name: str) -> None:
    make, allowed = CASES[name]
    data = make()
    started = time.perf_counter()
    try:
        dockerfile = parse_dockerfile(data, "Dockerfile")
        plan = compile_dockerfile(dockerfile)
        run_checks(dockerfile, extra=plan.diagnostics)
    except FrontendError as exc:
        assert exc.span is not None
        assert "\n" not in exc.header()
    assert time.perf_counter() - started < allowed


def test_deep_nesting_is_a_positioned_error_not_a_crash() -> None:
    with pytest.raises(FrontendError, match="nested") as info:
        compile_dockerfile(parse_dockerfile(_nested(2000), "Dockerfile"))
    assert info.value.span is not None and info.value.span.line == 2


@pytest.mark.parametrize("command", [["check"], ["debug", "graph"]])
@pytest.mark.parametrize(
    ("data", "code"),
    [(_nested(500).encode(), 2), (b"FROM busybox\nRUN \xff\n", 2), (os.urandom(0) + b"\x00", 2),
     (_stage_chain(1200).encode(), 0)],
    ids=["nested", "invalid-utf8", "nul-only", "stage-chain"],
)
def test_cli_gives_exit_code_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], data: bytes, code: int
) -> None:
    (tmp_path / "Dockerfile").write_bytes(data)
    assert main([*command, str(tmp_path)]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
