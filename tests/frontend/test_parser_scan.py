"""The parser's fast scan loop (``frontend.scan.scan_lines``) against the
reference pipeline: ``prelex`` then the Lark grammar for every line. Same
nodes, same spans, same first error, on the golden cases, the benchmark's
corpus and arbitrary text."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.errors import FrontendError
from frontend.nodes import Instruction
from frontend.parser import _grammar, _parse_lines, parse_dockerfile
from frontend.prelex import LogicalLine, Origin, Reader, prelex
from frontend.scan import Grammar, scan_lines

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.name for p in (ROOT / "testdata" / "parser").iterdir() if p.is_dir())
ERRORS = sorted(p.name for p in (ROOT / "testdata" / "parser-errors").iterdir() if p.is_dir())


def _shapes() -> dict[str, tuple[str, bool]]:
    """testdata/parser-scan/shapes.txt: name → (text, must the scan take it whole)."""
    data = (ROOT / "testdata" / "parser-scan" / "shapes.txt").read_text(encoding="utf-8")
    parts = re.split(r"^=== (\S+)( \[fast\])?\n", data, flags=re.MULTILINE)
    return {
        name: (chunk[:-1], fast is not None)
        for name, fast, chunk in zip(parts[1::3], parts[2::3], parts[3::3], strict=True)
    }


SHAPES = _shapes()


def _is_utf8(case: str) -> bool:
    try:
        (ROOT / "testdata" / "parser-errors" / case / "Dockerfile").read_bytes().decode()
    except UnicodeDecodeError:
        return False  # rejected while decoding, before any scanning
    return True


# Pieces of the lines the fast loop takes, and of the ones it must leave alone.
FRAGMENTS = [
    "FROM", "RUN", "run", "COPY", "ADD", "ONBUILD", "CMD", "ENV", "EXPOSE", "RUNN", "ﬆOPSIGNAL",
    " ", "  ", "\t", "\n", "\r\n", "\\", "`", "\\\n", "`\n", "#", "# c\n", "# escape=`\n",
    "--", "-", "--mount=type=cache", "--from=a", "--a=b --c", '--x="a b"', "--x='a'", "--a\\ b",
    "'", '"', "[", "]", '["a"]', '["a", "b"]', '[ "a" ,"b" ]', '["a\\n"]', '["\\ud800"]', "[]",
    "[1]", "[null]", ",", "<<", "<<EOF", "<<-EOF", "EOF", "\tEOF", "A", "$HOME", "=", "é",
    "\u00a0", "\u0085", "\u2028", "\u3000", "\x0b", "\x0c", "\x1c", "\ufeff", "x", "\ud800",
]
texts = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40
).map("".join)


def _outcome(run: object) -> object:
    """The instructions, or the error as ("error", type, message, span)."""
    try:
        return run()  # type: ignore[operator]
    except FrontendError as err:
        return ("error", type(err), err.message, err.span)


def _reference(text: str) -> object:
    def run() -> object:
        lines = prelex(text.removeprefix("\ufeff")).lines
        return _parse_lines(lines, "Dockerfile", False)

    return _outcome(run)


def _scanned(text: str | bytes) -> object:
    result = _outcome(lambda: parse_dockerfile(text).instructions)
    if isinstance(result, tuple) and result[-2:-1] == ("file with no instructions",):
        return ()  # parse_dockerfile's own check, after the parse
    return result


@pytest.mark.parametrize("case", CASES)
def test_golden_cases_scan_like_lark(case: str) -> None:
    text = (ROOT / "testdata" / "parser" / case / "Dockerfile").read_bytes().decode()
    assert _scanned(text) == _reference(text)


@pytest.mark.parametrize("case", [c for c in ERRORS if _is_utf8(c)])
def test_error_cases_fail_like_lark(case: str) -> None:
    text = (ROOT / "testdata" / "parser-errors" / case / "Dockerfile").read_bytes().decode()
    assert _scanned(text) == _reference(text)


def test_benchmark_corpus_scans_like_lark() -> None:
    spec = importlib.util.spec_from_file_location("bench_parse", ROOT / "bench" / "parse.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for data in bench.corpus(40, seed=7):
        text = data.decode()
        assert _scanned(text) == _reference(text)


def test_heredoc_error_wins_over_an_earlier_parse_error() -> None:
    # prelex reads the whole file first, so its error is the one reported
    text = "RUNN x\nRUN <<EOF\nbody\n"
    assert _scanned(text) == _reference(text)
    assert _scanned(text)[2].startswith("unterminated heredoc")  # type: ignore[index]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_scans_like_lark(text: str) -> None:
    scanned, reference = _scanned(text), _reference(text)
    if _is_error(reference):
        # Lark over the whole text may report a later line's error first (e.g. for
        # "  b\n\\\n  b \\"); the scan reports the first line's, like BuildKit.
        # Which error comes first is pinned by the golden error cases above.
        assert _is_error(scanned), scanned
    else:
        assert scanned == reference


def _is_error(outcome: object) -> bool:
    return isinstance(outcome, tuple) and len(outcome) == 4 and outcome[0] == "error"


def test_first_error_is_the_first_lines_error() -> None:
    text = "  b\n\\\n  b \\"
    scanned = _scanned(text)
    assert _is_error(scanned)
    assert scanned[2] == "unknown instruction: b"  # type: ignore[index]
    assert scanned[3].line == 1  # type: ignore[index]


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_blocks_and_heredocs_scan_like_lark(case: str) -> None:
    text = SHAPES[case][0]
    assert _scanned(text) == _reference(text)


def _no_general_way(lines: tuple[LogicalLine, ...], name: str) -> tuple[Instruction, ...]:
    raise AssertionError(f"line {lines[0].lines[0]} went the general way: {lines[0].text!r}")


@pytest.mark.parametrize("case", sorted(c for c, (_, fast) in SHAPES.items() if fast))
def test_common_blocks_and_heredocs_take_the_fast_way(case: str) -> None:
    text = SHAPES[case][0]
    grammar = _grammar()
    strict = Grammar(grammar.scan, grammar.line, grammar.flag, _no_general_way)
    fast = scan_lines(Reader(text, Origin(), None), "Dockerfile", strict)
    assert fast == _reference(text)


# Lines of continuation blocks and heredocs, the shapes the scan's block and
# heredoc expressions take whole, and their near misses.
LINES = [
    "RUN a \\", "RUN a", "run b \\  ", "COPY x \\\\", "RUN \\", "RUN --f=1 \\", "CMD [\"a\", \\",
    "  b \\", "  b", "b  ", "\\", "  \\", "\\ ", "  # c", "# c \\", "\t# c", "", "  ", "\x1c# c",
    "RUN <<EOF", "RUN cat <<EOF > f", "COPY <<-'X' /y", 'ADD <<"X" /y', "RUN <<A <<B", "RUN 3<<EOF",
    "EOF", "\tEOF", "X", "\tX", "A", "B", "EOF ", "body", "ONBUILD RUN <<EOF", "# escape=`",
    "RUN a `", "COPY --link a \\", "RUN --x=1 <<EOF",
]
blocks = st.lists(st.sampled_from(LINES), max_size=14).map("\n".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks, st.booleans())
def test_any_block_or_heredoc_scans_like_lark(text: str, final_newline: bool) -> None:
    text += "\n" if final_newline else ""
    assert _scanned(text) == _reference_by_line(text)


def _reference_by_line(text: str) -> object:
    """``_reference``, with Lark run on one logical line at a time: on the
    whole text at once, a logical line starting with blanks (a lone
    continuation line, then ``  b``) makes Lark report a later line's error
    first (``"  b\\n\\\\\\n  b \\\\"``), in the old scan as in this one."""

    def run() -> object:
        lines = prelex(text.removeprefix("\ufeff")).lines
        return tuple(node for line in lines for node in _parse_lines((line,), "Dockerfile", False))

    return _outcome(run)
