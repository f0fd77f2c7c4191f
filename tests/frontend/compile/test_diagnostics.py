"""Semantic build checks found while compiling (BuildKit's linter rules)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.compile import BuildPlan

Build = Callable[..., BuildPlan]


def _rules(plan: BuildPlan) -> list[str]:
    return [d.rule for d in plan.diagnostics]


@pytest.mark.parametrize(
    ("text", "opts", "rule"),
    [
        ("FROM alpine\nRUN echo\nENV X=$NOPE\n", {}, "UndefinedVar"),
        ("FROM alpine:$TAG\n", {}, "UndefinedArgInFrom"),
        ("ARG TAG\nFROM alpine:$TAG\n", {}, "InvalidDefaultArgInFrom"),
        ("ARG IMG\nFROM $IMG\n", {"build_args": {"IMG": "alpine"}}, "InvalidDefaultArgInFrom"),
        ("FROM alpine\n", {"build_args": {"UNUSED": "1"}}, "UnusedBuildArg"),
        ("FROM alpine\nWORKDIR app\n", {}, "WorkdirRelativePath"),
        ("FROM alpine\nARG GITHUB_TOKEN\n", {}, "SecretsUsedInArgOrEnv"),
        ("FROM alpine\nENV DB_PASSWORD=x\n", {}, "SecretsUsedInArgOrEnv"),
        ("FROM --platform=$TARGETPLATFORM alpine\n", {}, "RedundantTargetPlatform"),
        ("FROM --platform=linux/arm64 alpine\n", {}, "FromPlatformFlagConstDisallowed"),
        ('FROM alpine\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n', {}, "MultipleInstructionsDisallowed"),
        ("FROM alpine\nLABEL k v\n", {}, "LegacyKeyValueFormat"),
    ],
)
def test_rule_is_reported_with_position(
    build: Build, text: str, opts: dict[str, dict[str, str]], rule: str
) -> None:
    plan = build(text, **opts)
    assert _rules(plan) == [rule]
    diag = plan.diagnostics[0]
    assert diag.url.startswith("https://docs.docker.com/go/dockerfile/rule/")
    if rule != "UnusedBuildArg":
        assert diag.span is not None


@pytest.mark.parametrize(
    ("text", "opts"),
    [
        ("ARG TAG=3.19\nFROM alpine:$TAG\n", {}),
        ("FROM alpine\nARG X\nENV Y=$X\n", {}),
        ("FROM alpine\nENV X=1\nENV Y=$X$HTTP_PROXY\n", {"build_args": {"HTTP_PROXY": "p"}}),
        ("FROM --platform=$BUILDPLATFORM alpine\nWORKDIR /a\nWORKDIR b\n", {}),
        ("FROM alpine\nARG PUBLIC_KEY\n", {}),
        ("FROM alpine\nENV A=1\n", {"build_args": {"BUILDKIT_INLINE_CACHE": "1"}}),
    ],
)
def test_clean_dockerfiles_report_nothing(
    build: Build, text: str, opts: dict[str, dict[str, str]]
) -> None:
    assert _rules(build(text, **opts)) == []
