"""LocalContext: Dockerfile lookup (item 58) and ignore-file choice (item 57)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.context import ContextError, LocalContext


def _ctx(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ctx"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    return root


def test_reads_dockerfile_and_root_ignore_file(tmp_path: Path) -> None:
    root = _ctx(tmp_path, {"Dockerfile": "FROM scratch\n", ".dockerignore": "*.log\n"})
    with LocalContext(root) as ctx:
        assert ctx.dockerfile == b"FROM scratch\n" and ctx.dockerfile_name == "Dockerfile"
        assert ctx.ignore_rules is not None and ctx.ignore_rules.excluded("x.log")
        tree = ctx.source_tree()
        assert tree.path == root and tree.root_owned
    assert root.is_dir()  # a local context is never removed


def test_falls_back_to_lowercase_dockerfile(tmp_path: Path) -> None:
    root = _ctx(tmp_path, {"dockerfile": "FROM lower\n"})
    assert LocalContext(root).dockerfile == b"FROM lower\n"


def test_missing_dockerfile_is_a_clear_error(tmp_path: Path) -> None:
    root = _ctx(tmp_path, {"other": ""})
    with pytest.raises(ContextError, match="cannot read Dockerfile") as err:
        LocalContext(root)
    assert err.value.hint and "-f" in err.value.hint


def test_dockerfile_specific_ignore_file_replaces_the_root_one(tmp_path: Path) -> None:
    root = _ctx(tmp_path, {
        "build/app.Dockerfile": "FROM x\n", "build/app.Dockerfile.dockerignore": "*.md\n",
        ".dockerignore": "*.log\n",
    })
    ctx = LocalContext(root, "build/app.Dockerfile")
    assert ctx.ignore_rules is not None
    assert ctx.ignore_rules.excluded("a.md") and not ctx.ignore_rules.excluded("a.log")


def test_dockerfile_outside_the_context(tmp_path: Path) -> None:
    root = _ctx(tmp_path, {".dockerignore": "secret\n"})
    outside = tmp_path / "elsewhere.Dockerfile"
    outside.write_text("FROM y\n")
    ctx = LocalContext(root, str(outside))
    assert ctx.dockerfile == b"FROM y\n"
    assert ctx.ignore_rules is not None and ctx.ignore_rules.excluded("secret")


def test_bad_ignore_pattern_names_file_and_line(tmp_path: Path) -> None:
    root = _ctx(tmp_path, {"Dockerfile": "FROM x\n", ".dockerignore": "ok\n[bad\n"})
    with pytest.raises(ContextError, match=r"\.dockerignore:2"):
        LocalContext(root)


def test_context_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="not a directory"):
        LocalContext(tmp_path / "missing")
