"""GitContext: local repositories made with ``git init`` in tmp (item 40's .git rule)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from builder.context import ContextError, GitContext, GitURL


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=repo, check=True,
        capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "Dockerfile").write_text("FROM main\n")
    (repo / "sub").mkdir()
    (repo / "sub/Dockerfile").write_text("FROM sub\n")
    (repo / "sub/run.sh").write_text("#!/bin/sh\n")
    (repo / "sub/run.sh").chmod(0o775)
    (repo / "sub/data").write_text("d")
    (repo / "sub/data").chmod(0o664)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    _git(repo, "tag", "v1")
    (repo / "Dockerfile").write_text("FROM main2\n")
    _git(repo, "commit", "-q", "-am", "two")
    return repo


@pytest.mark.parametrize(("fragment", "want"), [
    ("", b"FROM main2\n"), ("#main", b"FROM main2\n"), ("#v1", b"FROM main\n"),
    ("#main:sub", b"FROM sub\n"), ("#:sub", b"FROM sub\n"),
])
def test_fetches_ref_and_subdir(repo: Path, tmp_path: Path, fragment: str, want: bytes) -> None:
    work = tmp_path / "work"
    work.mkdir()
    for remote in (str(repo), f"file://{repo}"):
        ctx = GitContext.fetch(GitURL.parse(remote + fragment), work)
        assert ctx.dockerfile == want
        assert not (ctx.path / ".git").exists()
        ctx.close()
    assert list(work.iterdir()) == []


def test_checkout_modes_are_normalised_to_644_and_755(repo: Path, tmp_path: Path) -> None:
    ctx = GitContext.fetch(GitURL.parse(f"{repo}#main:sub"), tmp_path)
    assert (ctx.path / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (ctx.path / "data").stat().st_mode & 0o777 == 0o644
    ctx.close()


def test_commit_prefix_and_keep_git_dir(repo: Path, tmp_path: Path) -> None:
    first = _git(repo, "rev-parse", "v1")
    ctx = GitContext.fetch(GitURL.parse(f"{repo}#{first[:10]}"), tmp_path, keep_git_dir=True)
    assert ctx.dockerfile == b"FROM main\n"
    assert (ctx.path / ".git").is_dir()
    ctx.close()


@pytest.mark.parametrize(("url", "message"), [
    ("#main", "no repository URL"),
    ("REPO#nosuchref", "git checkout nosuchref"),
    ("REPO#main:missing", "subdir 'missing' is not a directory"),
    ("REPO#main:../..", "leaves the repository"),
])
def test_bad_git_contexts_fail_clearly_and_leave_nothing(
    repo: Path, tmp_path: Path, url: str, message: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ContextError, match=message):
        GitContext.fetch(GitURL.parse(url.replace("REPO", str(repo))), work)
    assert list(work.iterdir()) == []


def test_subdir_symlink_out_of_the_repo_is_refused(repo: Path, tmp_path: Path) -> None:
    (repo / "out").symlink_to(tmp_path)
    _git(repo, "add", "out")
    _git(repo, "commit", "-q", "-m", "link")
    with pytest.raises(ContextError, match="not a directory in the repository"):
        GitContext.fetch(GitURL.parse(f"{repo}#main:out"), tmp_path)
