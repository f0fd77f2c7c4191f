"""ARG/ENV scoping and expansion (FEATURES.md §4 items 8-20)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.compile import BuildPlan
from frontend.errors import InstructionError
from solver.ops import ExecOp, FileOp, Mkdir

Build = Callable[..., BuildPlan]


def _runs(plan: BuildPlan) -> list[ExecOp]:
    return [op for op in plan.definition.ops.values() if isinstance(op, ExecOp)]


def _env(op: ExecOp) -> dict[str, str]:
    return dict(e.split("=", 1) for e in op.meta.env)


def test_env_line_expands_with_values_from_before_the_line(build: Build) -> None:
    plan = build("FROM alpine\nENV abc=hello\nENV abc=bye def=$abc\n")
    assert plan.config.env_map() == {"abc": "bye", "def": "hello"}


def test_legacy_env_sets_one_variable_to_the_rest_of_the_line(build: Build) -> None:
    plan = build("FROM alpine\nENV ONE TWO= THREE=world\n")
    assert plan.config.env == (("ONE", "TWO= THREE=world"),)
    assert [d.rule for d in plan.diagnostics] == ["LegacyKeyValueFormat"]


def test_global_arg_is_visible_only_in_from(build: Build) -> None:
    plan = build("ARG V=3.19\nFROM alpine:$V\nRUN echo $V\nENV X=${V:-unset}\n")
    src = plan.stages[0].base
    assert src == "alpine:3.19"
    assert plan.config.env_map()["X"] == "unset"
    assert "V" not in _env(_runs(plan)[0])


def test_redeclared_arg_takes_global_default_or_build_arg(build: Build) -> None:
    text = "ARG V=3.19\nFROM alpine\nARG V\nENV X=$V\n"
    assert build(text).config.env_map()["X"] == "3.19"
    assert build(text, build_args={"V": "edge"}).config.env_map()["X"] == "edge"


def test_arg_is_in_effect_only_from_its_line(build: Build) -> None:
    text = "FROM alpine\nENV BEFORE=${v:-default}\nARG v\nENV AFTER=${v:-default}\n"
    env = build(text, build_args={"v": "x"}).config.env_map()
    assert env == {"BEFORE": "default", "AFTER": "x"}


def test_stage_args_reach_only_stages_built_from_it(build: Build) -> None:
    text = (
        "FROM alpine AS a\nARG X=1\n"
        "FROM a AS b\nENV FROM_A=${X:-none}\n"
        "FROM alpine AS c\nENV FROM_A=${X:-none}\nCOPY --from=b /x /x\n"
    )
    plan = build(text)
    b = plan.stages[1].config
    assert b is not None and b.env_map()["FROM_A"] == "1"
    assert plan.config.env_map()["FROM_A"] == "none"


def test_env_overrides_arg_whatever_build_arg_says(build: Build) -> None:
    text = "FROM alpine\nARG V=a\nENV V=b\nENV W=$V\nRUN true\n"
    plan = build(text, build_args={"V": "c"})
    assert plan.config.env_map()["W"] == "b"
    assert _env(_runs(plan)[0])["V"] == "b"


def test_args_in_scope_are_exported_to_run_and_change_its_digest(build: Build) -> None:
    text = "FROM alpine\nARG VERSION=1\nRUN make\n"
    one, two = build(text), build(text, build_args={"VERSION": "2"})
    assert _env(_runs(one)[0])["VERSION"] == "1"
    assert _runs(one)[0].digest != _runs(two)[0].digest
    assert one.history[-1].created_by == "RUN |1 VERSION=1 /bin/sh -c make # buildkit"


def test_undeclared_proxy_args_stay_out_of_digest_and_history(build: Build) -> None:
    text = "FROM alpine\nRUN apk add curl\n"
    plain = build(text)
    proxied = build(text, build_args={"HTTP_PROXY": "http://proxy:3128"})
    assert _runs(plain)[0].digest == _runs(proxied)[0].digest
    assert proxied.proxy_env == (("HTTP_PROXY", "http://proxy:3128"),)
    assert "proxy" not in proxied.history[-1].created_by
    assert [d.rule for d in proxied.diagnostics] == []


def test_declared_proxy_arg_is_part_of_digest_and_history(build: Build) -> None:
    text = "FROM alpine\nARG HTTP_PROXY\nRUN apk add curl\n"
    plain = build(text)
    proxied = build(text, build_args={"HTTP_PROXY": "http://proxy:3128"})
    assert _runs(plain)[0].digest != _runs(proxied)[0].digest
    assert "HTTP_PROXY=http://proxy:3128" in proxied.history[-1].created_by


def test_platform_args_are_global_only_until_declared(build: Build) -> None:
    text = (
        "FROM alpine\nENV BEFORE=${TARGETARCH:-none}\n"
        "ARG TARGETARCH\nENV AFTER=$TARGETARCH\n"
    )
    env = build(text, target_platform="linux/arm64").config.env_map()
    assert env == {"BEFORE": "none", "AFTER": "arm64"}


def test_platform_args_are_usable_in_from(build: Build) -> None:
    plan = build("FROM --platform=$BUILDPLATFORM golang AS b\nFROM alpine\nCOPY --from=b /a /a\n",
                 build_platform="linux/arm64", target_platform="linux/amd64")
    assert plan.stages[0].config is not None
    assert plan.stages[0].config.architecture == "arm64"


def test_unset_variable_in_workdir_expands_to_empty(build: Build) -> None:
    plan = build("FROM alpine\nWORKDIR /path/$DIRNAME\n")
    assert plan.config.workdir == "/path"
    mkdirs = [a for op in plan.definition.ops.values() if isinstance(op, FileOp)
              for a in op.actions if isinstance(a, Mkdir)]
    assert [m.path for m in mkdirs] == ["/path"]
    assert "UndefinedVar" in [d.rule for d in plan.diagnostics]


def test_copy_from_variable_is_rejected(build: Build) -> None:
    with pytest.raises(InstructionError, match="variables are not expanded in --from") as info:
        build("FROM alpine AS src\nFROM alpine\nARG S=src\nCOPY --from=$S /a /a\n")
    assert info.value.span is not None and info.value.span.line == 4


def test_global_arg_in_from_is_the_workaround_for_variable_from(build: Build) -> None:
    text = "ARG IMG=busybox\nFROM ${IMG} AS src\nFROM alpine\nCOPY --from=src /bin/sh /sh\n"
    plan = build(text, build_args={"IMG": "debian"})
    assert plan.stages[0].base == "debian"


def test_quotes_are_removed_by_expansion(build: Build) -> None:
    plan = build('FROM alpine\nENV A="x y" B=\'$A\' C="$A"\n')
    assert plan.config.env_map() == {"A": "x y", "B": "$A", "C": ""}


def test_expansion_error_has_span(build: Build) -> None:
    with pytest.raises(InstructionError) as info:
        build("FROM alpine\nENV A=1\nENV B=${A:?unset}\nENV C=${NOPE:?need_NOPE}\n")
    assert info.value.span is not None and info.value.span.line == 4
    assert "need_NOPE" in info.value.message


def test_backtick_escape_directive_applies_to_expansion(build: Build) -> None:
    plan = build("# escape=`\nFROM alpine\nENV A=1\nENV B=`$A C=\\$A\n")
    assert plan.config.env_map() == {"A": "1", "B": "$A", "C": "\\1"}
