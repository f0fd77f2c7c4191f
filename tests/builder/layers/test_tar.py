"""Layer tar bytes: deterministic PAX entries, links, whiteouts, SOURCE_DATE_EPOCH clamping."""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from builder.errors import InvalidInputError
from builder.layers import Change, ChangeKind, changes_from_dir, changes_from_upper
from builder.layers.tar import CHUNK, write_tar
from tests.builder.layers.layertrees import describe_tree, make_rich_tree


def _tar(changes: object, epoch: int | None = None) -> bytes:
    buf = io.BytesIO()
    write_tar(changes, buf, epoch)  # type: ignore[arg-type]
    return buf.getvalue()


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return tar.getmembers()


def test_archive_ends_with_two_zero_blocks_and_whole_blocks(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 700)
    data = _tar(changes_from_dir(tmp_path))
    assert len(data) % 512 == 0
    assert data.endswith(b"\0" * 1024)
    assert len(data) == 512 + 1024 + 1024  # header, 700 bytes padded to 1024, end


def test_owners_are_numeric_and_names_empty(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    os.chown(tmp_path / "f", 1234, 5678)
    (m,) = _members(_tar(changes_from_dir(tmp_path)))
    assert (m.uid, m.gid, m.uname, m.gname) == (1234, 5678, "", "")


def test_directories_have_a_trailing_slash(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    data = _tar(changes_from_dir(tmp_path))
    assert data[:100].rstrip(b"\0") == b"d/"


def test_long_and_unicode_names_use_pax_records(tmp_path: Path) -> None:
    long = "n" * 180
    (tmp_path / long).write_text("x")
    (tmp_path / "ü☃").write_text("y")
    data = _tar(changes_from_dir(tmp_path))
    assert b" path=" + long.encode() in data
    assert [m.name for m in _members(data)] == [long, "ü☃"]


def test_second_hard_link_is_a_link_to_the_first(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("data")
    os.link(tmp_path / "a", tmp_path / "b")
    a, b = _members(_tar(changes_from_dir(tmp_path)))
    assert a.isreg() and a.size == 4
    assert b.islnk() and b.linkname == "a" and b.size == 0


def test_xattrs_including_capabilities_are_pax_records(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    cap = bytes.fromhex("0100000200200000000000000000000000000000")
    os.setxattr(tmp_path / "f", "security.capability", cap)
    os.setxattr(tmp_path / "f", "trusted.overlay.origin", b"ignored")
    (m,) = _members(_tar(changes_from_dir(tmp_path)))
    xattrs = {k: v for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
    assert list(xattrs) == ["SCHILY.xattr.security.capability"]
    assert xattrs["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape") == cap


def test_source_date_epoch_clamps_only_newer_mtimes(tmp_path: Path) -> None:
    (tmp_path / "old").write_text("x")
    (tmp_path / "new").write_text("y")
    os.utime(tmp_path / "old", (1_000, 1_000))
    os.utime(tmp_path / "new", (2_000_000_000, 2_000_000_000))
    new, old = _members(_tar(changes_from_dir(tmp_path), epoch=1_500_000_000))
    assert (new.name, new.mtime) == ("new", 1_500_000_000)
    assert (old.name, old.mtime) == ("old", 1_000)


def test_deletes_become_whiteouts_and_opaque_dirs_get_a_marker(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    changes = [
        Change("etc/gone", ChangeKind.DELETE, None),
        Change("top", ChangeKind.DELETE, None),
        Change("var", ChangeKind.OPAQUE, str(tmp_path / "var")),
    ]
    members = _members(_tar(changes))
    assert [m.name for m in members] == ["etc/.wh.gone", ".wh.top", "var", "var/.wh..wh..opq"]
    assert all(m.isreg() and m.size == 0 for m in members if ".wh." in m.name)


def test_sockets_are_skipped(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "s.sock"))
        (tmp_path / "f").write_text("x")
        assert [m.name for m in _members(_tar(changes_from_dir(tmp_path)))] == ["f"]
    finally:
        sock.close()


def test_same_tree_gives_identical_bytes(tmp_path: Path) -> None:
    (tmp_path / "a/b").mkdir(parents=True)
    (tmp_path / "a/b/c").write_text("x")
    os.symlink("b/c", tmp_path / "a/l")
    assert _tar(changes_from_dir(tmp_path)) == _tar(changes_from_dir(tmp_path))


@pytest.mark.privileged
@pytest.mark.interop
def test_gnu_tar_extracts_the_same_tree(tmp_path: Path) -> None:
    make_rich_tree(tmp_path / "src")
    (tmp_path / "layer.tar").write_bytes(_tar(changes_from_dir(tmp_path / "src")))
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(
        [
            "tar",
            "-xpf",
            str(tmp_path / "layer.tar"),
            "-C",
            str(out),
            "--xattrs",
            "--xattrs-include=*",
            "--numeric-owner",
        ],
        check=True,
    )
    assert describe_tree(out) == describe_tree(tmp_path / "src")


@pytest.mark.privileged
def test_upperdir_becomes_whiteouts_and_opaque_markers(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.mknod(tmp_path / "etc/gone", stat.S_IFCHR, os.makedev(0, 0))
    (tmp_path / "var").mkdir()
    os.setxattr(tmp_path / "var", "trusted.overlay.opaque", b"y")
    (tmp_path / "var/new").write_text("n")
    members = _members(_tar(changes_from_upper(tmp_path)))
    assert [m.name for m in members] == [
        "etc",
        "etc/.wh.gone",
        "var",
        "var/.wh..wh..opq",
        "var/new",
    ]
    assert not any(
        k.startswith("SCHILY.xattr.trusted.overlay") for m in members for k in m.pax_headers
    )


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.objects: list[object] = []

    def write(self, data: bytes | bytearray, /) -> int:
        self.objects.append(data)
        self.writes.append(bytes(data))
        return len(data)


def test_sink_gets_whole_chunks_and_may_keep_them(tmp_path: Path) -> None:
    for i in range(300):
        (tmp_path / f"f{i:03d}").write_bytes(os.urandom(9000))
    (tmp_path / "zbig").write_bytes(os.urandom(3 * CHUNK + 5))
    sink = _Recorder()
    write_tar(changes_from_dir(tmp_path), sink, None)
    assert len(sink.writes) > 3
    assert all(len(w) >= CHUNK for w in sink.writes[:-1])
    # nothing handed over is reused afterwards: the sink may queue it as it is
    assert [bytes(o) for o in sink.objects] == sink.writes  # type: ignore[call-overload]
    assert len({id(o) for o in sink.objects}) == len(sink.objects)
    assert b"".join(sink.writes) == _tar(changes_from_dir(tmp_path))


@pytest.mark.parametrize("size", [100, 70_000], ids=["small", "streamed"])
def test_file_that_shrank_after_its_lstat_is_an_error(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * size)
    before = os.lstat(path)
    path.write_bytes(b"x" * (size // 2))
    change = Change("f", ChangeKind.ADD, str(path), before)
    with pytest.raises(InvalidInputError, match="f: file shrank while being archived"):
        _tar([change])


def test_file_replaced_by_a_symlink_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"secret")
    os.symlink("f", tmp_path / "g")
    # a regular file replaced by a symlink after the walk is refused, not followed
    change = Change("g", ChangeKind.ADD, str(tmp_path / "g"), os.lstat(path))
    with pytest.raises(OSError):
        _tar([change])
