"""``pybuild debug graph``: the compiled graph as DOT or JSON; errors exit 2 with an excerpt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.cli.main import main

MULTI = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app
FROM alpine AS lint
RUN golint
FROM gcr.io/distroless/static
COPY --from=build /out/app /app
"""


def _context(tmp_path: Path, text: str, name: str = "Dockerfile") -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / name).write_text(text)
    return ctx


def test_dot_output_shows_needed_stages_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["debug", "graph", str(_context(tmp_path, MULTI))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph build {")
    assert "[build 4/4] RUN go build -o /out/app" in out
    assert "golint" not in out
    assert out.count("->") == 6


def test_json_output_with_target_and_build_arg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "ARG V=1\nFROM alpine:$V AS a\nRUN x\nFROM a AS b\nRUN y\n")
    code = main(["debug", "graph", "--format", "json", "--target", "a",
                 "--build-arg", "V=3.19", str(ctx)])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    names = [n["name"] for n in doc["nodes"]]
    assert names == ["[a 1/2] FROM docker.io/library/alpine:3.19", "[a 2/2] RUN x"]
    assert doc["output"]["digest"] == doc["nodes"][-1]["digest"]


def test_dash_f_and_lowercase_fallback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _context(tmp_path, "FROM alpine\nRUN true\n", name="dockerfile")
    assert main(["debug", "graph", str(ctx)]) == 0
    other = tmp_path / "Other.Dockerfile"
    other.write_text("FROM busybox\n")
    assert main(["debug", "graph", "-f", str(other), str(ctx)]) == 0
    assert "busybox" in capsys.readouterr().out


def test_bad_dockerfile_exits_2_with_excerpt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "FROM alpine AS base\nCOPY --from=bulid /a /b\n")
    (tmp_path / "x").mkdir()
    ctx2 = _context(tmp_path / "x", "FROM alpine\nCOPY --from=3 /a /b\n")
    assert main(["debug", "graph", "--target", "nope", str(ctx)]) == 2
    err = capsys.readouterr().err
    assert "target stage 'nope' could not be found" in err and "hint: stages are: base" in err
    assert main(["debug", "graph", str(ctx2)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Dockerfile:2:6: --from=3: no stage with index 3")
    assert ">>> 2 | COPY --from=3 /a /b" in err and "Traceback" not in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["debug", "graph", str(tmp_path / "missing")]) == 2
    ctx = _context(tmp_path, "FROM alpine\n")
    assert main(["debug", "graph", "--build-arg", "NOVALUE", str(ctx)]) == 2
    assert "invalid --build-arg" in capsys.readouterr().err


def test_build_context_replaces_stage_of_same_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "FROM alpine AS docs\nRUN make docs\nFROM nginx\nCOPY --from=docs / /www\n"
    ctx = _context(tmp_path, text)
    assert main(["debug", "graph", "--format", "json", "--build-context", "docs=../docs",
                 str(ctx)]) == 0
    names = [n["name"] for n in json.loads(capsys.readouterr().out)["nodes"]]
    assert "[internal] load build context docs" in names
    assert not any("make docs" in n for n in names)
