"""Golden and rule tests for frontend/parser.py (with prelex, transformer and the grammar)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from builder.cli.cmd_debug_parse import render_json
from frontend.errors import DockerfileSyntaxError, FrontendError
from frontend.nodes import ExecForm, Form, Instruction, ShellForm
from frontend.parser import _parse_lines, parse_dockerfile, parse_inner
from frontend.prelex import prelex
from solver.source import Span

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "testdata" / "parser"
ERRORS = ROOT / "testdata" / "parser-errors"
GOLDEN = sorted(p.name for p in CASES.iterdir() if (p / "Dockerfile").is_file())
ERROR_CASES = sorted(p.name for p in ERRORS.iterdir() if (p / "Dockerfile").is_file())


def _regenerate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parser_cases", CASES / "regenerate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SUMMARY = _regenerate_module().summary


def parse(text: str) -> tuple[Instruction, ...]:
    return parse_dockerfile(text).instructions


# ------------------------------------------------------------------ golden suite


def test_golden_suite_is_large() -> None:
    assert len(GOLDEN) >= 150
    assert len(ERROR_CASES) >= 40


@pytest.mark.parametrize("case", GOLDEN)
def test_golden(case: str) -> None:
    data = (CASES / case / "Dockerfile").read_bytes()
    expected = (CASES / case / "expected.json").read_text()
    assert render_json(parse_dockerfile(data, "Dockerfile")) == expected


@pytest.mark.parametrize("case", GOLDEN)
def test_golden_summary_matches_hand_written(case: str) -> None:
    data = (CASES / case / "Dockerfile").read_bytes()
    summary = "\n".join(SUMMARY(i) for i in parse_dockerfile(data).instructions) + "\n"
    assert summary == (CASES / case / "summary.txt").read_text()


def _slice(lines: list[str], span: Span) -> str:
    """The text of a span on its first line (to the line's end if it goes on)."""
    end = span.end_col - 1 if span.end_line == span.line else None
    return lines[span.line - 1][span.col - 1 : end]


def _check_spans(instruction: Instruction, lines: list[str]) -> None:
    assert _slice(lines, instruction.span).startswith(instruction.keyword_text)
    assert instruction.span.end_line >= instruction.span.line
    for flag in instruction.flags:
        if flag.span.line == flag.span.end_line:
            assert _slice(lines, flag.span) == flag.text
    span = instruction.args_span
    if span is not None and span.line == span.end_line:
        text = _slice(lines, span)
        if isinstance(instruction.args, ShellForm):
            assert text == instruction.args.text
        else:
            assert json.loads(text) == list(instruction.args.args)
    for heredoc in instruction.heredocs:
        assert heredoc.opener_span is not None
        assert "<<" in _slice(lines, heredoc.opener_span)
        terminator = lines[heredoc.span.end_line - 1]
        assert (terminator.lstrip("\t") if heredoc.chomp else terminator) == heredoc.name
    if instruction.inner is not None:
        _check_spans(instruction.inner, lines)


@pytest.mark.parametrize("case", GOLDEN)
def test_golden_spans_point_at_the_source(case: str) -> None:
    """Independent of expected.json: every span selects the text it claims."""
    dockerfile = parse_dockerfile((CASES / case / "Dockerfile").read_bytes())
    assert dockerfile.source is not None
    lines = [line.rstrip("\r") for line in dockerfile.source.text.split("\n")]
    for instruction in dockerfile.instructions:
        _check_spans(instruction, lines)


@pytest.mark.parametrize("case", GOLDEN)
def test_fast_path_equals_lark(case: str) -> None:
    pre = prelex((CASES / case / "Dockerfile").read_bytes().decode().removeprefix("\ufeff"))
    assert _parse_lines(pre.lines, "Dockerfile") == _parse_lines(pre.lines, "Dockerfile", False)


@pytest.mark.parametrize("case", ERROR_CASES)
def test_error_rendering(case: str) -> None:
    data = (ERRORS / case / "Dockerfile").read_bytes()
    with pytest.raises(DockerfileSyntaxError) as info:
        parse_dockerfile(data, "Dockerfile")
    assert info.value.render() + "\n" == (ERRORS / case / "expected.txt").read_text()


# ------------------------------------------------------------------ rules, one by one


def test_keywords_are_case_insensitive_and_keep_their_spelling() -> None:
    (a, b) = parse("from alpine\nRuN echo\n")
    assert (a.keyword, a.keyword_text) == ("FROM", "from")
    assert (b.keyword, b.keyword_text) == ("RUN", "RuN")


def test_hash_starts_a_comment_only_at_line_start() -> None:
    (_, run) = parse("FROM a\nRUN echo a # b\n")
    assert run.args == ShellForm("echo a # b")


def test_comment_lines_inside_continuation_are_removed_and_recorded() -> None:
    (_, run) = parse("FROM a\nRUN a \\\n  # one\n# two\n  b\n")
    assert run.args == ShellForm("a   b")
    assert run.comment_lines == (3, 4)
    assert run.span.end_line == 5


def test_empty_continuation_lines_are_skipped_and_recorded() -> None:
    (_, run) = parse("FROM a\nRUN a \\\n\n   \n  b\n")
    assert run.args == ShellForm("a   b")
    assert run.empty_continuation_lines == (3, 4)


def test_empty_line_does_not_end_a_continuation() -> None:
    (_, run) = parse("FROM a\nRUN a \\\n\nRUN b\n")
    assert run.args == ShellForm("a RUN b")


def test_continuation_open_at_eof_ends_the_instruction() -> None:
    (_, run) = parse("FROM a\nRUN a \\")
    assert run.args == ShellForm("a")


def test_escaped_escape_is_not_a_continuation() -> None:
    (_, a, b) = parse("FROM a\nRUN echo \\\\\nRUN b\n")
    assert a.args == ShellForm("echo \\\\")
    assert b.args == ShellForm("b")


def test_backtick_escape_makes_backslash_literal() -> None:
    df = parse_dockerfile("# escape=`\nFROM a\nRUN dir c:\\\nRUN a `\n  b\n")
    assert df.escape == "`"
    assert [i.args for i in df.instructions[1:]] == [ShellForm("dir c:\\"), ShellForm("a   b")]


def test_invalid_json_silently_becomes_shell_form() -> None:
    (_, run) = parse('FROM a\nRUN ["c:\\windows\\x.exe"]\n')
    assert run.form is Form.SHELL
    assert run.args == ShellForm('["c:\\windows\\x.exe"]')


def test_valid_json_of_strings_is_exec_form_for_any_instruction() -> None:
    (_, cmd, env) = parse('FROM a\nCMD ["a", "b c"]\nENV ["x"]\n')
    assert cmd.args == ExecForm(("a", "b c"))
    assert env.args == ExecForm(("x",))


def test_json_array_of_non_strings_is_an_error_where_buildkit_says_so() -> None:
    with pytest.raises(DockerfileSyntaxError, match="strings only"):
        parse('FROM a\nCMD ["sleep", 1]\n')
    (_, label) = parse("FROM a\nLABEL [1]\n")
    assert label.args == ShellForm("[1]")


def test_exec_form_json_may_span_continuation_lines() -> None:
    (_, run) = parse('FROM a\nRUN ["echo", \\\n  "hi"]\n')
    assert run.args == ExecForm(("echo", "hi"))
    assert run.args_span == Span("Dockerfile", 2, 5, 3, 8)


def test_flags_are_parsed_with_spans_on_continuation_lines() -> None:
    (_, run) = parse("FROM a\nRUN --network=none \\\n    --mount=type=cache,target=/c make\n")
    assert [(f.name, f.value) for f in run.flags] == [
        ("network", "none"),
        ("mount", "type=cache,target=/c"),
    ]
    assert run.flags[1].span == Span("Dockerfile", 3, 5, 3, 33)
    assert run.args == ShellForm("make")


def test_flag_quotes_are_removed_and_text_kept() -> None:
    (_, copy) = parse('FROM a\nCOPY --chown="a b" --link x y\n')
    assert (copy.flags[0].value, copy.flags[0].text) == ("a b", '--chown="a b"')
    assert (copy.flags[1].name, copy.flags[1].value) == ("link", None)


def test_double_dash_ends_the_flags() -> None:
    (_, run) = parse("FROM a\nRUN --network=none -- --verbose\n")
    assert [f.name for f in run.flags] == ["network"]
    assert run.args == ShellForm("--verbose")


def test_heredocs_in_order_with_modes() -> None:
    (_, run) = parse("FROM a\nRUN <<-A cat && <<'B' cat\n\t\tx\n\tA\n$y\nB\n")
    assert [(h.name, h.body, h.expand, h.chomp) for h in run.heredocs] == [
        ("A", "x\n", True, True),
        ("B", "$y\n", False, False),
    ]
    assert run.span.end_line == 6


def test_heredocs_only_for_run_copy_add() -> None:
    (_, cmd, run) = parse("FROM a\nCMD <<EOF\nRUN x\n")
    assert cmd.heredocs == () and run.args == ShellForm("x")


def test_unterminated_heredoc_points_at_its_opener() -> None:
    with pytest.raises(DockerfileSyntaxError, match="unterminated heredoc") as info:
        parse("FROM a\nCOPY <<EOF /x\nbody\n")
    assert info.value.span == Span("Dockerfile", 2, 6, 2, 11)


def test_spans_cover_keyword_to_last_line() -> None:
    (frm,) = parse("  FROM alpine  \n")
    assert frm.span == Span("Dockerfile", 1, 3, 1, 16)
    assert frm.args_span == Span("Dockerfile", 1, 8, 1, 14)


def test_comments_before_an_instruction_are_kept() -> None:
    (frm, run) = parse("# base image\nFROM a\n# one\n#\n# two\nRUN b\n")
    assert frm.comments == ("base image",)
    assert run.comments == ("two",)


def test_directive_lines_are_not_comments() -> None:
    (frm,) = parse("# syntax=x\n# escape=`\nFROM a\n")
    assert frm.comments == ()


def test_bytes_and_text_give_the_same_tree() -> None:
    text = "FROM a\nRUN b \\\n  c\n"
    assert parse_dockerfile(text) == parse_dockerfile(text.encode())


def test_source_file_records_name_and_digest() -> None:
    df = parse_dockerfile(b"FROM a\n", "sub/Dockerfile.dev")
    assert df.source is not None
    assert df.source.name == "sub/Dockerfile.dev"
    assert df.source.digest.startswith("sha256:") and len(df.source.digest) == 71
    assert df.instructions[0].span.file == "sub/Dockerfile.dev"


def test_syntax_error_carries_source_text_for_rendering() -> None:
    with pytest.raises(FrontendError) as info:
        parse_dockerfile("FROM a\nRUNN x\n", "df")
    assert info.value.source_text == "FROM a\nRUNN x\n"
    assert info.value.render().splitlines()[0] == "df:2:1: unknown instruction: RUNN"


def test_every_reference_instruction_is_known() -> None:
    keywords = "FROM ARG ENV LABEL RUN CMD ENTRYPOINT SHELL COPY ADD WORKDIR USER EXPOSE VOLUME"
    keywords += " STOPSIGNAL HEALTHCHECK ONBUILD MAINTAINER"
    text = "".join(
        f"{k} {'RUN x' if k == 'ONBUILD' else 'x y'}\n" for k in keywords.split()
    )
    assert [i.keyword for i in parse(text)] == keywords.split()


def test_onbuild_carries_its_parsed_trigger() -> None:
    (_, onbuild) = parse("FROM a\nONBUILD COPY --from=b /x /y\n")
    assert onbuild.args == ShellForm("COPY --from=b /x /y")
    assert onbuild.inner is not None
    assert onbuild.inner.keyword == "COPY"
    assert onbuild.inner.flags[0].span == Span("Dockerfile", 2, 14, 2, 22)


# ------------------------------------------------------------------ parse_inner


def test_parse_inner_positions_the_trigger() -> None:
    inner = parse_inner("RUN --network=none make", Span("Dockerfile", 7, 9, 7, 32), "\\")
    assert inner.keyword == "RUN"
    assert inner.span.line == 7 and inner.span.col == 9
    assert inner.flags[0].span == Span("Dockerfile", 7, 13, 7, 27)


def test_parse_inner_reads_image_trigger_with_heredoc_body() -> None:
    inner = parse_inner("RUN <<EOF\necho hi\nEOF", Span("image", 1, 1, 1, 2), "\\")
    assert [(h.name, h.body) for h in inner.heredocs] == [("EOF", "echo hi\n")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ONBUILD RUN x", "Chaining ONBUILD"),
        ("FROM alpine", "FROM isn't allowed"),
        ("maintainer me", "MAINTAINER isn't allowed"),
        ("", "exactly one instruction"),
        ("RUN a\nRUN b", "exactly one instruction"),
    ],
)
def test_parse_inner_rejects_bad_triggers(text: str, message: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match=message):
        parse_inner(text, Span("Dockerfile", 3, 9, 3, 10), "\\")


# ------------------------------------------------------------------ Lark errors


def test_lark_errors_become_positioned_syntax_errors() -> None:
    from frontend.prelex import LogicalLine

    # prelex never hands the grammar a line starting with a blank; force one
    line = LogicalLine(" RUN x", (0,), (4,), (3,), 4, 9)
    with pytest.raises(DockerfileSyntaxError, match="unexpected arguments 'RUN x'") as info:
        _parse_lines((line,), "df", fast=False)
    assert info.value.span == Span("df", 4, 3, 4, 4)
    assert info.value.hint is not None and info.value.hint.startswith("expected one of")


def test_transformer_errors_keep_their_type_through_lark() -> None:
    pre = prelex("FROM a\nRUNN x\n")
    with pytest.raises(DockerfileSyntaxError, match="unknown instruction: RUNN"):
        _parse_lines(pre.lines, "Dockerfile", fast=False)
