"""FROM and stages in the compiled graph (FEATURES.md §4 items 21-25)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.compile import BuildPlan
from frontend.errors import InstructionError, UnknownStageError
from frontend.imageconfig import ImageConfig
from frontend.resolver import DictResolver
from solver.ops import Copy, FileOp, ImageSource, LocalSource, SourceOp

Build = Callable[..., BuildPlan]


def _sources(plan: BuildPlan) -> list[object]:
    return [op.source for op in plan.definition.ops.values() if isinstance(op, SourceOp)]


def _copies(plan: BuildPlan) -> list[Copy]:
    return [a for op in plan.definition.ops.values() if isinstance(op, FileOp)
            for a in op.actions if isinstance(a, Copy)]


def test_stage_names_are_referenced_case_insensitively(build: Build) -> None:
    plan = build("FROM golang AS Build\nRUN go build\nFROM alpine\nCOPY --from=BUILD /o /o\n")
    assert [s.built for s in plan.stages] == [True, True]
    assert _copies(plan)[0].source == plan.stages[0].output


def test_only_stages_the_target_needs_are_in_the_graph(build: Build) -> None:
    text = (
        "FROM alpine AS lint\nRUN lint\n"
        "FROM golang AS build\nRUN build\n"
        "FROM alpine\nCOPY --from=build /o /o\n"
    )
    plan = build(text)
    assert [s.built for s in plan.stages] == [False, True, True]
    refs = [s.ref for s in _sources(plan) if isinstance(s, ImageSource)]
    assert refs == ["docker.io/library/golang:latest", "docker.io/library/alpine:latest"]
    lint = build(text, target="lint")
    assert [s.built for s in lint.stages] == [True, False, False]
    assert lint.target == 0


def test_from_name_tries_named_context_then_stage_then_image(build: Build) -> None:
    text = (
        "FROM alpine AS deps\nRUN x\n"
        "FROM busybox\nCOPY --from=deps /a /a\nCOPY --from=nginx /b /b\n"
    )
    plan = build(text, contexts={"deps": "local"})
    assert plan.stages[0].built is False
    sources = _sources(plan)
    assert LocalSource("deps", ("a",)) in sources
    assert ImageSource("docker.io/library/nginx:latest", "linux/amd64") in sources
    staged = build(text)
    assert staged.stages[0].built is True


def test_numeric_from_means_stage_index(build: Build) -> None:
    plan = build("FROM golang\nRUN build\nFROM alpine\nCOPY --from=0 /o /o\n")
    assert _copies(plan)[0].source == plan.stages[0].output


def test_from_source_path_is_taken_from_root_not_workdir(build: Build) -> None:
    plan = build("FROM golang AS b\nWORKDIR /src\nRUN build\n"
                 "FROM alpine\nWORKDIR /app\nCOPY --from=b out/app bin/\n")
    copy = _copies(plan)[0]
    assert (copy.src, copy.dest) == ("/out/app", "/app/bin/")


def test_untagged_image_means_latest_and_scratch_is_empty(build: Build) -> None:
    plan = build("FROM busybox AS a\nFROM scratch\nCOPY --from=a /bin/busybox /busybox\n")
    assert ImageSource("docker.io/library/busybox:latest", "linux/amd64") in _sources(plan)
    fileop = next(op for op in plan.definition.ops.values() if isinstance(op, FileOp))
    assert fileop.base is None


def test_from_stage_inherits_config_and_history(build: Build) -> None:
    plan = build("FROM alpine AS base\nENV A=1\nLABEL x=y\nFROM base\nENV B=2\n")
    assert plan.config.env_map() == {"A": "1", "B": "2"}
    assert plan.config.label_map() == {"x": "y"}
    assert [h.created_by for h in plan.history] == ["ENV A=1", "LABEL x=y", "ENV B=2"]


def test_base_image_config_comes_from_resolver(build: Build) -> None:
    base = ImageConfig(env=(("PATH", "/usr/bin"),), cmd=("sh",), workdir="/srv", user="www")
    resolver = DictResolver({"nginx:1.25": base}, {"nginx:1.25": "sha256:" + "a" * 64})
    plan = build("FROM nginx:1.25\nENV PATH=/opt/bin:$PATH\nRUN id\n", resolver)
    assert plan.config.env_map()["PATH"] == "/opt/bin:/usr/bin"
    assert (plan.config.cmd, plan.config.workdir, plan.config.user) == (("sh",), "/srv", "www")
    src = _sources(plan)[0]
    assert isinstance(src, ImageSource)
    assert src.ref == "docker.io/library/nginx:1.25@sha256:" + "a" * 64


def test_unknown_base_image_is_an_error_at_from(build: Build) -> None:
    with pytest.raises(InstructionError) as info:
        build("FROM nosuchimage\n", DictResolver({}))
    assert info.value.span is not None and info.value.span.line == 1


def test_unknown_target_is_an_error(build: Build) -> None:
    with pytest.raises(UnknownStageError, match="target stage 'prod'"):
        build("FROM alpine AS dev\n", target="prod")


def test_step_names_count_instructions_per_stage(build: Build) -> None:
    plan = build("FROM alpine AS build\nENV A=1\nRUN make\nFROM build\nRUN test\n")
    names = sorted(m.name for m in plan.definition.metadata.values())
    assert "[build 3/3] RUN make" in names
    assert "[stage-1 2/2] RUN test" in names


def test_copy_from_an_empty_scratch_stage_reads_an_empty_filesystem(build: Build) -> None:
    plan = build("FROM scratch AS empty\nFROM alpine\nCOPY --from=empty /x /x\n")
    copy = _copies(plan)[0]
    assert plan.definition.ops[copy.source.digest] == FileOp(None, ())
    assert plan.stages[0].output is None and plan.stages[0].built


def test_target_that_is_an_empty_scratch_stage_has_no_output(build: Build) -> None:
    plan = build("FROM scratch\nENV A=1\n")
    assert plan.definition.output is None and plan.config.env_map() == {"A": "1"}
