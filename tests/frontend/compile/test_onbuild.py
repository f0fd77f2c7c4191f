"""ONBUILD triggers of the base run after the child's FROM (FEATURES.md §4 items 26-27)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.compile import BuildPlan
from frontend.errors import InstructionError
from frontend.imageconfig import ImageConfig
from frontend.resolver import DictResolver
from solver.ops import Copy, ExecOp, FileOp

Build = Callable[..., BuildPlan]

BASE = ImageConfig(onbuild=("RUN echo first", "COPY . /app/src", "RUN echo third"))


def test_triggers_run_right_after_from_in_order(build: Build) -> None:
    plan = build("FROM base\nRUN echo child\n", DictResolver({"base": BASE}))
    runs = [op.meta.args[-1] for op in plan.definition.ops.values() if isinstance(op, ExecOp)]
    assert runs == ["echo first", "echo third", "echo child"]
    assert [h.created_by for h in plan.history][:2] == [
        "RUN /bin/sh -c echo first # buildkit", "COPY . /app/src # buildkit"
    ]


def test_triggers_are_not_passed_to_grandchildren(build: Build) -> None:
    plan = build("FROM base AS child\nFROM child\nRUN x\n", DictResolver({"base": BASE}))
    assert plan.config.onbuild == ()
    runs = [op for op in plan.definition.ops.values() if isinstance(op, ExecOp)]
    assert len(runs) == 3  # two triggers once (child), plus RUN x


def test_registered_triggers_go_to_config_not_executed(build: Build) -> None:
    plan = build("FROM alpine\nONBUILD RUN make\nONBUILD COPY . /src\n")
    assert plan.config.onbuild == ("RUN make", "COPY . /src")
    assert not any(isinstance(op, ExecOp) for op in plan.definition.ops.values())
    assert plan.history[-1].created_by == "ONBUILD COPY . /src"


def test_triggers_registered_in_a_stage_run_in_stages_built_from_it(build: Build) -> None:
    plan = build("FROM alpine AS tmpl\nONBUILD RUN echo hi\nFROM tmpl\n")
    runs = [op for op in plan.definition.ops.values() if isinstance(op, ExecOp)]
    assert len(runs) == 1 and plan.config.onbuild == ()


def test_trigger_copy_from_resolves_stage_in_child_dockerfile(build: Build) -> None:
    base = ImageConfig(onbuild=("COPY --from=assets /dist /www",))
    plan = build("FROM node AS assets\nRUN build\nFROM base\n", DictResolver(
        {"base": base}, default=ImageConfig()))
    copies = [a for op in plan.definition.ops.values() if isinstance(op, FileOp)
              for a in op.actions if isinstance(a, Copy)]
    assert copies[0].source == plan.stages[0].output


def test_failing_trigger_fails_the_from(build: Build) -> None:
    base = ImageConfig(onbuild=("COPY --chmod=bad a /b",))
    with pytest.raises(InstructionError) as info:
        build("FROM alpine\nFROM base\n", DictResolver({"base": base}, default=ImageConfig()))
    assert info.value.span is not None and info.value.span.line == 2
    assert "ONBUILD trigger" in info.value.message


def test_trigger_is_expanded_when_it_runs_in_the_child(build: Build) -> None:
    base = ImageConfig(env=(("Y", "from-base"),), onbuild=("ENV X=$Y",))
    plan = build("FROM base\n", DictResolver({"base": base}))
    assert plan.config.env_map() == {"Y": "from-base", "X": "from-base"}
