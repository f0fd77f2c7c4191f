"""Realistic Dockerfiles (testdata/dockerfiles/<case>/) compiled and checked against the
hand-written expectations in each case's expect.json.

expect.json keys (all optional): ``options`` (BuildOptions fields), ``built`` and
``pruned`` (stage names or indices), ``ops`` (count per op kind), ``images`` (base
image refs), ``includes`` (context include lists), ``mounts`` (``[type, target]`` of
every extra RUN mount, in order), ``stage_edges`` (``[from, to]`` stage pairs the
graph connects), ``argv`` (the argv of every RUN), ``config`` (final image config
fields), ``history`` (created_by of every entry), ``diagnostics`` (rule names),
``error`` / ``error_line`` (the compile must fail so). ``images.json`` beside the
Dockerfile gives base-image configs for a DictResolver (others get an empty config).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontend.compile import BuildOptions, BuildPlan, ContextKind, compile_dockerfile
from frontend.errors import FrontendError
from frontend.imageconfig import HealthConfig, ImageConfig
from frontend.parser import parse_dockerfile
from frontend.resolver import DictResolver
from solver.ops import ExecOp, ImageSource, LocalSource, SourceOp

CASES = Path(__file__).resolve().parents[3] / "testdata" / "dockerfiles"


def _config(raw: dict[str, Any]) -> ImageConfig:
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("env", "labels"):
            fields[key] = tuple(value.items())
        elif key == "healthcheck":
            fields[key] = HealthConfig(tuple(value.pop("test")), **value)
        elif isinstance(value, list):
            fields[key] = tuple(value)
        else:
            fields[key] = value
    return ImageConfig(**fields)


def _compile(case: Path, expect: dict[str, Any]) -> BuildPlan:
    images_file = case / "images.json"
    images = json.loads(images_file.read_text()) if images_file.exists() else {}
    resolver = DictResolver({k: _config(v) for k, v in images.items()}, default=ImageConfig())
    opts = dict(expect.get("options", {}))
    for key in ("build_args", "labels"):
        if key in opts:
            opts[key] = tuple(opts[key].items())
    if "contexts" in opts:
        opts["contexts"] = tuple((k, ContextKind(v)) for k, v in opts["contexts"].items())
    dockerfile = parse_dockerfile((case / "Dockerfile").read_bytes())
    return compile_dockerfile(dockerfile, BuildOptions(**opts), resolver)


def _stage_edges(plan: BuildPlan) -> list[list[str]]:
    meta, edges = plan.definition.metadata, set()
    for digest, op in plan.definition.ops.items():
        for inp in op.inputs:
            src, dst = meta[inp.digest].stage, meta[digest].stage
            if src and dst and src != dst:
                edges.add((src, dst))
    return sorted([a, b] for a, b in edges)


def _actual_config(config: ImageConfig, keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(config, key)
        if key in ("env", "labels"):
            value = dict(value)
        elif key == "healthcheck" and value is not None:
            value = {"test": list(value.test), **{
                k: getattr(value, k) for k in
                ("interval", "timeout", "start_period", "start_interval", "retries")
                if getattr(value, k) is not None}}
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _check(plan: BuildPlan, expect: dict[str, Any]) -> None:
    ops = list(plan.definition.ops.values())
    names = {s.index: s.name or str(s.index) for s in plan.stages}
    if "built" in expect:
        assert [names[s.index] for s in plan.stages if s.built] == expect["built"]
    if "pruned" in expect:
        assert [names[s.index] for s in plan.stages if not s.built] == expect["pruned"]
    if "ops" in expect:
        kinds: dict[str, int] = {}
        for op in ops:
            kinds[type(op).__name__] = kinds.get(type(op).__name__, 0) + 1
        assert kinds == expect["ops"]
    sources = [op.source for op in ops if isinstance(op, SourceOp)]
    if "images" in expect:
        assert sorted(s.ref for s in sources if isinstance(s, ImageSource)) == expect["images"]
    if "includes" in expect:
        got = [list(s.include) for s in sources if isinstance(s, LocalSource)]
        assert got == expect["includes"]
    runs = [op for op in ops if isinstance(op, ExecOp)]
    if "mounts" in expect:
        assert [[m.type.value, m.target] for r in runs for m in r.mounts[1:]] == expect["mounts"]
    if "argv" in expect:
        assert [list(r.meta.args) for r in runs] == expect["argv"]
    if "stage_edges" in expect:
        assert _stage_edges(plan) == expect["stage_edges"]
    if "config" in expect:
        assert _actual_config(plan.config, list(expect["config"])) == expect["config"]
    if "history" in expect:
        assert [h.created_by for h in plan.history] == expect["history"]
    assert sorted(d.rule for d in plan.diagnostics) == sorted(expect.get("diagnostics", []))


@pytest.mark.parametrize("case", sorted(p for p in CASES.iterdir() if p.is_dir()),
                         ids=lambda p: p.name)
def test_dockerfile_compiles_as_expected(case: Path) -> None:
    expect = json.loads((case / "expect.json").read_text())
    if "error" in expect:
        with pytest.raises(FrontendError) as info:
            _compile(case, expect)
        assert expect["error"] in info.value.message
        assert info.value.span is not None and info.value.span.line == expect["error_line"]
        return
    _check(_compile(case, expect), expect)


def test_there_are_many_realistic_cases() -> None:
    assert len([p for p in CASES.iterdir() if p.is_dir()]) >= 30
