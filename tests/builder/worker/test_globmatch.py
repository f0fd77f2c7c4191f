"""Go filepath.Match semantics for COPY sources, cases in testdata/worker/globmatch.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.worker.errors import FileOpError
from builder.worker.globmatch import has_wildcards, match

CASES = Path(__file__).resolve().parents[3] / "testdata/worker/globmatch.txt"


def _cases() -> list[tuple[str, str, bool]]:
    out = []
    for line in CASES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, name, want = line.split()
            out.append((pattern, name, want == "yes"))
    return out


@pytest.mark.parametrize(("pattern", "name", "want"), _cases())
def test_match_follows_go_filepath_match(pattern: str, name: str, want: bool) -> None:
    assert match(pattern, name) is want


@pytest.mark.parametrize("bad", ["[", "[a", "a\\", "[]", "[z-a]"])
def test_malformed_pattern_is_an_error(bad: str) -> None:
    with pytest.raises(FileOpError, match="bad pattern"):
        match(bad, "a")


def test_escaped_wildcards_are_literal() -> None:
    assert has_wildcards("a*") and has_wildcards("[x]")
    assert not has_wildcards("a\\*b") and not has_wildcards("plain")
