"""The parser's fast scan loop (``frontend.parser._scan_lines``) against the
reference pipeline: ``prelex`` then the Lark grammar for every line. Same
nodes, same spans, same first error, on the golden cases, the benchmark's
corpus and arbitrary text."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.errors import FrontendError
from frontend.parser import _parse_lines, parse_dockerfile
from frontend.prelex import prelex

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.name for p in (ROOT / "testdata" / "parser").iterdir() if p.is_dir())
ERRORS = sorted(p.name for p in (ROOT / "testdata" / "parser-errors").iterdir() if p.is_dir())


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
    assert _scanned(text) == _reference(text)
