"""Fixtures for compile tests: parse Dockerfile text and compile it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from frontend.compile import BuildOptions, BuildPlan, ContextKind, compile_dockerfile
from frontend.parser import parse_dockerfile
from frontend.resolver import ImageConfigResolver


@pytest.fixture
def build() -> Callable[..., BuildPlan]:
    """``build(text, resolver=None, **BuildOptions fields)`` → BuildPlan; dict
    values for build_args/labels/contexts are accepted."""

    def _build(text: str, resolver: ImageConfigResolver | None = None, **opts: Any) -> BuildPlan:
        for key in ("build_args", "labels"):
            if key in opts and isinstance(opts[key], dict):
                opts[key] = tuple(opts[key].items())
        if isinstance(opts.get("contexts"), dict):
            opts["contexts"] = tuple((k, ContextKind(v)) for k, v in opts["contexts"].items())
        return compile_dockerfile(parse_dockerfile(text), BuildOptions(**opts), resolver)

    return _build
