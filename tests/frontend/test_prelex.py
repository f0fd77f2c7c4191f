"""Tests for frontend/prelex.py: logical lines, continuations, comments, heredocs, positions."""

from __future__ import annotations

import pytest

from frontend.errors import DockerfileSyntaxError
from frontend.prelex import Origin, prelex
from solver.source import Span


def texts(source: str) -> list[str]:
    return [line.text for line in prelex(source).lines]


def test_one_logical_line_per_instruction() -> None:
    assert texts("FROM a\nRUN b\n") == ["FROM a", "RUN b"]


def test_leading_whitespace_dropped_on_first_line_kept_on_continuations() -> None:
    assert texts("   RUN a \\\n   b\n") == ["RUN a    b"]


def test_continuation_removes_escape_and_trailing_blanks_only() -> None:
    assert texts("RUN a\\  \t\nb\n") == ["RUN ab"]


def test_escaped_escape_does_not_continue() -> None:
    assert texts("RUN a\\\\\nRUN b\n") == ["RUN a\\\\", "RUN b"]


def test_lone_escape_line_continues() -> None:
    assert texts("RUN a \\\n\\\nb\n") == ["RUN a b"]


def test_comment_line_cannot_continue() -> None:
    assert texts("# c \\\nRUN a\n") == ["RUN a"]


def test_comment_and_blank_lines_inside_continuation() -> None:
    (line,) = prelex("RUN a \\\n# c\n\n  \t\n  # d\nb\n").lines
    assert line.text == "RUN a b"
    assert line.comment_lines == (2, 5)
    assert line.empty_lines == (3, 4)
    assert (line.end_line, line.end_col) == (6, 2)


def test_continuation_at_end_of_file() -> None:
    (line,) = prelex("RUN a \\\n").lines
    assert line.text == "RUN a " and line.end_line == 1


def test_crlf_and_bom() -> None:
    pre = prelex("\ufeffFROM a\r\nRUN b \\\r\n c\r\n")
    assert [line.text for line in pre.lines] == ["FROM a", "RUN b  c"]
    assert pre.text.startswith("FROM")


def test_backtick_escape_from_directive() -> None:
    assert texts("# escape=`\nRUN a `\n b\nRUN c \\\n") == ["RUN a  b", "RUN c \\"]


def test_positions_map_back_through_continuations() -> None:
    (line,) = prelex("  RUN a \\\n  bc\n").lines
    assert line.position(0) == (1, 3)
    assert line.position(line.text.index("bc")) == (2, 3)
    assert line.span("f", line.text.index("a"), len(line.text)) == Span("f", 1, 7, 2, 5)


def test_origin_shifts_lines_and_first_line_columns() -> None:
    (line,) = prelex("RUN a \\\nb", Origin("img", 10, 9), escape="\\").lines
    assert line.position(0) == (10, 9)
    assert line.position(line.text.index("b")) == (11, 1)


def test_heredoc_body_is_taken_verbatim() -> None:
    (line,) = prelex("RUN <<EOF\n# kept \\\n\n  x\nEOF\n").lines
    (heredoc,) = line.heredocs
    assert heredoc.body == "# kept \\\n\n  x\n"
    assert heredoc.span == Span("Dockerfile", 2, 1, 5, 4)
    assert (line.end_line, line.end_col) == (5, 4)


def test_chomp_strips_leading_tabs_of_body_and_terminator() -> None:
    (line,) = prelex("RUN <<-EOF\n\t\ta\n \tb\n\t\tEOF\n").lines
    assert line.heredocs[0].body == "a\n \tb\n"


@pytest.mark.parametrize(
    ("opener", "name", "expand"),
    [
        ("<<EOF", "EOF", True),
        ("<<'EOF'", "EOF", False),
        ('<<"EOF"', "EOF", False),
        ("<<E'O'F", "EOF", False),
        ("<<\\EOF", "EOF", True),
    ],
)
def test_quoted_delimiters_disable_expansion(opener: str, name: str, expand: bool) -> None:
    (line,) = prelex(f"RUN cat {opener}\nx\n{name}\n").lines
    (heredoc,) = line.heredocs
    assert (heredoc.name, heredoc.expand) == (name, expand)


def test_file_descriptor_prefix() -> None:
    (line,) = prelex("RUN cmd 3<<A 4<<-B\na\nA\nb\nB\n").lines
    assert [(h.name, h.fd, h.chomp) for h in line.heredocs] == [("A", 3, False), ("B", 4, True)]


@pytest.mark.parametrize("keyword", ["RUN", "copy", "Add", "ONBUILD RUN"])
def test_heredocs_recognised_for(keyword: str) -> None:
    (line,) = prelex(f"{keyword} <<EOF\nx\nEOF\n").lines
    assert len(line.heredocs) == 1


@pytest.mark.parametrize(
    "keyword", ["CMD", "ENTRYPOINT", "HEALTHCHECK CMD", "LABEL", "ONBUILD CMD"]
)
def test_heredocs_not_recognised_for(keyword: str) -> None:
    lines = prelex(f"{keyword} <<EOF\nRUN x\nEOF\n").lines
    assert [line.heredocs for line in lines] == [(), (), ()]


@pytest.mark.parametrize(
    "text", ["RUN echo '<<EOF'", 'RUN echo "<<EOF"', "RUN a<<EOF", "RUN <<<EOF"]
)
def test_not_a_heredoc_opener(text: str) -> None:
    (line, _) = prelex(f"{text}\nRUN y\n").lines
    assert line.heredocs == ()


def test_unterminated_quote_hides_heredocs_as_in_buildkit() -> None:
    (line, _) = prelex("RUN echo 'oops <<EOF\nRUN y\n").lines
    assert line.heredocs == ()


def test_unterminated_heredoc_is_an_error_at_the_opener() -> None:
    with pytest.raises(DockerfileSyntaxError, match="unterminated heredoc 'B'") as info:
        prelex("FROM a\nRUN <<A <<B\nA\nbody\n")
    assert info.value.span == Span("Dockerfile", 2, 9, 2, 12)


def test_preceding_comments_recorded() -> None:
    (first, second) = prelex("# a\n# b\nFROM x\n\n# c\nRUN y\n").lines
    assert first.comments == ("a", "b")
    assert second.comments == ("c",)
