"""--chmod parsing and application (FEATURES.md §4 item 35), cases in testdata/worker/chmod.txt."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.worker.chmod import parse_chmod
from builder.worker.errors import FileOpError

CASES = Path(__file__).resolve().parents[3] / "testdata/worker/chmod.txt"


def _cases() -> list[tuple[str, int, bool, int]]:
    out = []
    for line in CASES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            spec, mode, kind, want = line.split()
            out.append((spec, int(mode, 8), kind == "dir", int(want, 8)))
    return out


@pytest.mark.parametrize(("spec", "mode", "is_dir", "want"), _cases())
def test_chmod_gives_the_expected_mode(spec: str, mode: int, is_dir: bool, want: int) -> None:
    assert oct(parse_chmod(spec).apply(mode, is_dir)) == oct(want)


@pytest.mark.parametrize("bad", ["", "999", "17777", "u=rwq", "z+x", "u=rw,"])
def test_invalid_chmod_is_a_clear_error(bad: str) -> None:
    with pytest.raises(FileOpError, match="invalid --chmod"):
        parse_chmod(bad)
