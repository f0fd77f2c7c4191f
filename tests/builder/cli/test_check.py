"""``pybuild check``: finding the Dockerfile and ignore file, output, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from builder.cli.main import main


def _context(tmp_path: Path, dockerfile: str, name: str = "Dockerfile") -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / name).write_text(dockerfile)
    return ctx


def test_warnings_are_printed_with_position_excerpt_and_exit_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "FROM alpine AS Build\nCMD run\n")
    assert main(["check", str(ctx)]) == 0
    out = capsys.readouterr().out
    assert (
        "Dockerfile:1:16: warning: StageNameCasing: Stage name 'Build' should be lowercase" in out
    )
    assert " >>> 2 | CMD run" in out
    assert "see https://docs.docker.com/go/dockerfile/rule/json-args-recommended/" in out
    assert out.rstrip().endswith("Check complete, 2 warnings found.")


def test_clean_dockerfile_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _context(tmp_path, 'FROM alpine\nCMD ["run"]\n')
    assert main(["check", str(ctx)]) == 0
    assert capsys.readouterr().out == "Check complete, no warnings found.\n"


def test_check_error_true_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _context(tmp_path, "# check=error=true\nFROM alpine\nMAINTAINER me\n")
    assert main(["check", str(ctx)]) == 1
    captured = capsys.readouterr()
    assert "error: MaintainerDeprecated" in captured.out
    assert "error: lint violation found for rules: MaintainerDeprecated" in captured.err


def test_syntax_error_exits_two_with_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "FROM alpine\nRUN <<EOF\necho\n")
    assert main(["check", str(ctx)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Dockerfile:2:")
    assert "Traceback" not in err


def test_invalid_check_directive_exits_two_with_excerpt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "# check=skip\nFROM alpine\n")
    assert main(["check", str(ctx)]) == 2
    err = capsys.readouterr().err
    assert 'Dockerfile:1:1: invalid check option "skip"' in err
    assert " >>> 1 | # check=skip" in err


def test_lowercase_dockerfile_is_the_fallback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "FROM alpine\nMAINTAINER me\n", name="dockerfile")
    assert main(["check", str(ctx)]) == 0
    assert "dockerfile:2:1: warning: MaintainerDeprecated" in capsys.readouterr().out


def test_missing_dockerfile_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no Dockerfile found")
    assert "hint:" in err
    assert main(["check", str(tmp_path / "absent")]) == 2


def test_dockerfile_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"FROM alpine\nCMD x\n")))
    assert main(["check", "-f", "-", str(tmp_path)]) == 0
    assert "Dockerfile:2:1: warning: JSONArgsRecommended" in capsys.readouterr().out


def test_file_flag_names_a_dockerfile_outside_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, 'FROM alpine\nCMD ["x"]\n')
    other = tmp_path / "Other.Dockerfile"
    other.write_text("FROM alpine\nMAINTAINER me\n")
    assert main(["check", "-f", str(other), str(ctx)]) == 0
    assert f"{other}:2:1: warning: MaintainerDeprecated" in capsys.readouterr().out


def test_dockerignore_feeds_copy_ignored_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "# check=experimental=CopyIgnoredFile\nFROM alpine\nCOPY secret.txt app.py /\n"
    ctx = _context(tmp_path, text)
    (ctx / ".dockerignore").write_text("secret.txt\n")
    assert main(["check", str(ctx)]) == 0
    out = capsys.readouterr().out
    assert 'Attempting to Copy file "secret.txt" that is excluded by .dockerignore' in out
    assert "app.py" not in out.split("see ")[0].splitlines()[0]


def test_dockerfile_specific_ignore_file_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "# check=experimental=CopyIgnoredFile\nFROM alpine\nCOPY a b /\n"
    ctx = _context(tmp_path, text)
    (ctx / ".dockerignore").write_text("a\n")
    (ctx / "Dockerfile.dockerignore").write_text("b\n")
    assert main(["check", str(ctx)]) == 0
    out = capsys.readouterr().out
    assert 'file "b"' in out
    assert 'file "a"' not in out


def test_bad_ignore_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "FROM alpine\n")
    (ctx / ".dockerignore").write_text("[a\n")
    assert main(["check", str(ctx)]) == 2
    assert capsys.readouterr().err.startswith("error: .dockerignore:1: bad pattern")


def test_compile_findings_are_included(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _context(tmp_path, "FROM alpine\nENV A=$NOPE\n")
    assert main(["check", "--build-arg", "UNUSED=1", str(ctx)]) == 0
    out = capsys.readouterr().out
    assert "Dockerfile:2:1: warning: UndefinedVar: Usage of undefined variable '$NOPE'" in out
    assert "warning: UnusedBuildArg" in out


def test_check_build_arg_replaces_the_directive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "# check=error=true\nFROM alpine\nMAINTAINER me\n")
    arg = "BUILDKIT_DOCKERFILE_CHECK=skip=MaintainerDeprecated"
    assert main(["check", "--build-arg", arg, str(ctx)]) == 0
    assert capsys.readouterr().out == "Check complete, no warnings found.\n"
    bad = "BUILDKIT_DOCKERFILE_CHECK=error=perhaps"
    assert main(["check", "--build-arg", bad, str(ctx)]) == 2
    assert "BUILDKIT_DOCKERFILE_CHECK" in capsys.readouterr().err


def test_unknown_target_exits_two_after_the_syntactic_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = _context(tmp_path, "FROM alpine AS Base\n")
    assert main(["check", "--target", "nope", str(ctx)]) == 2
    captured = capsys.readouterr()
    assert "StageNameCasing" in captured.out
    assert "nope" in captured.err


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _context(tmp_path, "# check=error=true\nFROM alpine\nEXPOSE 80/TCP\n")
    assert main(["check", "--format", "json", str(ctx)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["has_errors"] is True
    (warning,) = doc["warnings"]
    assert warning["rule"] == "ExposeProtoCasing"
    assert warning["level"] == "error"
    assert warning["location"] == {
        "file": "Dockerfile",
        "line": 3,
        "col": 8,
        "end_line": 3,
        "end_col": 14,
    }
    assert warning["url"].endswith("/expose-proto-casing/")
