"""Tar header encoding: USTAR when it fits, PAX records otherwise; readable by tarfile."""

from __future__ import annotations

import io
import tarfile

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.layers.header import (
    BLOCK,
    Header,
    TypeFlag,
    _byte_sum,
    encode_header,
    encode_plain,
    padding,
)

_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\0"),
    min_size=1,
    max_size=40,
).map(lambda s: s.rstrip("."))
_paths = st.lists(_names.filter(bool), min_size=1, max_size=8).map("/".join)


def _read_back(header: Header, data: bytes = b"") -> tarfile.TarInfo:
    blob = encode_header(header) + data + padding(len(data)) + bytes(2 * BLOCK)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:", errors="surrogateescape") as tar:
        (member,) = tar.getmembers()
        if member.isreg():
            extracted = tar.extractfile(member)
            assert extracted is not None and extracted.read() == data
        return member


@settings(max_examples=60, deadline=None)
@given(
    path=_paths,
    mode=st.integers(0, 0o7777),
    uid=st.integers(0, 2**32 - 1),
    gid=st.integers(0, 2**32 - 1),
    mtime=st.integers(-(2**33), 2**40),
    xattrs=st.dictionaries(
        st.sampled_from(["user.a", "security.capability", "trusted.x"]), st.binary(max_size=40)
    ),
)
def test_tarfile_reads_back_every_field(
    path: str, mode: int, uid: int, gid: int, mtime: int, xattrs: dict[str, bytes]
) -> None:
    h = Header(path.encode(), TypeFlag.REG, mode, uid, gid, 5, mtime, xattrs=xattrs)
    m = _read_back(h, b"hello")
    assert (m.name, m.mode, m.uid, m.gid, int(m.mtime), m.size) == (
        path,
        mode,
        uid,
        gid,
        mtime,
        5,
    )
    got = {
        k[len("SCHILY.xattr.") :]: v.encode("utf-8", "surrogateescape")
        for k, v in m.pax_headers.items()
        if k.startswith("SCHILY.xattr.")
    }
    assert got == xattrs


def test_short_ascii_entry_is_a_single_ustar_block() -> None:
    block = encode_header(Header(b"etc/passwd", TypeFlag.REG, 0o644, size=10, mtime=1))
    assert len(block) == BLOCK
    assert block[257:265] == b"ustar\x0000"
    assert block[265:329] == bytes(64)  # empty uname and gname


def test_long_name_gets_a_go_style_pax_header() -> None:
    name = b"d/" + b"x" * 150
    blob = encode_header(Header(name, TypeFlag.REG))
    assert blob[:100].rstrip(b"\0") == b"d/PaxHeaders.0/" + b"x" * 85
    assert blob[156:157] == TypeFlag.PAX
    assert b" path=" + name + b"\n" in blob
    assert len(blob) % BLOCK == 0


def test_device_numbers_only_on_device_entries() -> None:
    dev = _read_back(Header(b"null", TypeFlag.CHAR, 0o666, devmajor=1, devminor=3))
    assert (dev.devmajor, dev.devminor) == (1, 3)
    plain = encode_header(Header(b"f", TypeFlag.REG))
    assert plain[329:345] == bytes(16)


def test_symlink_and_long_link_targets() -> None:
    target = "/very/" + "long/" * 40 + "target"
    m = _read_back(Header(b"l", TypeFlag.SYMLINK, 0o777, linkname=target.encode()))
    assert m.issym() and m.linkname == target


def test_non_utf8_names_round_trip_as_raw_bytes() -> None:
    raw = b"caf\xe9"
    m = _read_back(Header(raw, TypeFlag.REG))
    assert m.name.encode("utf-8", "surrogateescape") == raw


def test_sizes_beyond_ustar_get_a_pax_size_record() -> None:
    size = 9 * 2**30  # over USTAR's 8 GiB
    blob = encode_header(Header(b"huge.img", TypeFlag.REG, 0o644, size=size))
    assert b" size=%d\n" % size in blob
    assert len(blob) == 3 * BLOCK  # PAX header, its records, the entry


def test_pax_records_are_sorted_by_key() -> None:
    blob = encode_header(
        Header(b"f", TypeFlag.REG, xattrs={"user.b": b"2", "security.capability": b"1"}, uid=2**30)
    )
    keys = [line.split(b"=")[0].split(b" ")[1] for line in blob[BLOCK:].split(b"\n")[:3]]
    assert (
        keys
        == sorted(keys)
        == [b"SCHILY.xattr.security.capability", b"SCHILY.xattr.user.b", b"uid"]
    )


@settings(max_examples=200, deadline=None)
@given(
    name=st.binary(min_size=1, max_size=110),
    linkname=st.binary(max_size=110),
    typeflag=st.sampled_from(
        [TypeFlag.REG, TypeFlag.LINK, TypeFlag.SYMLINK, TypeFlag.DIR, TypeFlag.FIFO]
    ),
    mode=st.integers(0, 0o177777),
    ids=st.tuples(st.integers(0, 2**22), st.integers(0, 2**22)),
    size=st.integers(0, 2**34),
    mtime=st.integers(-(2**10), 2**34),
)
def test_plain_encoding_is_the_full_encoding_or_declines(
    name: bytes,
    linkname: bytes,
    typeflag: bytes,
    mode: int,
    ids: tuple[int, int],
    size: int,
    mtime: int,
) -> None:
    numbers = (mode, ids[0], ids[1], size, mtime)
    plain = encode_plain(name, typeflag, numbers, linkname)
    full = encode_header(Header(name, typeflag, mode & 0o7777, *numbers[1:], linkname=linkname))
    if plain is None:
        assert len(full) > BLOCK  # it declines exactly when a PAX header is needed
    else:
        assert plain == full


def test_plain_encoding_declines_what_ustar_cannot_say() -> None:
    ok = (0o644, 0, 0, 10, 1)
    assert encode_plain(b"f", TypeFlag.REG, ok) is not None
    assert encode_plain(b"x" * 101, TypeFlag.REG, ok) is None
    assert encode_plain("ü".encode(), TypeFlag.REG, ok) is None
    assert encode_plain(b"l", TypeFlag.SYMLINK, ok, b"t" * 101) is None
    assert encode_plain(b"f", TypeFlag.REG, (0o644, 8**7, 0, 10, 1)) is None
    assert encode_plain(b"f", TypeFlag.REG, (0o644, 0, 0, 8**11, 1)) is None
    assert encode_plain(b"f", TypeFlag.REG, (0o644, 0, 0, 10, -1)) is None


@settings(max_examples=100, deadline=None)
@given(block=st.binary(min_size=BLOCK, max_size=BLOCK))
def test_header_checksum_is_the_byte_sum(block: bytes) -> None:
    assert _byte_sum(block) == sum(block)
    assert _byte_sum(b"\xff" * BLOCK) == 255 * BLOCK
