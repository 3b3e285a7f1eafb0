"""What counts as transient, and how long to wait before trying again: one policy for
registry requests, blob transfers and token requests (docs/limits.md)."""

from __future__ import annotations

import random

MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.25
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (0-based): 0.25 s x 2^attempt, jittered."""
    return float(BACKOFF_BASE * (2**attempt) * (0.5 + random.random() / 2))
