"""frontend/shellpatterns.py: the backtracking-free glob matcher agrees with the
Go-style regexp BuildKit builds, and hostile patterns stay fast."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.errors import ExpansionError
from frontend.shellpatterns import Glob, replace_all_matches, trim_prefix, trim_suffix
from frontend.shellwords import expand

_TOKENS = st.sampled_from(["*", "?", "a", "b", "\\*", "\\?", "\\\\", "\n"])
_TEXT = st.text(alphabet="ab*?\\\n", max_size=12)


def _regex(pattern: str, *, greedy: bool) -> re.Pattern[str]:
    """What BuildKit's ``convertShellPatternToRegex`` builds; Python's re is
    leftmost-first like Go's, so it is the oracle for small inputs."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*" if greedy else ".*?")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out))


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=6).map("".join), _TEXT, st.booleans())
def test_prefix_match_agrees_with_go_style_regex(pattern: str, text: str, greedy: bool) -> None:
    expected = _regex(pattern, greedy=greedy).match(text)
    got = Glob.compile(pattern, greedy=greedy).match_prefix(text)
    assert got == (expected.end() if expected else None)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=5).map("".join), _TEXT)
def test_scanning_matches_agree_with_go_style_regex(pattern: str, text: str) -> None:
    oracle, pos, expected = _regex(pattern, greedy=True), 0, []
    while pos <= len(text) and (m := oracle.search(text, pos)) is not None:
        expected.append(m.span())
        pos = m.end() + 1 if m.end() == m.start() else m.end()
    assert list(Glob.compile(pattern, greedy=True).finditer(text)) == expected


def test_star_and_question_mark_do_not_cross_newlines() -> None:
    assert trim_prefix("*b", "a\nb", greedy=True) == "a\nb"
    assert trim_prefix("a?b", "a\nb", greedy=False) == "a\nb"
    assert trim_suffix("*", "x\ny", greedy=True) == "x\n"


def test_replace_all_uses_go_template_for_the_match() -> None:
    assert replace_all_matches(Glob.compile("b", greedy=True), "abab", "[$0]") == "a[b]a[b]"


def test_bad_escape_in_a_pattern_is_an_error() -> None:
    with pytest.raises(ExpansionError, match="invalid escape"):
        Glob.compile("a\\q", greedy=False)


@pytest.mark.parametrize(
    "word",
    ["${A#*a*a*a*a*a*b}", "${A##*a*a*a*a*b}", "${A%a*a*a*a*a*b}", "${A//*a*a*a*b/x}",
     "${A/?*?*?*?*b/x}"],
)
def test_patterns_that_make_backtracking_regexes_explode_stay_fast(word: str) -> None:
    env = {"A": "a" * 20_000}
    started = time.perf_counter()
    assert expand(word, env).text == "a" * 20_000
    assert time.perf_counter() - started < 5
