"""Stages: lower-cased names, index refs, global ARGs, --target pruning, cycles."""

from __future__ import annotations

import pytest

from frontend.errors import InstructionError, StageCycleError, UnknownStageError
from frontend.parser import parse_dockerfile
from frontend.stages import StageList, parse_stages, select_stages

MULTI = """\
ARG GO=1.22
FROM golang:${GO} AS Build
RUN go build
FROM alpine AS test
COPY --from=build /out /out
FROM node AS web
RUN --mount=type=bind,from=0,target=/src true
FROM scratch
COPY --from=web /a /a
"""


def _stages(text: str) -> StageList:
    return parse_stages(parse_dockerfile(text))


def _bases(stages: StageList) -> list[str]:
    return [s.from_.image for s in stages.stages]


def test_global_args_are_collected_before_first_from() -> None:
    stages = _stages(MULTI)
    assert [d.name for a in stages.global_args for d in a.args] == ["GO"]
    assert len(stages.stages) == 4


def test_names_are_lower_cased_and_found_case_insensitively() -> None:
    stages = _stages(MULTI)
    found = stages.find("BUILD")
    assert found is not None and found.index == 0 and found.name == "build"
    assert stages.find("1") is stages.stages[1]
    assert stages.find("nope") is None


def test_index_reference_only_to_earlier_stages() -> None:
    stages = _stages(MULTI)
    assert stages.find("3", before=2) is None
    assert stages.find("1", before=2) is stages.stages[1]


def test_default_target_builds_only_what_last_stage_needs() -> None:
    stages = _stages(MULTI)
    assert select_stages(stages, None, ["golang:1.22", "alpine", "node", "scratch"]) == (0, 2, 3)


def test_target_prunes_unrelated_stages() -> None:
    stages = _stages(MULTI)
    assert select_stages(stages, "test", _bases(stages)) == (0, 1)
    assert select_stages(stages, "Build", _bases(stages)) == (0,)


def test_from_a_stage_is_a_dependency() -> None:
    stages = _stages("FROM alpine AS base\nRUN x\nFROM base\nRUN y\n")
    assert select_stages(stages, None, ["alpine", "base"]) == (0, 1)


def test_named_context_wins_over_stage_name() -> None:
    stages = _stages("FROM alpine AS deps\nFROM busybox\nCOPY --from=deps /a /a\n")
    assert select_stages(stages, None, ["alpine", "busybox"], frozenset({"deps"})) == (1,)


def test_unknown_target_lists_stages() -> None:
    stages = _stages(MULTI)
    with pytest.raises(UnknownStageError) as info:
        select_stages(stages, "tset", _bases(stages))
    assert info.value.hint == "stages are: build, test, web, 3"


def test_numeric_from_beyond_earlier_stages_is_an_error_with_position() -> None:
    stages = _stages("FROM alpine\nCOPY --from=1 /a /a\nFROM alpine\n")
    with pytest.raises(UnknownStageError) as info:
        select_stages(stages, "0", ["alpine", "alpine"])
    assert info.value.span is not None and info.value.span.line == 2


def test_cycle_between_stages_is_reported() -> None:
    text = "FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nCOPY --from=a /y /y\n"
    stages = _stages(text)
    with pytest.raises(StageCycleError, match="b -> a -> b"):
        select_stages(stages, "b", ["alpine", "alpine"])


def test_stage_named_like_its_base_image_means_the_image() -> None:
    stages = _stages("FROM node AS node\nRUN x\n")
    assert select_stages(stages, None, ["node"]) == (0,)


def test_duplicate_stage_name_is_an_error() -> None:
    with pytest.raises(UnknownStageError, match="duplicate stage name 'a'"):
        _stages("FROM alpine AS a\nFROM alpine AS A\n")


def test_only_arg_may_precede_from() -> None:
    with pytest.raises(InstructionError, match="RUN before the first FROM") as info:
        _stages("ARG X\nRUN true\nFROM alpine\n")
    assert info.value.span is not None and info.value.span.line == 2


def test_dockerfile_without_from_is_an_error() -> None:
    with pytest.raises(InstructionError, match="no FROM instruction"):
        _stages("ARG X=1\n")
