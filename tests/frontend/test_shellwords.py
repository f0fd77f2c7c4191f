"""Spec tests for frontend/shellwords.py, driven by testdata/shellwords/*.txt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from frontend.errors import ExpansionError, FrontendError
from frontend.shellpatterns import go_template, reverse_pattern
from frontend.shellwords import (
    MAX_NESTING,
    Expansion,
    WordsExpansion,
    expand,
    expand_raw,
    expand_words,
    split_words,
)

DATA = Path(__file__).resolve().parents[2] / "testdata" / "shellwords"


@dataclass(frozen=True)
class Case:
    """One line of a spec file, with the directives in force at that line."""

    file: str
    line: int
    input: str
    expected: str
    env: tuple[tuple[str, str], ...]
    escape: str
    mode: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def error(self) -> str | None:
        """The message fragment an ERROR case expects, else None."""
        if not self.expected.startswith("ERROR"):
            return None
        return self.expected.removeprefix("ERROR").strip()


def _field(text: str) -> str:
    text = text.strip()
    if text.startswith("«") and text.endswith("»"):
        return text[1:-1]
    return text


def load(name: str) -> list[Case]:
    """Parse a spec file (format in its header)."""
    env: dict[str, str] = {}
    escape, mode = "\\", "word"
    cases: list[Case] = []
    for number, raw in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("ENV "):
            key, _, value = raw[4:].partition("=")
            env[key.strip()] = value
        elif raw.startswith("UNSET "):
            env.pop(raw[6:].strip(), None)
        elif raw.startswith("ESCAPE "):
            escape = raw[7:].strip()
        elif raw.startswith("MODE "):
            mode = raw[5:].strip()
        else:
            if " | " in raw:
                source, _, expected = raw.partition(" | ")
            elif raw.endswith(" |"):
                source, expected = raw[:-2], ""
            else:
                raise AssertionError(f"{name}:{number}: no ' | ' separator")
            frozen_env = tuple(sorted(env.items()))
            cases.append(
                Case(name, number, _field(source), _field(expected), frozen_env, escape, mode)
            )
    return cases


def _params(name: str) -> Iterator[object]:
    for case in load(name):
        yield pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", list(_params("envvars.txt")))
def test_expand_matches_spec(case: Case) -> None:
    env = dict(case.env)
    if case.mode == "raw":
        assert case.escape == "\\"

        def run() -> Expansion:
            return expand_raw(case.input, env)

    else:

        def run() -> Expansion:
            return expand(case.input, env, case.escape)

    if case.error is not None:
        with pytest.raises(ExpansionError) as info:
            run()
        assert case.error in info.value.message
    else:
        assert run().text == case.expected


@pytest.mark.parametrize("case", list(_params("words.txt")))
def test_expand_words_matches_spec(case: Case) -> None:
    env = dict(case.env)
    if case.error is not None:
        with pytest.raises(ExpansionError) as info:
            expand_words(case.input, env, case.escape)
        assert case.error in info.value.message
        return
    expected = tuple(case.expected.split(",")) if case.expected else ()
    assert expand_words(case.input, env, case.escape).words == expected


@pytest.mark.parametrize("case", list(_params("split.txt")))
def test_split_words_keeps_quotes_and_escapes(case: Case) -> None:
    expected = case.expected.split(",") if case.expected else []
    assert split_words(case.input, case.escape) == expected


def test_spec_files_have_enough_cases() -> None:
    counts = {name: len(load(name)) for name in ("envvars.txt", "words.txt", "split.txt")}
    assert counts["envvars.txt"] + counts["words.txt"] >= 150, counts


def test_expansion_reports_used_and_unset_names() -> None:
    result = expand("$A ${B:-$C} ${D+x}", {"A": "1", "D": ""})
    assert result == Expansion("1  x", frozenset("ABCD"), frozenset("BC"))


def test_modifier_word_names_are_reported_even_when_unused() -> None:
    result = expand("${A:-$B}", {"A": "set"})
    assert result.text == "set"
    assert result.unset == frozenset({"B"})


def test_escaped_and_single_quoted_names_are_not_looked_up() -> None:
    result = expand("\\$A '$B' \"\\$C\"", {})
    assert result.text == "$A $B $C"
    assert result.used == frozenset()


def test_expand_words_unpacks_as_a_triple() -> None:
    words, used, unset = expand_words("$X b", {"X": "1 2"})
    assert (words, used, unset) == (("1", "2", "b"), frozenset({"X"}), frozenset())
    assert isinstance(expand_words("", {}), WordsExpansion)


def test_required_variable_message_names_the_variable() -> None:
    with pytest.raises(ExpansionError) as info:
        expand("${VAR:?must be set}", {})
    assert str(info.value) == "VAR: must be set"
    assert info.value.span is None  # the instruction layer attaches it
    assert isinstance(info.value, FrontendError)


def test_required_variable_message_may_use_expansions() -> None:
    # BuildKit's TestShellParserMandatoryEnvVars
    with pytest.raises(ExpansionError, match="message herex"):
        expand("${VAR:?message here$ARG}", {"VAR": "", "ARG": "x"})
    assert expand("${VAR?message here$ARG}", {"VAR": "", "ARG": "x"}).text == ""


def test_target_platform_variant_suffix_idiom() -> None:
    word = "app-${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tgz"
    env = {"TARGETOS": "linux", "TARGETARCH": "arm"}
    assert expand(word, {**env, "TARGETVARIANT": "v7"}).text == "app-linux-arm-v7.tgz"
    assert expand(word, {**env, "TARGETVARIANT": ""}).text == "app-linux-arm.tgz"
    assert expand(word, env).text == "app-linux-arm.tgz"


@pytest.mark.parametrize("escape", ["", "\\\\", "'", "$"])
def test_other_escape_characters_are_rejected(escape: str) -> None:
    with pytest.raises(ValueError, match="escape character"):
        expand("x", {}, escape)
    with pytest.raises(ValueError, match="escape character"):
        split_words("x", escape)


def test_errors_are_one_line() -> None:
    for bad in ("${", "${a", '"x', "${a/b", "${a#\\q}", "${a:=b}"):
        with pytest.raises(ExpansionError) as info:
            expand(bad, {"a": "v"})
        assert "\n" not in str(info.value)
        assert str(info.value)


@pytest.mark.parametrize("quoted", [False, True])
def test_nesting_is_allowed_up_to_a_limit_then_a_clear_error(quoted: bool) -> None:
    def nested(depth: int) -> str:
        q = '"' if quoted else ""
        return f"{q}${{a:-" * depth + "x" + f"}}{q}" * depth

    assert expand(nested(MAX_NESTING), {}).text == "x"
    with pytest.raises(ExpansionError, match="nested") as info:
        expand(nested(MAX_NESTING + 1), {})
    assert "\n" not in str(info.value)
    with pytest.raises(ExpansionError, match="nested"):
        expand(nested(5000), {})  # far past Python's recursion limit


@pytest.mark.parametrize(
    ("pattern", "reversed_pattern"),
    [("a\\*c", "c\\*a"), ("\\\\\\ab", "b\\a\\\\"), ("ab\\", "\\ba"), ("\\\\b", "b\\\\")],
)
def test_reverse_pattern_keeps_escape_pairs(pattern: str, reversed_pattern: str) -> None:
    # BuildKit's TestReversePattern
    assert reverse_pattern(pattern) == reversed_pattern


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("<$0>", "<m>"),
        ("${0}", "m"),
        ("$$", "$"),
        ("$1", ""),
        ("$x${y}", ""),
        ("${", "${"),
        ("${}", "${}"),
        ("a$", "a$"),
        ("$00", ""),
    ],
)
def test_replace_all_template_follows_go(template: str, expected: str) -> None:
    assert go_template(template, "m") == expected
