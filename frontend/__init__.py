"""Dockerfile frontend: text → syntax tree → checked, compiled build plan.

May import: frontend.*, solver value modules (source, digest, ops, definition).
Pure: no I/O beyond the bytes it is handed.

The public surface is imported lazily (PEP 562), so that ``import frontend.errors``
(which the CLI's error reporting does) does not load Lark.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from frontend.checks import CheckConfig, CheckResult, run_checks
    from frontend.compile import BuildOptions, BuildPlan, compile_dockerfile
    from frontend.errors import Diagnostic, FrontendError
    from frontend.parser import parse_dockerfile
    from frontend.resolver import ImageConfigResolver

__all__ = [
    "BuildOptions",
    "BuildPlan",
    "CheckConfig",
    "CheckResult",
    "Diagnostic",
    "FrontendError",
    "ImageConfigResolver",
    "compile_dockerfile",
    "parse_dockerfile",
    "run_checks",
]

_HOMES = {
    "BuildOptions": "frontend.compile",
    "BuildPlan": "frontend.compile",
    "CheckConfig": "frontend.checks",
    "CheckResult": "frontend.checks",
    "Diagnostic": "frontend.errors",
    "FrontendError": "frontend.errors",
    "ImageConfigResolver": "frontend.resolver",
    "compile_dockerfile": "frontend.compile",
    "parse_dockerfile": "frontend.parser",
    "run_checks": "frontend.checks",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'frontend' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
