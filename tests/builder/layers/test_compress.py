"""Compression codecs: detection by magic bytes, strict streaming decompression, levels."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import pytest

from builder.errors import InvalidInputError, UsageError
from builder.layers.compress import (
    Compression,
    default_level,
    detect_compression,
    new_compressor,
    open_decompressed,
)

MAGIC = Path(__file__).resolve().parents[3] / "testdata/layers/magic.txt"


def _magic_cases() -> list[tuple[str, str]]:
    cases = []
    for line in MAGIC.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        head, _, want = line.rpartition(" ")
        cases.append((head.strip(), want))
    return cases


@pytest.mark.parametrize(("head", "want"), _magic_cases())
def test_compression_is_detected_by_magic_bytes(head: str, want: str) -> None:
    data = bytes.fromhex(head)
    if want == "error":
        with pytest.raises(InvalidInputError, match="bzip2 or xz"):
            detect_compression(data)
    else:
        assert detect_compression(data) is Compression(want)


def _compress(compression: Compression, data: bytes, level: int | None = None) -> bytes:
    c = new_compressor(compression, level)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("compression", list(Compression), ids=lambda c: c.value)
def test_round_trip_through_open_decompressed(compression: Compression) -> None:
    data = os.urandom(300_000) + b"tail" * 50_000
    reader = open_decompressed(io.BytesIO(_compress(compression, data)))
    assert reader.read() == data


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD], ids=str)
def test_concatenated_members_are_all_read(compression: Compression) -> None:
    blob = _compress(compression, b"first,") + _compress(compression, b"second")
    assert open_decompressed(io.BytesIO(blob)).read() == b"first,second"


def test_zero_padding_after_gzip_member_is_ignored() -> None:
    blob = gzip.compress(b"payload") + b"\0" * 1024
    assert open_decompressed(io.BytesIO(blob)).read() == b"payload"


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD], ids=str)
def test_truncated_stream_raises_instead_of_ending_early(compression: Compression) -> None:
    blob = _compress(compression, os.urandom(100_000))
    reader = open_decompressed(io.BytesIO(blob[:-10]))
    with pytest.raises(InvalidInputError, match=f"truncated {compression.value} stream"):
        reader.read()


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD], ids=str)
def test_corrupt_stream_raises(compression: Compression) -> None:
    blob = bytearray(_compress(compression, b"abc" * 100_000))
    blob[12:40] = b"\xff" * 28
    with pytest.raises(InvalidInputError, match=f"corrupt {compression.value} stream"):
        open_decompressed(io.BytesIO(bytes(blob))).read()


def test_same_input_gives_same_bytes_at_every_level() -> None:
    data = b"deterministic " * 10_000
    for compression in (Compression.GZIP, Compression.ZSTD):
        for level in (1, 5, 9):
            assert _compress(compression, data, level) == _compress(compression, data, level)


def test_gzip_header_has_no_timestamp_or_name() -> None:
    blob = _compress(Compression.GZIP, b"x")
    assert blob[3] == 0  # FLG: no FNAME, no FCOMMENT, no FEXTRA
    assert blob[4:8] == b"\0\0\0\0"  # MTIME 0


@pytest.mark.parametrize(
    ("compression", "level"),
    [(Compression.GZIP, 0), (Compression.GZIP, 10), (Compression.ZSTD, 23)],
)
def test_level_out_of_range_is_a_usage_error(compression: Compression, level: int) -> None:
    with pytest.raises(UsageError, match="out of range"):
        new_compressor(compression, level)


def test_default_levels_match_docker_and_buildkit() -> None:
    assert default_level(Compression.GZIP) == 6
    assert default_level(Compression.ZSTD) == 3
    assert default_level(Compression.NONE) is None


def test_compression_names_parse() -> None:
    assert Compression.parse("GZIP") is Compression.GZIP
    assert Compression.parse("uncompressed") is Compression.NONE
    with pytest.raises(UsageError, match="unknown compression 'brotli'"):
        Compression.parse("brotli")
