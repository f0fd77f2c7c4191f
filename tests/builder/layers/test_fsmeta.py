"""File metadata helpers: byte-order name sorting and xattr reading by path or descriptor."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.layers.fsmeta import read_xattrs, sort_names, sorted_names

# ASCII, Latin-1, BMP above the surrogates, astral, and undecodable bytes as
# surrogate escapes: the characters whose str order and byte order disagree
_chars = st.sampled_from(["a", "B", ".", "-", "é", "ÿ", "Ā", "\ue000", "😀", "\udc80", "\udcff"])
_name_lists = st.lists(st.text(_chars, min_size=1, max_size=4), max_size=8, unique=True)


@settings(max_examples=300, deadline=None)
@given(names=_name_lists)
def test_names_sort_in_file_system_byte_order(names: list[str]) -> None:
    assert sort_names(list(names)) == sorted(names, key=os.fsencode)


def test_undecodable_names_on_disk_sort_by_their_bytes(tmp_path: Path) -> None:
    raw = [b"\x80x", b"\xc3\xa9", b"z", b"\xee\x80\x80", b"\xff"]
    for name in raw:
        (tmp_path / os.fsdecode(name)).touch()
    assert [os.fsencode(n) for n in sorted_names(tmp_path)] == sorted(raw)


def test_xattrs_read_through_a_descriptor_match_the_path(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    os.setxattr(path, "user.b", b"\x00two")
    os.setxattr(path, "user.a", b"")
    os.setxattr(path, "user.overlay.origin", b"bookkeeping")
    fd = os.open(path, os.O_RDONLY)
    try:
        by_fd = read_xattrs(fd)
    finally:
        os.close(fd)
    assert by_fd == read_xattrs(path) == {"user.a": b"", "user.b": b"\x00two"}
    assert list(by_fd) == ["user.a", "user.b"]


def test_no_xattrs_is_an_empty_mapping(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert read_xattrs(tmp_path / "f") == {}
