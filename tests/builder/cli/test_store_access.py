"""Docker-style formatting of sizes, durations, times and IDs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from builder.cli.store_access import human_duration, human_size, parse_time, short_id, since

DATA = Path(__file__).resolve().parents[3] / "testdata" / "units"


def _cases(name: str) -> list[tuple[int, str]]:
    rows = []
    for line in (DATA / name).read_text().splitlines():
        if line and not line.startswith("#"):
            number, text = line.split("\t")
            rows.append((int(number), text))
    return rows


@pytest.mark.parametrize("size,expected", _cases("sizes.txt"))
def test_human_size_matches_docker_units(size: int, expected: str) -> None:
    assert human_size(size) == expected


@pytest.mark.parametrize("seconds,expected", _cases("durations.txt"))
def test_human_duration_matches_docker_units(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_parse_time_accepts_nanoseconds_and_offsets() -> None:
    a = parse_time("2024-01-02T03:04:05.123456789Z")
    b = parse_time("2024-01-02T05:04:05.123456+02:00")
    assert a is not None and a == b


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00Z"])
def test_parse_time_rejects_garbage(text: str) -> None:
    assert parse_time(text) is None


def test_since_says_ago_and_na_for_missing_time() -> None:
    now = dt.datetime(2024, 1, 3, tzinfo=dt.UTC)
    assert since("2024-01-01T00:00:00Z", now) == "2 days ago"
    assert since("", now) == "N/A"


def test_short_id_is_twelve_hex_digits_unless_no_trunc() -> None:
    digest = "sha256:" + "ab" * 32
    assert short_id(digest) == "ab" * 6
    assert short_id(digest, no_trunc=True) == digest
