"""Tests for ``pybuild debug parse``: tree and JSON output, exit codes on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder.cli.cmd_debug_parse import render_json
from builder.cli.main import main
from frontend.parser import parse_dockerfile

DOCKERFILE = (
    "# syntax=docker/dockerfile:1\nFROM alpine AS b\nRUN --network=none <<EOF\necho hi\nEOF\n"
)


def test_json_output_is_the_documented_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    assert main(["debug", "parse", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert out == render_json(parse_dockerfile(DOCKERFILE, str(path)))
    doc = json.loads(out)
    assert set(doc) == {"file", "escape", "directives", "instructions"}
    run = doc["instructions"][1]
    assert run["keyword"] == "RUN" and run["form"] == "shell" and run["args"] == "<<EOF"
    assert run["flags"][0]["name"] == "network" and run["flags"][0]["span"] == [3, 5, 3, 19]
    assert run["heredocs"][0]["body"] == "echo hi\n"
    assert doc["directives"][0]["value"] == "docker/dockerfile:1"


def test_tree_output_shows_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    assert main(["debug", "parse", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  FROM  @2:1-2:17" in out
    assert "    flag --network=none  @3:5-3:19" in out
    assert "    | echo hi" in out


def test_bad_dockerfile_exits_2_with_rendered_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a\nRUNN x\n")
    assert main(["debug", "parse", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == f"{path}:2:1: unknown instruction: RUNN"
    assert " >>> 2 | RUNN x" in lines
    assert lines[-1] == "hint: did you mean RUN?"
    assert "Traceback" not in captured.err


def test_missing_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["debug", "parse", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_dash_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'FROM a\nCMD ["x"]\n')))
    assert main(["debug", "parse", "-", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["file"] == "Dockerfile"
    assert doc["instructions"][1]["args"] == ["x"]
