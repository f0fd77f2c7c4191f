"""Blob transfers on a thread pool: the total bytes moved; the first failure cancels the rest.

May import: stdlib.

Shared by pull (builder/registry/pull.py) and push (builder/exporters/push.py).
Results are collected in submission order, so when several transfers fail the
earliest one's error is raised; transfers not yet started are cancelled and the
running ones finish before it propagates (the pool is always shut down).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["sum_in_parallel"]

_T = TypeVar("_T")


def sum_in_parallel(transfer: Callable[[_T], int], items: Sequence[_T], jobs: int) -> int:
    """Run ``transfer`` on every item, at most ``jobs`` (at least 1) at once; sum the results.

    Raises:
        BaseException: whatever the earliest failing ``transfer`` raised.
    """
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        futures = [pool.submit(transfer, item) for item in items]
        try:
            return sum(f.result() for f in futures)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
