"""COPY/ADD → FileOp actions and their sources (FEATURES.md §4 items 29-31, 38-41)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontend.compile import BuildPlan
from frontend.errors import InstructionError
from solver.ops import (
    ChownOpt,
    Copy,
    FileOp,
    GitSource,
    HTTPSource,
    LocalSource,
    Mkfile,
    SourceOp,
)

Build = Callable[..., BuildPlan]


def _fileops(plan: BuildPlan) -> list[FileOp]:
    return [op for op in plan.definition.ops.values() if isinstance(op, FileOp)]


def _source_of(plan: BuildPlan, copy: Copy) -> object:
    op = plan.definition.ops[copy.source.digest]
    assert isinstance(op, SourceOp)
    return op.source


def test_context_source_includes_exactly_the_paths_read(build: Build) -> None:
    plan = build("FROM alpine\nCOPY go.mod go.sum ./\nCOPY cmd/ /src/cmd/\n")
    first, second = _fileops(plan)
    assert [a.src for a in first.actions if isinstance(a, Copy)] == ["/go.mod", "/go.sum"]
    copy = first.actions[0]
    assert isinstance(copy, Copy)
    assert _source_of(plan, copy) == LocalSource("context", ("go.mod", "go.sum"))
    copy2 = second.actions[0]
    assert isinstance(copy2, Copy)
    assert _source_of(plan, copy2) == LocalSource("context", ("cmd",))
    assert second.base is not None and second.base.digest == first.digest


def test_copy_dot_reads_the_whole_context(build: Build) -> None:
    plan = build("FROM alpine\nCOPY . /app\n")
    copy = _fileops(plan)[0].actions[0]
    assert isinstance(copy, Copy) and copy.src == "/"
    assert _source_of(plan, copy) == LocalSource("context", ())


def test_relative_destination_joins_workdir_and_keeps_trailing_slash(build: Build) -> None:
    plan = build("FROM alpine\nWORKDIR /app\nCOPY a.txt sub/\nCOPY b.txt file\nCOPY c.txt .\n")
    dests = [a.dest for op in _fileops(plan) for a in op.actions if isinstance(a, Copy)]
    assert dests == ["/app/sub/", "/app/file", "/app/"]


def test_several_sources_need_a_directory_destination(build: Build) -> None:
    with pytest.raises(InstructionError, match="must be a directory and end with a /") as info:
        build("FROM alpine\nCOPY a b /dst\n")
    assert info.value.hint == "write /dst/"


def test_source_paths_are_clamped_to_context_root(build: Build) -> None:
    plan = build("FROM alpine\nCOPY ../../etc/passwd /x/ /abs/path/ /d/\n")
    srcs = [a.src for a in _fileops(plan)[0].actions if isinstance(a, Copy)]
    assert srcs == ["/etc/passwd", "/x", "/abs/path"]


def test_copy_flags_reach_the_actions_expanded(build: Build) -> None:
    plan = build("FROM alpine\nARG U=app\nCOPY --chown=$U:staff --chmod=u=rwX,go=rX "
                 "--link --parents --exclude=*.md ./x/./y/ /p/\n")
    copy = _fileops(plan)[0].actions[0]
    assert isinstance(copy, Copy)
    assert copy.chown == ChownOpt("app", "staff") and copy.chmod == "u=rwX,go=rX"
    assert (copy.link, copy.parents, copy.exclude) == (True, True, ("*.md",))


def test_copy_heredoc_is_a_mkfile_expanded_unless_quoted(build: Build) -> None:
    text = (
        "FROM alpine\nARG NAME=world\n"
        "COPY <<EOF /hello.txt\nhello $NAME\nEOF\n"
        "COPY <<'EOF' /raw.txt\nhello $NAME\nEOF\n"
        "COPY --chmod=755 <<run.sh /usr/bin/\n#!/bin/sh\nrun.sh\n"
    )
    plan = build(text)
    files = [a for op in _fileops(plan) for a in op.actions if isinstance(a, Mkfile)]
    assert files == [
        Mkfile("/hello.txt", b"hello world\n", 0o644),
        Mkfile("/raw.txt", b"hello $NAME\n", 0o644),
        Mkfile("/usr/bin/run.sh", b"#!/bin/sh\n", 0o755),
    ]
    assert plan.history[-1].created_by == "COPY <<run.sh /usr/bin/ # buildkit"


def test_add_url_downloads_without_unpacking(build: Build) -> None:
    plan = build("FROM alpine\nADD --checksum=sha256:abc https://example.com/v/tool.tar.gz /opt/\n")
    copy = _fileops(plan)[0].actions[0]
    assert isinstance(copy, Copy)
    assert _source_of(plan, copy) == HTTPSource(
        "https://example.com/v/tool.tar.gz", "sha256:abc", "tool.tar.gz"
    )
    assert (copy.src, copy.unpack) == ("/tool.tar.gz", False)


def test_add_url_without_file_name_into_directory_fails(build: Build) -> None:
    with pytest.raises(InstructionError, match="cannot determine filename"):
        build("FROM alpine\nADD http://example.com /d/\n")


def test_add_http_checksum_must_be_sha256(build: Build) -> None:
    with pytest.raises(InstructionError, match="invalid --checksum"):
        build("FROM alpine\nADD --checksum=md5:x https://example.com/a /a\n")


def test_add_git_url_is_a_git_source(build: Build) -> None:
    url = "https://github.com/moby/buildkit.git#v0.13:docs"
    plan = build(f"FROM alpine\nADD --keep-git-dir {url} /src\n")
    copy = _fileops(plan)[0].actions[0]
    assert isinstance(copy, Copy)
    assert _source_of(plan, copy) == GitSource(
        "https://github.com/moby/buildkit.git", "v0.13", "docs", True
    )


def test_add_local_archive_unpacks_unless_told_not_to(build: Build) -> None:
    plan = build("FROM alpine\nADD rootfs.tar.xz /\nADD --unpack=false keep.tar /k/\n")
    unpacks = [a.unpack for op in _fileops(plan) for a in op.actions if isinstance(a, Copy)]
    assert unpacks == [True, False]


def test_copy_history_shows_sources_and_destination_as_written(build: Build) -> None:
    plan = build("FROM alpine\nARG D=/dst\nCOPY --from=alpine a b $D/\n")
    assert plan.history[-1].created_by == "COPY a b /dst/ # buildkit"
    assert plan.history[-1].empty_layer is False


def test_chmod_may_come_from_an_arg_and_is_checked_after_expansion(build: Build) -> None:
    plan = build("FROM alpine\nARG MODE=0750\nCOPY --chmod=$MODE run.sh /bin/\n")
    copy = _fileops(plan)[0].actions[0]
    assert isinstance(copy, Copy) and copy.chmod == "0750"
    with pytest.raises(InstructionError, match="invalid --chmod=9"):
        build("FROM alpine\nARG MODE=9\nCOPY --chmod=$MODE run.sh /bin/\n")
