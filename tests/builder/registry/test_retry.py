"""Bounded exponential backoff."""

from __future__ import annotations

import pytest

from builder.registry.retry import RetryPolicy, is_retryable_status


@pytest.mark.parametrize(("status", "want"), [(429, True), (500, True), (503, True),
                                              (599, True), (400, False), (401, False),
                                              (404, False), (200, False)])
def test_only_429_and_5xx_are_retried(status: int, want: bool) -> None:
    assert is_retryable_status(status) is want


def test_delay_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=5.0)
    for attempt in range(10):
        want = min(2.0**attempt, 5.0)
        assert want / 2 <= policy.delay(attempt) <= want


def test_retry_after_seconds_are_honoured_but_capped() -> None:
    policy = RetryPolicy(max_delay=3.0)
    assert policy.delay(0, "2") == 2.0
    assert policy.delay(0, "120") == 3.0
    assert policy.delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") <= policy.base_delay
