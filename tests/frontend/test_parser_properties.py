"""Property tests for the Dockerfile parser: it never crashes, spans stay in the text,
and the fast path gives exactly what the Lark grammar gives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.errors import FrontendError
from frontend.nodes import Dockerfile, Instruction
from frontend.parser import _parse_lines, parse_dockerfile
from frontend.prelex import prelex
from solver.source import Span

FRAGMENTS = [
    "FROM", "RUN", "run", "COPY", "ADD", "ONBUILD", "CMD", "ENV", "HEALTHCHECK", "RUNN",
    " ", "  ", "\t", "\n", "\r\n", "\\", "`", "\\\n", "`\n", "#", "# escape=`\n",
    "# syntax=x\n", "--", "--mount=type=cache", "--from=a", '--x="a b"', "'", '"', "[", "]",
    '["a"]', '["a", "b"]', "[1]", "[null]", ",", "<<", "<<EOF", "<<-EOF", "<<'EOF'", "EOF",
    "\tEOF", "3<<A", "A", "$HOME", "=", "é", "\u00a0", "\u2028", "\x0b", "\x0c", "\ufeff", "x",
]

texts = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40
).map("".join)
COMMON = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _within(span: Span, lines: list[str]) -> bool:
    if not (1 <= span.line <= span.end_line <= len(lines)):
        return False
    if not 1 <= span.col <= len(lines[span.line - 1]) + 1:
        return False
    if not 1 <= span.end_col <= len(lines[span.end_line - 1]) + 1:
        return False
    return span.line < span.end_line or span.col <= span.end_col


def _spans(instruction: Instruction) -> list[Span]:
    out = [instruction.span, *(f.span for f in instruction.flags)]
    out += [s for s in (instruction.args_span,) if s is not None]
    for heredoc in instruction.heredocs:
        out.append(heredoc.span)
        if heredoc.opener_span is not None:
            out.append(heredoc.opener_span)
    if instruction.inner is not None:
        out += _spans(instruction.inner)
    return out


def _check(dockerfile: Dockerfile) -> None:
    assert dockerfile.source is not None
    lines = [line.rstrip("\r") for line in dockerfile.source.text.split("\n")]
    for directive in dockerfile.directives:
        assert _within(directive.span, lines)
    for instruction in dockerfile.instructions:
        for span in _spans(instruction):
            assert _within(span, lines), (span, instruction)


@COMMON
@given(texts)
def test_any_text_parses_or_raises_frontend_error(text: str) -> None:
    try:
        dockerfile = parse_dockerfile(text)
    except FrontendError as err:
        assert err.span is not None
        assert err.render()  # renders without raising
        return
    _check(dockerfile)


@COMMON
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_frontend_error(data: bytes) -> None:
    try:
        _check(parse_dockerfile(data))
    except FrontendError as err:
        assert err.render()


@COMMON
@given(texts)
def test_fast_path_equals_lark(text: str) -> None:
    try:
        pre = prelex(text)
    except FrontendError:
        return
    try:
        fast: object = _parse_lines(pre.lines, "Dockerfile")
    except FrontendError as err:
        fast = (type(err), err.message, err.span)
    try:
        slow: object = _parse_lines(pre.lines, "Dockerfile", False)
    except FrontendError as err:
        slow = (type(err), err.message, err.span)
    assert fast == slow
