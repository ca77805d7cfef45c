"""Counting sends in windows of time, as a platform's rate limit counts them."""

import bisect


def busiest(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any window of this many seconds (any start, not whole seconds)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )
