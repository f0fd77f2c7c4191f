"""A git repository as the build context: ``https://host/repo.git#ref:subdir``.

May import: stdlib, builder.context.base.

Fetched with the ``git`` CLI into a temporary directory: ``git init``, a shallow
``git fetch --depth 1 origin <ref>`` (a full fetch when the server will not serve
that ref shallowly, e.g. an abbreviated commit), ``git checkout FETCH_HEAD``.
``subdir`` becomes the context root (it must be a directory inside the checkout,
symlinks included); ``.git`` is removed unless ``keep_git_dir``. Checkouts run
with umask 022, so files get 0644, or 0755 when git records them executable
(FEATURES.md item 40). Local paths and
``file://`` URLs work the same, which is what the tests use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builder.context.base import ContextError, DirContext

__all__ = ["GitContext", "GitURL"]

_TIMEOUT = 600


@dataclass(frozen=True, slots=True)
class GitURL:
    """A git context reference: remote, ref (branch, tag or commit) and subdir."""

    remote: str
    ref: str = ""
    subdir: str = ""

    @classmethod
    def parse(cls, text: str) -> GitURL:
        """Split ``remote#ref:subdir``.

        Raises:
            ContextError: the remote is empty or the subdir leaves the repository.
        """
        remote, _, fragment = text.partition("#")
        ref, _, subdir = fragment.partition(":")
        if not remote:
            raise ContextError(f"git context {text!r}: no repository URL")
        parts = [p for p in subdir.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise ContextError(f"git context {text!r}: subdir {subdir!r} leaves the repository")
        return cls(remote, ref, "/".join(parts))


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        return subprocess.run(
            ["git", "-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false",
             *args],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=_TIMEOUT, check=False,
            umask=0o022,
        )
    except FileNotFoundError:
        raise ContextError("git is not installed", hint="install git to build from a git URL")\
            from None
    except subprocess.TimeoutExpired:
        raise ContextError(f"git {args[0]} timed out after {_TIMEOUT}s") from None


def _checked(args: list[str], cwd: Path, what: str) -> None:
    done = _git(args, cwd)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise ContextError(f"{what}: {lines[-1] if lines else 'git failed'}")


def _fetch(url: GitURL, tmp: Path) -> None:
    _checked(["init", "-q"], tmp, "git init")
    _checked(["remote", "add", "origin", url.remote], tmp, "git remote")
    ref = url.ref or "HEAD"
    shallow = _git(["fetch", "-q", "--depth", "1", "origin", ref], tmp)
    if shallow.returncode == 0:
        _checked(["checkout", "-q", "FETCH_HEAD"], tmp, f"git checkout {ref}")
        return
    _checked(["fetch", "-q", "--tags", "origin"], tmp, f"git fetch {url.remote}")
    _checked(["checkout", "-q", ref], tmp, f"git checkout {ref}")


def _context_root(checkout: Path, subdir: str) -> Path:
    root = checkout.resolve()
    target = (checkout / subdir).resolve() if subdir else root
    if not target.is_relative_to(root) or not target.is_dir():
        raise ContextError(f"git context: subdir {subdir!r} is not a directory in the repository")
    return target


class GitContext(DirContext):
    """A context checked out from a git repository into a temporary directory."""

    @classmethod
    def fetch(
        cls, url: GitURL, tmp_parent: Path, dockerfile_path: str | None = None,
        keep_git_dir: bool = False,
    ) -> GitContext:
        """Clone ``url`` under ``tmp_parent`` and read its Dockerfile.

        Raises:
            ContextError: git failed (the message ends with git's last error
                line), the subdir is missing, or there is no Dockerfile; nothing
                is left under ``tmp_parent`` then.
        """
        tmp = Path(tempfile.mkdtemp(prefix="git-", dir=tmp_parent))
        try:
            checkout = tmp / "checkout"
            checkout.mkdir()
            _fetch(url, checkout)
            if not keep_git_dir:
                shutil.rmtree(checkout / ".git")
            context = cls(_context_root(checkout, url.subdir), dockerfile_path)
            context._cleanup = tmp
            return context
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    _cleanup: Path | None = None

    def close(self) -> None:
        """Remove the whole checkout."""
        if self._cleanup is not None:
            shutil.rmtree(self._cleanup, ignore_errors=True)
            self._cleanup = None
