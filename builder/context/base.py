"""The ``BuildContext`` protocol and the directory-backed context all kinds share.

May import: stdlib, frontend.dockerignore, builder.errors, builder.worker.

A context is a directory of files (``path``) plus the Dockerfile bytes and the
ignore rules that apply to it. ``source_tree()`` hands the copier and the content
hasher direct, ignore-aware access, so nothing is copied before a COPY reads it.
Kinds (kaniko's ``buildcontext/`` idea): ``LocalContext`` (a client directory),
``TarballContext`` (a tar stream: stdin, a file, a downloaded URL), ``GitContext``
(a git URL). The Dockerfile defaults to ``Dockerfile``, falling back to a
lowercase ``dockerfile`` in the same directory (BuildKit's dockerui).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol

from builder.errors import PybuildError
from builder.worker import SourceTree
from frontend.dockerignore import IgnorePatternError, IgnoreRules, candidate_files, parse

__all__ = ["BuildContext", "ContextError", "DEFAULT_DOCKERFILE", "DirContext"]

DEFAULT_DOCKERFILE = "Dockerfile"


class ContextError(PybuildError):
    """The build context cannot be read: missing, malformed or hostile input."""


class BuildContext(Protocol):
    """What a build needs from its context, whatever its origin."""

    @property
    def path(self) -> Path: ...

    @property
    def dockerfile(self) -> bytes: ...

    @property
    def dockerfile_name(self) -> str: ...

    @property
    def ignore_rules(self) -> IgnoreRules | None: ...

    def source_tree(self) -> SourceTree: ...

    def close(self) -> None: ...


class DirContext:
    """A context whose files are in the directory ``path``.

    ``dockerfile_path`` is relative to ``path`` or absolute (``-f`` anywhere);
    ``dockerfile`` given as bytes (a Dockerfile from stdin) skips reading one.
    ``owned`` marks a temporary directory that ``close()`` removes.
    """

    def __init__(
        self, path: Path, dockerfile_path: str | None = None, dockerfile: bytes | None = None,
        owned: bool = False,
    ) -> None:
        self._path = Path(path)
        self._owned = owned
        if not self._path.is_dir():
            raise ContextError(f"build context {path}: not a directory")
        if dockerfile is not None:
            self._name, self._dockerfile = "-", dockerfile
        else:
            self._name, self._dockerfile = self._read_dockerfile(dockerfile_path)
        self._ignore = self._read_ignore()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def dockerfile(self) -> bytes:
        return self._dockerfile

    @property
    def dockerfile_name(self) -> str:
        return self._name

    @property
    def ignore_rules(self) -> IgnoreRules | None:
        return self._ignore

    def source_tree(self) -> SourceTree:
        """Ignore-aware access for COPY: files owned 0:0 unless ``--chown``."""
        return SourceTree(self._path, self._ignore, root_owned=True)

    def close(self) -> None:
        """Remove the directory if this context made it."""
        if self._owned:
            shutil.rmtree(self._path, ignore_errors=True)

    def __enter__(self) -> DirContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_dockerfile(self, given: str | None) -> tuple[str, bytes]:
        name = given or DEFAULT_DOCKERFILE
        candidates = [name]
        if not given:
            candidates.append(DEFAULT_DOCKERFILE.lower())
        for candidate in candidates:
            full = self._path / candidate
            if full.is_file():
                return candidate, full.read_bytes()
        raise ContextError(
            f"cannot read Dockerfile: {self._path / name}: no such file",
            hint="pass -f FILE, or add a Dockerfile to the build context",
        )

    def _read_ignore(self) -> IgnoreRules | None:
        name = "" if self._name == "-" else self._name
        for candidate in candidate_files(name):
            full = self._path / candidate
            if full.is_file():
                try:
                    return parse(full.read_text(errors="replace"), candidate)
                except IgnorePatternError as exc:
                    raise ContextError(str(exc), hint="fix the ignore file pattern") from None
        return None
