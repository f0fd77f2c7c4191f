"""Bounded exponential backoff for registry requests.

May import: stdlib.
"""

from __future__ import annotations

import dataclasses
import random

__all__ = ["RetryPolicy", "is_retryable_status"]


def is_retryable_status(status: int) -> bool:
    """429 and every 5xx are worth another try; other statuses are final."""
    return status == 429 or 500 <= status <= 599


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all, sleeping ``base_delay·2ⁿ`` (capped, with jitter) between."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (0-based ``attempt`` just failed).

        A ``Retry-After`` in seconds is honoured but never beyond ``max_delay``.
        """
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), self.max_delay)
        backoff = min(self.base_delay * float(2**attempt), self.max_delay)
        return float(backoff * (0.5 + random.random() / 2))
