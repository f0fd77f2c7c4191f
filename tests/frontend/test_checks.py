"""Build checks: each BuildKit rule's trigger and non-trigger (golden cases in
testdata/checks/), the ``# check=`` directive, and merging compiler findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontend.checks import (
    EXPERIMENTAL_RULES,
    CheckConfig,
    CheckDirectiveError,
    CheckResult,
    run_checks,
)
from frontend.dockerignore import parse as parse_ignore
from frontend.errors import Diagnostic, FrontendError
from frontend.nodes import Dockerfile
from frontend.parser import parse_dockerfile
from frontend.rules import RULES, rule
from solver.source import Span

CASES = Path(__file__).resolve().parents[2] / "testdata" / "checks"


def _parse(text: str) -> Dockerfile:
    return parse_dockerfile(text, "Dockerfile")


def _run_case(case: Path) -> list[str]:
    dockerfile = _parse((case / "Dockerfile").read_text())
    ignore_file = case / ".dockerignore"
    ignore = parse_ignore(ignore_file.read_text()) if ignore_file.exists() else None
    try:
        result = run_checks(dockerfile, ignore=ignore)
    except FrontendError as exc:
        return [f"raises: {exc.header()}"]
    lines = [d.header() for d in result.diagnostics]
    if result.has_errors:
        lines.append(f"has_errors: {result.error_message()}")
    return lines


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_golden(case: str) -> None:
    expected = (CASES / case / "expected.txt").read_text().splitlines()
    assert _run_case(CASES / case) == expected


def test_every_syntactic_rule_has_a_triggering_and_a_clean_case() -> None:
    triggered: set[str] = set()
    for case in CASES.iterdir():
        for line in (case / "expected.txt").read_text().splitlines():
            if ": warning: " in line or ": error: " in line:
                triggered.add(line.split(": ")[2])
    syntactic = {
        "JSONArgsRecommended",
        "MaintainerDeprecated",
        "StageNameCasing",
        "FromAsCasing",
        "DuplicateStageName",
        "ReservedStageName",
        "MultipleInstructionsDisallowed",
        "ConsistentInstructionCasing",
        "LegacyKeyValueFormat",
        "ExposeProtoCasing",
        "ExposeInvalidFormat",
        "NoEmptyContinuation",
        "CopyIgnoredFile",
        "SecretsUsedInArgOrEnv",
    }
    assert syntactic <= triggered
    assert (CASES / "clean" / "expected.txt").read_text() == ""


# --- the check directive ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", CheckConfig()),
        ("  ", CheckConfig()),
        ("skip=A,B", CheckConfig(skip=frozenset({"A", "B"}))),
        (" skip = A , B ; error = true ", CheckConfig(skip=frozenset({"A", "B"}), error=True)),
        ("skip=all", CheckConfig(skip_all=True)),
        ("error=1", CheckConfig(error=True)),
        ("error=False", CheckConfig()),
        ("experimental=all", CheckConfig(experimental=frozenset({"all"}), experimental_all=True)),
        ("experimental=CopyIgnoredFile", CheckConfig(experimental=frozenset({"CopyIgnoredFile"}))),
    ],
)
def test_check_directive_parses_like_buildkit(text: str, expected: CheckConfig) -> None:
    assert CheckConfig.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("skip", 'invalid check option "skip"'),
        ("error=yes", 'failed to parse check option "error=yes"'),
        ("Skip=A", 'invalid check option "Skip"'),
        ("skip=A;error=true;x=1", 'invalid check option "x"'),
    ],
)
def test_invalid_check_directive_is_an_error_with_position(text: str, message: str) -> None:
    span = Span("Dockerfile", 1, 1, 1, 20)
    with pytest.raises(CheckDirectiveError, match=message) as info:
        CheckConfig.parse(text, span)
    assert info.value.span == span
    assert info.value.hint


def test_rule_names_are_case_sensitive_in_skip() -> None:
    config = CheckConfig.parse("skip=jsonargsrecommended")
    assert config.enabled("JSONArgsRecommended")
    assert not CheckConfig.parse("skip=JSONArgsRecommended").enabled("JSONArgsRecommended")


def test_experimental_rules_need_opting_in_and_ignore_skip() -> None:
    assert EXPERIMENTAL_RULES <= set(RULES) | {"InvalidDefinitionDescription"}
    assert not CheckConfig().enabled("CopyIgnoredFile")
    assert CheckConfig.parse("experimental=CopyIgnoredFile").enabled("CopyIgnoredFile")
    assert CheckConfig.parse("skip=all;experimental=all").enabled("CopyIgnoredFile")
    assert not CheckConfig.parse("skip=all;experimental=all").enabled("StageNameCasing")


def test_explicit_config_overrides_the_directive() -> None:
    dockerfile = _parse("# check=skip=all\nFROM alpine AS Build\n")
    assert run_checks(dockerfile).diagnostics == ()
    forced = run_checks(dockerfile, config=CheckConfig(error=True))
    assert [d.rule for d in forced.diagnostics] == ["StageNameCasing"]
    assert forced.has_errors


# --- merging the compiler's findings ---------------------------------------------------


def _at(line: int) -> Span:
    return Span("Dockerfile", line, 1, line, 5)


def test_extra_diagnostics_are_merged_sorted_and_marked() -> None:
    dockerfile = _parse("# check=error=true\nFROM alpine AS Build\nWORKDIR rel\n")
    extra = [
        rule("WorkdirRelativePath").diagnostic('Relative workdir "rel" …', _at(3)),
        rule("UnusedBuildArg").diagnostic("unused build arg X", None),
    ]
    result = run_checks(dockerfile, extra=extra)
    assert [d.rule for d in result.diagnostics] == [
        "StageNameCasing",
        "WorkdirRelativePath",
        "UnusedBuildArg",
    ]
    assert all(d.is_error for d in result.diagnostics)
    assert result.has_errors
    assert result.rules == ("StageNameCasing", "UnusedBuildArg", "WorkdirRelativePath")
    assert result.error_message() == (
        "lint violation found for rules: StageNameCasing, UnusedBuildArg, WorkdirRelativePath"
    )


def test_a_rule_reported_by_compile_and_checks_on_one_line_is_kept_once() -> None:
    dockerfile = _parse("FROM alpine\nENV A b\n")
    from_compile = rule("LegacyKeyValueFormat").diagnostic("compile's words", _at(2))
    result = run_checks(dockerfile, extra=[from_compile, from_compile])
    assert result.diagnostics == (from_compile,)


def test_skipped_rules_from_compile_are_dropped_too() -> None:
    dockerfile = _parse("# check=skip=UndefinedVar\nFROM alpine\n")
    extra = [rule("UndefinedVar").diagnostic("Usage of undefined variable '$X'", _at(3))]
    assert run_checks(dockerfile, extra=extra) == CheckResult((), False)


def test_warnings_are_not_errors_by_default() -> None:
    result = run_checks(_parse("FROM alpine\nMAINTAINER me\n"))
    assert [d.is_error for d in result.diagnostics] == [False]
    assert not result.has_errors


def test_every_diagnostic_links_to_its_rule_documentation() -> None:
    result = run_checks(_parse("FROM alpine\nCMD x\n"))
    (diag,) = result.diagnostics
    assert isinstance(diag, Diagnostic)
    assert diag.url == "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"


_SHARED = """\
FROM alpine AS base
env OLD value
ENV DB_PASSWORD=x
ARG API_TOKEN
cmd ["a"]
CMD ["b"]
label k v
healthcheck NONE
HEALTHCHECK NONE
"""


def test_compile_and_checks_word_shared_rules_identically() -> None:
    from frontend.compile import compile_dockerfile

    dockerfile = _parse(_SHARED)
    compiled = {(d.rule, d.span, d.message) for d in compile_dockerfile(dockerfile).diagnostics}
    syntactic = {(d.rule, d.span, d.message) for d in run_checks(dockerfile).diagnostics}
    shared = {"LegacyKeyValueFormat", "SecretsUsedInArgOrEnv", "MultipleInstructionsDisallowed"}
    assert {r for r, _, _ in compiled} == shared
    assert compiled <= syntactic
    assert ('"env key=value" should be used instead of legacy "env key value" format'
            in {m for _, _, m in compiled})


def test_merged_findings_never_repeat() -> None:
    from frontend.compile import compile_dockerfile

    dockerfile = _parse(_SHARED + "FROM base\nWORKDIR rel\nENV A_TOKEN b\n")
    plan = compile_dockerfile(dockerfile)
    result = run_checks(dockerfile, extra=plan.diagnostics)
    keys = [(d.rule, d.span) for d in result.diagnostics]
    assert len(keys) == len(set(keys))
    shared = [(d.rule, d.span.line if d.span else 0) for d in result.diagnostics
              if d.rule != "ConsistentInstructionCasing"]
    assert shared == [
        ("LegacyKeyValueFormat", 2), ("SecretsUsedInArgOrEnv", 3), ("SecretsUsedInArgOrEnv", 4),
        ("MultipleInstructionsDisallowed", 5), ("LegacyKeyValueFormat", 7),
        ("MultipleInstructionsDisallowed", 8), ("WorkdirRelativePath", 11),
        ("LegacyKeyValueFormat", 12), ("SecretsUsedInArgOrEnv", 12),
    ]


def test_every_rule_has_a_message_template_that_report_fills() -> None:
    for known in RULES.values():
        values = [f"v{i}" for i in range(known.message.count("{"))]
        diag = known.report(None, *values)
        assert "{" not in diag.message and diag.rule == known.name
