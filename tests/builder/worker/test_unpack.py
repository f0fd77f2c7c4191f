"""ADD's local archive extraction: detected by content, extracted safely (item 38)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
from pathlib import Path

import pytest

from builder.layers.compress import Compression, new_compressor
from builder.worker import FileOpError
from tests.builder.worker.conftest import Run, copy, write


def _tar(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size, info.mode, info.mtime = len(entry[1]), 0o640, 1_000_000
                tar.addfile(info, io.BytesIO(entry[1]))
    return buf.getvalue()


def _zstd(data: bytes) -> bytes:
    c = new_compressor(Compression.ZSTD)
    return c.compress(data) + c.flush()


CODECS = {
    "plain": lambda d: d, "gzip": gzip.compress, "bzip2": bz2.compress,
    "xz": lzma.compress, "zstd": _zstd,
}


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_add_extracts_archives_detected_by_content(
    run: Run, src: Path, root: Path, codec: str
) -> None:
    data = CODECS[codec](_tar([("pkg/bin/tool", b"#!/bin/sh\n"), ("pkg/README", b"hi")]))
    (src / "download.bin").write_bytes(data)  # the name says nothing
    run([copy("/download.bin", "/opt/", unpack=True)])
    assert (root / "opt/pkg/README").read_text() == "hi"
    assert oct(os.stat(root / "opt/pkg/bin/tool").st_mode & 0o777) == oct(0o640)
    assert os.stat(root / "opt/pkg/README").st_mtime == 1_000_000


def test_non_archive_is_copied_even_when_named_like_one(
    run: Run, src: Path, root: Path
) -> None:
    write(src / "fake.tar.gz", "not an archive at all" * 40)
    (src / "empty.tar").write_bytes(b"")
    run([copy("/fake.tar.gz", "/d/", unpack=True), copy("/empty.tar", "/d/", unpack=True)])
    assert (root / "d/fake.tar.gz").read_text().startswith("not an archive")
    assert (root / "d/empty.tar").read_bytes() == b""


def test_copy_without_unpack_keeps_the_archive(run: Run, src: Path, root: Path) -> None:
    (src / "a.tar.gz").write_bytes(gzip.compress(_tar([("x", b"1")])))
    run([copy("/a.tar.gz", "/d/")])
    assert os.listdir(root / "d") == ["a.tar.gz"]


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/../../escape"])
def test_hostile_archive_names_are_refused(
    run: Run, src: Path, root: Path, sentinel: Path, name: str
) -> None:
    info = tarfile.TarInfo(name)
    info.size = 1
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(info, io.BytesIO(b"x"))
    (src / "evil.tar").write_bytes(buf.getvalue())
    with pytest.raises(FileOpError, match="cannot extract evil.tar"):
        run([copy("/evil.tar", "/d/", unpack=True)])
    assert sorted(os.listdir(sentinel)) == ["passwd"]


def test_archive_symlink_escape_is_refused(
    run: Run, src: Path, root: Path, sentinel: Path
) -> None:
    link = tarfile.TarInfo("out")
    link.type, link.linkname = tarfile.SYMTYPE, str(sentinel)
    (src / "evil.tar").write_bytes(_tar([link, ("out/pwned", b"x")]))
    with pytest.raises(FileOpError, match="symlink"):
        run([copy("/evil.tar", "/d/", unpack=True)])
    assert sorted(os.listdir(sentinel)) == ["passwd"]


def test_corrupt_archive_is_a_clear_error(run: Run, src: Path) -> None:
    data = gzip.compress(_tar([("big", b"y" * 100_000)]))
    (src / "broken.tgz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileOpError, match="cannot extract broken.tgz"):
        run([copy("/broken.tgz", "/d/", unpack=True)])
