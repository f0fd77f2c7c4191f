"""Content checksums of what a Copy reads, and the persistent file-metadata cache."""

from __future__ import annotations

import builtins
import os
import time
from pathlib import Path
from unittest import mock

import pytest

from builder.worker import ContentHasher, FileOpError, HashCache, SourceTree
from frontend.dockerignore import parse
from tests.builder.worker.conftest import copy, write


@pytest.fixture
def ctx(src: Path) -> Path:
    write(src / "app/main.py", "print(1)")
    write(src / "app/lib/util.py", "x = 1")
    write(src / "README.md", "readme")
    write(src / "notes.txt", "n")
    return src


def _sum(tree: Path | SourceTree, src: str = "/app", **kw: object) -> str:
    given = tree if isinstance(tree, SourceTree) else SourceTree(tree, root_owned=True)
    return ContentHasher().checksum(given, copy(src, "/dst/", **kw))


def test_same_content_with_other_mtimes_gives_the_same_checksum(ctx: Path) -> None:
    before = _sum(ctx)
    os.utime(ctx / "app/main.py", ns=(1, 1))
    os.utime(ctx / "app/lib", ns=(5, 5))
    assert _sum(ctx) == before


@pytest.mark.parametrize("change", ["chmod", "rename", "content", "add", "symlink"])
def test_each_relevant_change_gives_a_new_checksum(ctx: Path, change: str) -> None:
    before = _sum(ctx)
    match change:
        case "chmod":
            os.chmod(ctx / "app/main.py", 0o755)
        case "rename":
            os.rename(ctx / "app/main.py", ctx / "app/main2.py")
        case "content":
            (ctx / "app/main.py").write_text("print(2)")
        case "add":
            write(ctx / "app/new.py")
        case "symlink":
            os.symlink("main.py", ctx / "app/link")
    assert _sum(ctx) != before


def test_files_outside_the_copy_do_not_matter(ctx: Path) -> None:
    before = _sum(ctx)
    (ctx / "README.md").write_text("changed")
    write(ctx / "other/x")
    assert _sum(ctx) == before


def test_ignored_and_excluded_files_do_not_matter(ctx: Path) -> None:
    tree = SourceTree(ctx, parse("app/lib\n"), True)
    before = _sum(tree, exclude=("*.log",))
    (ctx / "app/lib/util.py").write_text("changed")
    write(ctx / "app/debug.log")
    assert _sum(tree, exclude=("*.log",)) == before


def test_wildcard_hashes_the_set_of_matches(ctx: Path) -> None:
    before = _sum(ctx, "/*.md")
    write(ctx / "CHANGES.md")
    after = _sum(ctx, "/*.md")
    assert after != before
    (ctx / "notes.txt").write_text("edited")
    assert _sum(ctx, "/*.md") == after
    assert _sum(ctx, "/*.none") == _sum(ctx, "/*.zip")  # both the empty set


def test_missing_literal_source_fails(ctx: Path) -> None:
    with pytest.raises(FileOpError, match="not found"):
        _sum(ctx, "/nope")


def test_source_owner_counts_unless_root_owned(ctx: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to chown")
    own, stage = SourceTree(ctx, root_owned=True), SourceTree(ctx)
    before_ctx, before_stage = _sum(own), _sum(stage)
    os.chown(ctx / "app/main.py", 4321, 4321)
    assert _sum(own) == before_ctx
    assert _sum(stage) != before_stage


def _count_opens(monkey: mock.MagicMock) -> int:
    return sum(1 for call in monkey.call_args_list if str(call.args[0]).endswith(".py"))


def test_metadata_cache_avoids_rehashing_unchanged_files(ctx: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    with HashCache(cache_dir) as cache:
        first = ContentHasher(cache).checksum(SourceTree(ctx), copy("/app", "/d/"))
        assert cache.reads == 2
    (ctx / "app/main.py").write_text("print(3)")
    real_open = builtins.open
    with HashCache(cache_dir) as cache, mock.patch(
        "builtins.open", side_effect=real_open
    ) as opened:
        second = ContentHasher(cache).checksum(SourceTree(ctx), copy("/app", "/d/"))
        assert cache.reads == 1  # util.py came from the cache
        assert _count_opens(opened) == 1
    assert first != second
    with HashCache(cache_dir) as cache:
        assert ContentHasher(cache).checksum(SourceTree(ctx), copy("/app", "/d/")) == second
        assert cache.reads == 0


def test_metadata_cache_notices_a_same_size_edit_with_restored_mtime(
    ctx: Path, tmp_path: Path
) -> None:
    path = ctx / "app/main.py"
    os.utime(path, ns=(10**18, 10**18))
    with HashCache(tmp_path / "c") as cache:
        before = ContentHasher(cache).checksum(SourceTree(ctx), copy("/app", "/d/"))
    time.sleep(0.02)  # beyond the kernel's coarse ctime clock granularity
    path.write_text("print(9)")  # same size
    os.utime(path, ns=(10**18, 10**18))  # mtime restored; ctime moves on
    with HashCache(tmp_path / "c") as cache:
        assert ContentHasher(cache).checksum(SourceTree(ctx), copy("/app", "/d/")) != before


def test_op_checksum_covers_each_copy_from_that_input_and_lists_files(ctx: Path) -> None:
    from solver.digest import Digest
    from solver.ops import Copy, FileOp, Input, Mkfile
    from tests.builder.worker.conftest import SRC

    other = Input(Digest.from_hex("2" * 64))
    op = FileOp(None, (copy("/app", "/a/"), Mkfile("/m", b""), copy("/README.md", "/r"),
                       Copy(other, "/nope", "/x")))
    hasher = ContentHasher()
    tree = SourceTree(ctx, root_owned=True)
    result = hasher.op_checksum(op, SRC, tree)
    assert [f.path for f in result.files] == ["app/lib/util.py", "app/main.py", "README.md"]
    (ctx / "README.md").write_text("new readme")
    changed = hasher.op_checksum(op, SRC, tree)
    assert changed.digest != result.digest
    assert [f.digest == g.digest for f, g in zip(result.files, changed.files, strict=True)] == [
        True, True, False]


def test_undecodable_file_names_are_hashed_and_copied(src: Path, tmp_path: Path) -> None:
    from builder.worker import apply_file_actions
    from tests.builder.worker.conftest import SRC

    name = os.fsdecode(b"caf\xe9.txt")  # latin-1, not UTF-8
    write(src / "d" / name, "x")
    with HashCache(tmp_path / "c") as cache:
        first = ContentHasher(cache).checksum(SourceTree(src), copy("/d", "/o/"))
    with HashCache(tmp_path / "c") as cache:
        assert ContentHasher(cache).checksum(SourceTree(src), copy("/d", "/o/")) == first
        assert cache.reads == 0
    root = tmp_path / "root"
    root.mkdir()
    apply_file_actions(root, [copy("/d", "/o/")], {SRC: SourceTree(src)})
    assert os.listdir(os.fsencode(root / "o")) == [b"caf\xe9.txt"]
