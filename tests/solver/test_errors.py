"""Solver errors: a failing vertex maps back to its Dockerfile position."""

from __future__ import annotations

from solver.digest import sha256_bytes
from solver.errors import CacheCorrupt, OpFailed, SolveError
from solver.source import Span

V = sha256_bytes(b"vertex")


def test_solve_error_names_the_dockerfile_line_the_step_and_the_cause() -> None:
    err = SolveError(V, "[build 2/3] RUN make", (Span("Dockerfile", 12, 1, 12, 9),),
                     OpFailed('process "make" exited with code 2', 2), ("cc: error", "make: *** 2"))
    assert str(err) == ('Dockerfile:12:1: [build 2/3] RUN make: '
                        'process "make" exited with code 2')
    assert err.exit_status == 2 and err.exit_code == 1
    assert err.render().splitlines() == [
        'error: Dockerfile:12:1: [build 2/3] RUN make: process "make" exited with code 2',
        "last log lines:", "  cc: error", "  make: *** 2"]


def test_solve_error_without_span_or_name_still_reads() -> None:
    err = SolveError(V, "", (), KeyError())
    assert str(err) == f"{V.hex[:12]}: KeyError"
    assert err.exit_status is None


def test_cache_corrupt_says_which_record() -> None:
    assert str(CacheCorrupt("r:sha256:ab", "bad json")) == "cache record r:sha256:ab: bad json"
