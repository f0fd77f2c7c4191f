"""sum_in_parallel: totals, bounded concurrency, the earliest failure wins."""

from __future__ import annotations

import threading
import time

import pytest

from builder.registry.parallel import sum_in_parallel


def test_sums_every_transfer() -> None:
    assert sum_in_parallel(lambda n: n * 10, [1, 2, 3, 4], jobs=3) == 100
    assert sum_in_parallel(lambda n: n, [], jobs=4) == 0


def test_never_runs_more_than_jobs_at_once_and_at_least_one() -> None:
    lock = threading.Lock()
    running, peak = 0, 0

    def transfer(_: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return 1

    assert sum_in_parallel(transfer, list(range(8)), jobs=2) == 8
    assert peak == 2
    peak = 0
    assert sum_in_parallel(transfer, list(range(3)), jobs=0) == 3
    assert peak == 1


def test_earliest_failure_in_submission_order_is_raised() -> None:
    second_failed = threading.Event()

    def transfer(n: int) -> int:
        if n == 0:
            second_failed.wait(5)
            raise KeyError("first")
        if n == 1:
            second_failed.set()
            raise ValueError("second")
        return 1

    with pytest.raises(KeyError, match="first"):
        sum_in_parallel(transfer, [0, 1, 2], jobs=2)
