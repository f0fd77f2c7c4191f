"""TarballContext and stdin: tar/tar.gz/tar.zst contexts extracted safely."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from builder.context import ContextError, DirContext, TarballContext, open_stdin
from builder.layers.compress import Compression, new_compressor


def _tar(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size, info.mode = len(entry[1]), 0o755
                tar.addfile(info, io.BytesIO(entry[1]))
    return buf.getvalue()


def _zstd(data: bytes) -> bytes:
    c = new_compressor(Compression.ZSTD)
    return c.compress(data) + c.flush()


GOOD = _tar([("Dockerfile", b"FROM scratch\n"), ("src/run.sh", b"#!/bin/sh\n")])


@pytest.mark.parametrize("codec", [lambda d: d, gzip.compress, bz2.compress, _zstd],
                         ids=["tar", "gzip", "bzip2", "zstd"])
def test_context_tar_in_any_compression(tmp_path: Path, codec: object) -> None:
    data = codec(GOOD)  # type: ignore[operator]
    ctx = TarballContext.from_stream(io.BytesIO(data), tmp_path)
    assert ctx.dockerfile == b"FROM scratch\n"
    run = ctx.path / "src/run.sh"
    assert run.read_bytes() == b"#!/bin/sh\n" and os.stat(run).st_mode & 0o777 == 0o755
    ctx.close()
    assert list(tmp_path.iterdir()) == []


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info


def _hardlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.LNKTYPE, target
    return info


@pytest.mark.parametrize(("entries", "message"), [
    ([("../escape", b"x")], "'..' would escape"),
    ([("/abs", b"x")], "absolute paths are not allowed"),
    ([_symlink("out", "SENTINEL"), ("out/pwned", b"x")], "outside|symlink"),
    ([_symlink("up", "../../.."), ("up/pwned", b"x")], "outside|symlink"),
    ([_device("null")], "device nodes"),
    ([_hardlink("h", "../../SENTINEL/passwd")], "'..' would escape"),
], ids=["dotdot", "absolute", "symlink-abs", "symlink-rel", "device", "hardlink"])
def test_hostile_context_tar_is_refused_and_leaves_nothing(
    tmp_path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]], message: str
) -> None:
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "passwd").write_text("secret")
    work = tmp_path / "work" / "a" / "b"
    work.mkdir(parents=True)
    for entry in entries:
        if isinstance(entry, tarfile.TarInfo) and entry.linkname:
            entry.linkname = entry.linkname.replace("SENTINEL", str(sentinel))
    data = _tar([("Dockerfile", b"FROM x\n"), *entries])
    with pytest.raises(ContextError, match=message):
        TarballContext.from_stream(io.BytesIO(data), work)
    assert list(work.iterdir()) == []
    assert sorted(os.listdir(sentinel)) == ["passwd"]
    assert (sentinel / "passwd").read_text() == "secret"


def test_absolute_symlink_targets_are_kept(tmp_path: Path) -> None:
    data = _tar([("Dockerfile", b"FROM x\n"), _symlink("py", "/usr/bin/python3")])
    ctx = TarballContext.from_stream(io.BytesIO(data), tmp_path)
    assert os.readlink(ctx.path / "py") == "/usr/bin/python3"


def test_truncated_tar_is_a_clear_error(tmp_path: Path) -> None:
    data = gzip.compress(_tar([("Dockerfile", b"FROM x\n"), ("big", os.urandom(50_000))]))
    with pytest.raises(ContextError, match="context tar"):
        TarballContext.from_stream(io.BytesIO(data[:2000]), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stdin_with_a_tar_is_a_context(tmp_path: Path) -> None:
    ctx = open_stdin(io.BytesIO(gzip.compress(GOOD)), tmp_path)
    assert isinstance(ctx, TarballContext)
    assert (ctx.path / "src/run.sh").is_file()


def test_stdin_with_text_is_a_dockerfile_and_an_empty_context(tmp_path: Path) -> None:
    text = b"FROM busybox\nRUN echo hi\n" * 100
    ctx = open_stdin(io.BytesIO(text), tmp_path)
    assert isinstance(ctx, DirContext) and not isinstance(ctx, TarballContext)
    assert ctx.dockerfile == text and ctx.dockerfile_name == "-"
    assert list(ctx.path.iterdir()) == []
    ctx.close()
    assert list(tmp_path.iterdir()) == []
