"""COPY semantics of builder.worker.file_op (FEATURES.md §4 items 28-37)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from builder.worker import FileOpError, SourceTree
from frontend.dockerignore import parse
from tests.builder.worker.conftest import Run, copy, snapshot, write


def test_directory_source_copies_contents_merged_into_existing_dest(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "dir/a.txt", "a")
    write(src / "dir/sub/b.txt", "b")
    write(root / "dst/old.txt", "old")
    run([copy("/dir", "/dst/")])
    assert (root / "dst/a.txt").read_text() == "a"
    assert (root / "dst/sub/b.txt").read_text() == "b"
    assert (root / "dst/old.txt").read_text() == "old"
    assert not (root / "dst/dir").exists()


def test_directory_onto_existing_file_is_an_error(run: Run, src: Path, root: Path) -> None:
    write(src / "dir/a.txt")
    write(root / "dst", "file")
    with pytest.raises(FileOpError, match="non-directory /dst"):
        run([copy("/dir", "/dst")])


def test_trailing_slash_on_dest_makes_it_a_directory(run: Run, src: Path, root: Path) -> None:
    write(src / "f", "data")
    run([copy("/f", "/abs"), copy("/f", "/absdir/")])
    assert (root / "abs").read_text() == "data"
    assert (root / "absdir/f").read_text() == "data"


def test_file_into_existing_directory_keeps_its_name(run: Run, src: Path, root: Path) -> None:
    write(src / "f", "data")
    (root / "d").mkdir()
    run([copy("/f", "/d")])
    assert (root / "d/f").read_text() == "data"


def test_missing_parent_directories_are_created_0755(run: Run, src: Path, root: Path) -> None:
    write(src / "f")
    run([copy("/f", "/a/b/c/")])
    assert (root / "a/b/c/f").is_file()
    assert stat.S_IMODE((root / "a/b").stat().st_mode) == 0o755


def test_leading_dotdot_on_source_is_clamped_to_the_root(run: Run, src: Path, root: Path) -> None:
    write(src / "f", "inside")
    run([copy("../../f", "/out")])
    assert (root / "out").read_text() == "inside"


def test_empty_wildcard_is_a_noop_but_missing_literal_fails(
    run: Run, src: Path, root: Path
) -> None:
    before = snapshot(root)
    run([copy("/*.nothing", "/dst/")])
    assert snapshot(root) == before
    with pytest.raises(FileOpError, match="missing.txt: not found"):
        run([copy("/missing.txt", "/dst/")])


def test_wildcards_follow_go_filepath_match(run: Run, src: Path, root: Path) -> None:
    for name in ("a.txt", "b.txt", ".hidden.txt", "c.md", "sub/d.txt", "sub/deep/e.txt"):
        write(src / name, name)
    run([copy("/*.txt", "/w/"), copy("/**/*.txt", "/s/"), copy("/[ab].txt", "/c/")])
    assert sorted(os.listdir(root / "w")) == [".hidden.txt", "a.txt", "b.txt"]
    assert sorted(os.listdir(root / "s")) == ["d.txt"]  # ** is just *
    assert sorted(os.listdir(root / "c")) == ["a.txt", "b.txt"]


def test_wildcard_matching_a_directory_copies_its_contents(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "pkg1/x", "1")
    write(src / "pkg2/y", "2")
    run([copy("/pkg*", "/p/")])
    assert sorted(os.listdir(root / "p")) == ["x", "y"]


def test_symlink_named_as_source_is_followed(run: Run, src: Path, root: Path) -> None:
    write(src / "real/file", "content")
    os.symlink("real", src / "link")
    os.symlink("real/file", src / "flink")
    run([copy("/link", "/d/"), copy("/flink", "/f")])
    assert (root / "d/file").read_text() == "content"
    assert (root / "f").read_text() == "content" and not (root / "f").is_symlink()


def test_symlinks_inside_a_copied_directory_stay_symlinks(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "dir/target", "t")
    os.symlink("target", src / "dir/rel")
    os.symlink("/etc/passwd", src / "dir/abs")
    run([copy("/dir", "/d/")])
    assert os.readlink(root / "d/rel") == "target"
    assert os.readlink(root / "d/abs") == "/etc/passwd"


def test_source_symlink_never_leaves_the_source_root(
    run: Run, src: Path, root: Path, sentinel: Path
) -> None:
    os.symlink(str(sentinel / "passwd"), src / "escape")
    os.symlink("../../../../../../sentinel", src / "up")
    write(src / str(sentinel).lstrip("/") / "passwd", "in-root copy")
    run([copy("/escape", "/got")])
    assert (root / "got").read_text() == "in-root copy"
    with pytest.raises(FileOpError, match="not found"):
        run([copy("/up/passwd", "/x")])


def test_dest_symlink_is_resolved_inside_the_root(
    run: Run, src: Path, root: Path, sentinel: Path
) -> None:
    write(src / "f", "payload")
    os.symlink(str(sentinel), root / "out")
    os.symlink("../../../../../../..", root / "up")
    run([copy("/f", "/out/"), copy("/f", "/up/passwd")])
    assert (sentinel / "passwd").read_text() == "host secret\n"
    assert sorted(os.listdir(sentinel)) == ["passwd"]
    assert (root / str(sentinel).lstrip("/") / "f").read_text() == "payload"
    assert (root / "passwd").read_text() == "payload"


def test_copy_never_writes_through_a_symlink_in_the_tree(
    run: Run, src: Path, root: Path, sentinel: Path
) -> None:
    write(src / "dir/passwd", "new")
    (root / "d").mkdir()
    os.symlink(str(sentinel / "passwd"), root / "d/passwd")
    run([copy("/dir", "/d/")])
    assert (sentinel / "passwd").read_text() == "host secret\n"
    assert (root / "d/passwd").read_text() == "new"


def test_hardlinks_within_one_copy_are_preserved(run: Run, src: Path, root: Path) -> None:
    write(src / "dir/a", "same")
    os.link(src / "dir/a", src / "dir/b")
    run([copy("/dir", "/d/")])
    assert os.stat(root / "d/a").st_ino == os.stat(root / "d/b").st_ino


def test_modes_and_mtimes_are_kept(run: Run, src: Path, root: Path) -> None:
    write(src / "dir/tool", "#!/bin/sh", 0o750)
    (src / "dir/sub").mkdir()
    os.chmod(src / "dir/sub", 0o701)
    os.utime(src / "dir/tool", ns=(1_000_000_000, 1_234_567_890_123))
    os.utime(src / "dir/sub", ns=(1_000_000_000, 2_000_000_000))
    run([copy("/dir", "/d/")])
    st = os.stat(root / "d/tool")
    assert stat.S_IMODE(st.st_mode) == 0o750 and st.st_mtime_ns == 1_234_567_890_123
    sub = os.stat(root / "d/sub")
    assert stat.S_IMODE(sub.st_mode) == 0o701 and sub.st_mtime_ns == 2_000_000_000


@pytest.mark.privileged
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown")
def test_context_files_are_owned_by_root_without_chown(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "f")
    os.chown(src / "f", 1234, 5678)
    run([copy("/f", "/ctx")], context=True)
    run([copy("/f", "/stage")])
    assert (os.stat(root / "ctx").st_uid, os.stat(root / "ctx").st_gid) == (0, 0)
    assert (os.stat(root / "stage").st_uid, os.stat(root / "stage").st_gid) == (1234, 5678)


def test_file_onto_existing_directory_in_tree_is_an_error(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "dir/x", "file")
    (root / "d/x").mkdir(parents=True)
    with pytest.raises(FileOpError, match="cannot replace directory /d/x"):
        run([copy("/dir", "/d/")])


def test_exclude_patterns_skip_matching_entries(run: Run, src: Path, root: Path) -> None:
    for name in ("hom1.txt", "home.md", "dir/a.txt", "dir/b.go", "dir/keep/c.txt"):
        write(src / name)
    run([copy("/dir", "/d/", exclude=("*.txt",)), copy("/hom*", "/h/", exclude=("*.txt",))])
    assert sorted(str(p.relative_to(root / "d")) for p in (root / "d").rglob("*")) == [
        "b.go", "keep", "keep/c.txt"]
    assert os.listdir(root / "h") == ["home.md"]


def test_dockerignored_files_are_not_copied(run: Run, src: Path, root: Path) -> None:
    for name in ("app.py", "secret.env", "logs/x.log", "README.md"):
        write(src / name)
    rules = parse("*.env\nlogs\n")
    run([copy("/", "/app/")], tree=SourceTree(src, rules, True))
    assert sorted(os.listdir(root / "app")) == ["README.md", "app.py"]
    with pytest.raises(FileOpError, match="not found"):
        run([copy("/secret.env", "/s")], tree=SourceTree(src, rules, True))


def test_parents_keeps_path_after_pivot(run: Run, src: Path, root: Path) -> None:
    write(src / "x/y/a.txt", "a")
    write(src / "x/z/a.txt", "z")
    run([copy("./x/./y/*.txt", "/p/", parents=True)])
    assert (root / "p/y/a.txt").read_text() == "a"
    run([copy("x/*/a.txt", "/q/", parents=True)])
    assert (root / "q/x/y/a.txt").read_text() == "a"
    assert (root / "q/x/z/a.txt").read_text() == "z"


def test_parents_never_follows_a_dest_symlink_out_of_the_root(
    run: Run, src: Path, root: Path, sentinel: Path
) -> None:
    write(src / "x/y/a.txt", "a")
    (root / "p").mkdir()
    os.symlink(str(sentinel), root / "p/y")
    run([copy("./x/./y/a.txt", "/p/", parents=True)])
    assert sorted(os.listdir(sentinel)) == ["passwd"]
    assert (root / str(sentinel).lstrip("/") / "a.txt").read_text() == "a"


def test_without_parents_same_named_files_overwrite(run: Run, src: Path, root: Path) -> None:
    write(src / "x/y/a.txt", "y")
    write(src / "x/z/a.txt", "z")
    run([copy("x/*/a.txt", "/q/")])
    assert os.listdir(root / "q") == ["a.txt"]
    assert (root / "q/a.txt").read_text() == "z"


def test_link_replaces_existing_directory_mode(run: Run, src: Path, root: Path) -> None:
    write(src / "f")
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "keep").mkdir()
    os.chmod(root / "keep", 0o1777)
    run([copy("/f", "/tmp/", link=True), copy("/f", "/keep/")])
    assert stat.S_IMODE(os.stat(root / "tmp").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(root / "keep").st_mode) == 0o1777
    assert (root / "tmp/f").is_file()


def test_link_does_not_follow_symlink_in_dest_path(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "f", "v")
    (root / "real").mkdir()
    os.symlink("real", root / "app")
    os.symlink("real", root / "app2")
    run([copy("/f", "/app/", link=True), copy("/f", "/app2/")])
    assert not (root / "app").is_symlink() and (root / "app/f").read_text() == "v"
    assert (root / "app2").is_symlink() and (root / "real/f").read_text() == "v"
    assert not list(root.parent.glob(".link-*"))


def test_without_create_dest_path_the_parent_must_exist(run: Run, src: Path) -> None:
    write(src / "f")
    with pytest.raises(FileOpError, match="destination directory /nope does not exist"):
        run([copy("/f", "/nope/f", create_dest_path=False)])


def test_unprivileged_mode_skips_owners_and_devices(src: Path, root: Path) -> None:
    from builder.worker import FileOpOptions, apply_file_actions
    from tests.builder.worker.conftest import SRC

    write(src / "dir/f", "x")
    if os.geteuid() == 0:
        os.mknod(src / "dir/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.chown(src / "dir/f", 4321, 4321)
    tree = SourceTree(src)  # a stage: owners would be kept if we could chown
    apply_file_actions(root, [copy("/dir", "/d/")], {SRC: tree}, FileOpOptions(same_owner=False))
    assert os.listdir(root / "d") == ["f"]
    assert os.stat(root / "d/f").st_uid == os.geteuid()
