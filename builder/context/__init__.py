"""Build contexts: where the Dockerfile and the files COPY reads come from.

May import: stdlib, solver.*, frontend.dockerignore, frontend.errors, builder lower
layers (errors, layers, worker, exporters.tarsafe).

    LocalContext(dir, dockerfile_path)                  a client directory
    TarballContext.from_stream(stream, tmp_parent)      a tar / tar.gz / tar.zst stream
    GitContext.fetch(GitURL.parse(url), tmp_parent)     a git URL ``repo#ref:subdir``
    open_stdin(stream, tmp_parent)                      ``-``: a tar, or a Dockerfile

Exports load lazily: a local build never imports the tar and compression code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from builder.context.base import (
        DEFAULT_DOCKERFILE,
        BuildContext,
        ContextError,
        DirContext,
    )
    from builder.context.git import GitContext, GitURL
    from builder.context.local import LocalContext
    from builder.context.tarball import TarballContext, open_stdin

_HOMES = {
    "BuildContext": "base", "ContextError": "base", "DEFAULT_DOCKERFILE": "base",
    "DirContext": "base", "GitContext": "git", "GitURL": "git", "LocalContext": "local",
    "TarballContext": "tarball", "open_stdin": "tarball",
}

__all__ = [
    "BuildContext",
    "ContextError",
    "DEFAULT_DOCKERFILE",
    "DirContext",
    "GitContext",
    "GitURL",
    "LocalContext",
    "TarballContext",
    "open_stdin",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'builder.context' has no attribute {name!r}")
    return getattr(importlib.import_module(f"builder.context.{home}"), name)
