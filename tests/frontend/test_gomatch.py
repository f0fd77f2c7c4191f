"""Go pattern syntax shared by .dockerignore and COPY wildcards; cases in
testdata/gomatch/translate.txt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from frontend.gomatch import (
    COPY_DIALECT,
    IGNORE_DIALECT,
    Dialect,
    GoPatternError,
    TokenKind,
    tokenize,
    translate,
)

CASES = Path(__file__).resolve().parents[2] / "testdata" / "gomatch" / "translate.txt"
DIALECTS = {"copy": COPY_DIALECT, "ignore": IGNORE_DIALECT}


def _cases() -> list[object]:
    out: list[object] = []
    for number, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        dialect, pattern, want = (field.strip() for field in line.split("|"))
        case_id = f"{number}:{dialect}:{pattern}"
        out.append(pytest.param(DIALECTS[dialect], pattern, want, id=case_id))
    return out


@pytest.mark.parametrize(("dialect", "pattern", "want"), _cases())
def test_translate_follows_table(dialect: Dialect, pattern: str, want: str) -> None:
    if want.startswith("error: "):
        with pytest.raises(GoPatternError) as info:
            translate(pattern, dialect)
        assert str(info.value) == want.removeprefix("error: ")
    else:
        assert translate(pattern, dialect) == want


def test_double_star_is_one_token_only_in_the_ignore_dialect() -> None:
    ignore = [t.kind for t in tokenize("**/a/**", IGNORE_DIALECT)]
    assert ignore == [TokenKind.ANY_DIRS, TokenKind.LITERAL, TokenKind.LITERAL, TokenKind.ANY_TAIL]
    copy = [t.kind for t in tokenize("**/a", COPY_DIALECT)]
    assert copy == [TokenKind.STAR, TokenKind.STAR, TokenKind.LITERAL, TokenKind.LITERAL]


def test_tokens_keep_their_source_text() -> None:
    tokens = tokenize("a\\*[^x-z]**/b", IGNORE_DIALECT)
    assert "".join(t.text for t in tokens) == "a\\*[^x-z]**/b"
    assert [t.text for t in tokens] == ["a", "\\*", "[^x-z]", "**/", "b"]


def test_star_and_question_never_cross_a_slash() -> None:
    regex = re.compile(translate("a*?", COPY_DIALECT) + r"\Z")
    assert regex.match("abcd") and not regex.match("ab/d") and not regex.match("a/")


def test_pattern_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="trailing backslash"):
        tokenize("x\\", COPY_DIALECT)


@pytest.mark.parametrize("dialect", list(DIALECTS.values()), ids=list(DIALECTS))
def test_regex_metacharacters_are_literal(dialect: Dialect) -> None:
    regex = re.compile(translate("(a)+{2}.$|[\\^.]", dialect) + r"\Z")
    assert regex.match("(a)+{2}.$|^") and regex.match("(a)+{2}.$|.")
    assert not regex.match("aa{2}x$|^")
