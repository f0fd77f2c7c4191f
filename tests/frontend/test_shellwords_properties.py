"""Property tests for frontend/shellwords.py (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.errors import ExpansionError
from frontend.shellwords import expand, expand_raw, expand_words, split_words

ESCAPES = st.sampled_from(["\\", "`"])
ENV = st.dictionaries(
    st.sampled_from(["a", "b", "A_1", "x"]), st.text(alphabet="ab */$'\"\\`{}", max_size=6)
)
# Text built from the characters the lexer treats specially, and a few others.
SHELLISH = st.text(alphabet="ab $${}:-+?#%/\\`'\" *._0\t\né", max_size=24)


@settings(max_examples=300, deadline=None)
@given(text=st.text(), escape=ESCAPES)
def test_text_without_dollar_quotes_or_escape_is_unchanged(text: str, escape: str) -> None:
    plain = "".join(ch for ch in text if ch not in "$'\"" + escape)
    assert expand(plain, {}, escape).text == plain
    assert expand(plain, {"a": "1"}, escape).used == frozenset()


@settings(max_examples=300, deadline=None)
@given(text=SHELLISH, env=ENV, escape=ESCAPES)
def test_expand_raises_only_expansion_errors(text: str, env: dict[str, str], escape: str) -> None:
    for run in (
        lambda: expand(text, env, escape),
        lambda: expand_words(text, env, escape),
        lambda: expand_raw(text, env),
    ):
        try:
            run()
        except ExpansionError as err:
            assert str(err) and "\n" not in str(err)


@settings(max_examples=200, deadline=None)
@given(text=SHELLISH, env=ENV, escape=ESCAPES)
def test_unset_names_are_a_subset_of_used_names(
    text: str, env: dict[str, str], escape: str
) -> None:
    try:
        result = expand(text, env, escape)
    except ExpansionError:
        return
    assert result.unset <= result.used
    assert not (result.unset & env.keys())


@settings(max_examples=200, deadline=None)
@given(text=SHELLISH, env=ENV, escape=ESCAPES)
def test_words_join_to_the_expanded_text_for_unquoted_input(
    text: str, env: dict[str, str], escape: str
) -> None:
    plain = "".join(ch for ch in text if ch not in "'\"" + escape)
    try:
        words = expand_words(plain, env, escape).words
        joined = expand(plain, env, escape).text
    except ExpansionError:
        return
    assert all(words)
    assert "".join(words) == "".join(joined.split())


@settings(max_examples=300, deadline=None)
@given(text=SHELLISH, escape=ESCAPES)
def test_split_words_never_fails_and_never_yields_spaces_outside_quotes(
    text: str, escape: str
) -> None:
    for word in split_words(text, escape):
        assert word
        if not any(q in word for q in "'\"" + escape):
            assert not any(ch.isspace() for ch in word)


@pytest.mark.parametrize("escape", ["\\", "`"])
def test_quoted_whitespace_is_never_split(escape: str) -> None:
    assert expand_words('"a  b" c', {}, escape).words == ("a  b", "c")
