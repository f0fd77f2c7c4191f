"""Spec tests for frontend/dockerignore.py, driven by testdata/dockerignore/*.txt
(format in testdata/dockerignore/README.txt)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.dockerignore import (
    IgnorePatternError,
    Pattern,
    always_kept,
    candidate_files,
    clean_path,
    parse,
)

DATA = Path(__file__).resolve().parents[2] / "testdata" / "dockerignore"
VERBS = ("excluded", "included", "prunes", "descends", "error")


@dataclass(frozen=True)
class Case:
    """One ``=== name`` block: the ignore-file text and the checks under ``---``."""

    id: str
    text: str
    checks: tuple[tuple[str, str], ...]


def _load(path: Path) -> Iterator[Case]:
    name: str | None = None
    pattern_lines: list[str] = []
    checks: list[tuple[str, str]] = []
    in_patterns = False
    for raw in path.read_text(encoding="utf-8").splitlines() + ["=== <end>"]:
        if raw.startswith("=== "):
            if name is not None:
                yield Case(f"{path.stem}: {name}", "\n".join(pattern_lines), tuple(checks))
            name, pattern_lines, checks, in_patterns = raw[4:].strip(), [], [], True
        elif in_patterns:
            if raw == "---":
                in_patterns = False
            else:
                pattern_lines.append(raw)
        elif raw.strip() and not raw.startswith(";"):
            verb, _, arg = raw.strip().partition(" ")
            assert verb in VERBS, f"{path.name}: unknown check {raw!r}"
            checks.append((verb, arg.strip()))


def load_all() -> list[Case]:
    """Every case of every spec file."""
    return [
        case
        for path in sorted(DATA.glob("*.txt"))
        if path.name != "README.txt"
        for case in _load(path)
    ]


def _params() -> Iterator[object]:
    for case in load_all():
        yield pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", list(_params()))
def test_matches_spec(case: Case) -> None:
    errors = [arg for verb, arg in case.checks if verb == "error"]
    if errors:
        with pytest.raises(IgnorePatternError) as info:
            parse(case.text)
        for fragment in errors:
            assert fragment in str(info.value)
        return
    rules = parse(case.text)
    got = []
    for verb, arg in case.checks:
        if verb in ("excluded", "included"):
            got.append((verb, arg, "excluded" if rules.excluded(arg) else "included"))
        else:
            may = rules.dir_may_contain_included(arg)
            got.append((verb, arg, "descends" if may else "prunes"))
    assert [g for g in got if g[0] != g[2]] == []


def test_spec_has_enough_path_checks() -> None:
    checks = [c for case in load_all() for c in case.checks if c[0] in ("excluded", "included")]
    assert len(checks) >= 60


def test_patterns_keep_cleaned_text_negation_and_line() -> None:
    rules = parse("# header\n\n/a/b/\n!  ./c\n")
    assert rules.patterns == (Pattern("a/b", False, 3), Pattern("c", True, 4))


def test_error_names_file_line_and_pattern() -> None:
    with pytest.raises(IgnorePatternError) as info:
        parse("ok\n\n  src/[a-\n", file="Dockerfile.dockerignore")
    err = info.value
    assert (err.file, err.line, err.pattern) == ("Dockerfile.dockerignore", 3, "src/[a-")
    assert str(err).startswith("Dockerfile.dockerignore:3: bad pattern 'src/[a-': ")
    assert "\n" not in str(err)
    assert isinstance(err, ValueError)


def test_crlf_line_endings_and_bom_are_ignored() -> None:
    rules = parse("\ufeff*.log\r\n!keep.log\r\n")
    assert [p.text for p in rules.patterns] == ["*.log", "keep.log"]
    assert rules.excluded("a.log")
    assert not rules.excluded("keep.log")


def test_empty_file_excludes_nothing_and_prunes_nothing() -> None:
    rules = parse("")
    assert not rules.excluded("anything/at/all")
    assert not rules.has_exceptions


def test_path_forms_are_normalised() -> None:
    rules = parse("a/b\n")
    assert rules.excluded("./a/b")
    assert rules.excluded("/a/b/c")
    assert rules.excluded("a//b")
    assert not rules.excluded("a")


def test_repeated_queries_agree_with_fresh_rules() -> None:
    text = "a\n!a/keep\n*/tmp\n"
    shared = parse(text)
    paths = ["a/keep/x", "a/drop/x", "b/tmp/y", "a/keep", "b/tmp", "a/keep/x"]
    assert [shared.excluded(p) for p in paths] == [parse(text).excluded(p) for p in paths]


@pytest.mark.parametrize(
    ("path", "expected"),
    [("", "."), ("a//b/", "a/b"), ("./a/./b", "a/b"), ("a/../..", ".."), ("/../a", "/a")],
)
def test_clean_path_matches_go(path: str, expected: str) -> None:
    assert clean_path(path) == expected


def test_candidate_files_prefer_the_dockerfile_specific_one() -> None:
    assert candidate_files("Dockerfile") == ("Dockerfile.dockerignore", ".dockerignore")
    assert candidate_files("build/app.Dockerfile") == (
        "build/app.Dockerfile.dockerignore",
        ".dockerignore",
    )
    assert candidate_files("-") == (".dockerignore",)


def test_dockerfile_and_ignore_files_stay_readable_for_the_frontend() -> None:
    assert always_kept("Dockerfile", "Dockerfile")
    assert always_kept(".dockerignore", "Dockerfile")
    assert always_kept("./ci/Dockerfile.dockerignore", "ci/Dockerfile")
    assert always_kept("ci/Dockerfile", "./ci/Dockerfile")
    assert not always_kept("Dockerfile", "ci/Dockerfile")
    assert not always_kept("src/main.c", "Dockerfile")


def test_a_dockerfile_outside_the_context_keeps_only_the_ignore_file() -> None:
    assert not always_kept("abs/Dockerfile", "/abs/Dockerfile")
    assert not always_kept("Dockerfile", "../Dockerfile")
    assert not always_kept("-", "-")
    assert always_kept(".dockerignore", "/abs/Dockerfile")


PATTERN_TEXT = st.text(alphabet="ab*?[]^!-\\/. #\n", max_size=30)
PATHS = st.lists(st.text(alphabet="ab*![]-./", min_size=1, max_size=12), max_size=5)


@settings(max_examples=300, deadline=None)
@given(text=PATTERN_TEXT, paths=PATHS)
def test_any_text_parses_or_fails_cleanly_and_matching_never_raises(
    text: str, paths: list[str]
) -> None:
    try:
        rules = parse(text)
    except IgnorePatternError as err:
        assert "\n" not in str(err)
        assert 1 <= err.line <= text.count("\n") + 1
        return
    for path in paths:
        assert rules.excluded(path) in (True, False)
        assert rules.dir_may_contain_included(path) in (True, False)
