"""Tests for frontend/directives.py: BuildKit's directive rules, one test each."""

from __future__ import annotations

import pytest

from frontend.directives import parse_directives
from frontend.errors import DockerfileSyntaxError
from solver.source import Span


def test_directives_are_read_from_the_first_lines() -> None:
    block = parse_directives(["# syntax=docker/dockerfile:1", "# escape=`", "FROM a"])
    assert [(d.name, d.value) for d in block.directives] == [
        ("syntax", "docker/dockerfile:1"),
        ("escape", "`"),
    ]
    assert block.escape == "`"
    assert block.line_count == 2


@pytest.mark.parametrize(
    "first",
    ["FROM a", "# a comment", "", "   "],
    ids=["instruction", "comment", "blank", "whitespace"],
)
def test_directive_after_anything_else_is_a_comment(first: str) -> None:
    block = parse_directives([first, "# escape=`", "FROM a"])
    assert block.directives == ()
    assert block.escape == "\\"


def test_unknown_directive_is_a_comment_and_ends_the_block() -> None:
    block = parse_directives(["# foo=bar", "# escape=`"])
    assert block.directives == () and block.line_count == 0


def test_keys_are_case_insensitive_and_values_kept_as_written() -> None:
    block = parse_directives(["#  CHECK  =  skip=JSONArgsRecommended  "])
    (directive,) = block.directives
    assert (directive.name, directive.value) == ("check", "skip=JSONArgsRecommended")


def test_leading_whitespace_before_a_directive_is_allowed() -> None:
    (directive,) = parse_directives(["\t# escape=`"]).directives
    assert directive.span == Span("Dockerfile", 1, 2, 1, 12)


@pytest.mark.parametrize("name", ["syntax", "escape", "check"])
def test_a_repeated_directive_is_an_error(name: str) -> None:
    value = "`" if name == "escape" else "x"
    with pytest.raises(DockerfileSyntaxError, match=f"only one {name} parser directive"):
        parse_directives([f"# {name}={value}", f"# {name.upper()}={value}"], "df")


def test_repeat_check_compares_lowercased_keys() -> None:
    with pytest.raises(DockerfileSyntaxError) as info:
        parse_directives(["# Syntax=a", "#syntax=b"], "df")
    assert info.value.span == Span("df", 2, 2, 2, 8)


@pytest.mark.parametrize("value", ["x", "\\\\", "``", "'"])
def test_escape_must_be_backslash_or_backtick(value: str) -> None:
    with pytest.raises(DockerfileSyntaxError, match="invalid escape token") as info:
        parse_directives([f"# escape={value}"], "df")
    assert info.value.span == Span("df", 1, 10, 1, 10 + len(value))
    assert info.value.hint is not None


def test_directive_needs_a_value() -> None:
    assert parse_directives(["# escape=", "FROM a"]).directives == ()


def test_directive_key_must_start_with_a_letter() -> None:
    assert parse_directives(["# 1escape=`"]).directives == ()
