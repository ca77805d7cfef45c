"""What the fake Bot API accepted, counted as a platform's limits count it: the busiest window
of sends, and the copies of a message per chat."""

import bisect
from collections import Counter

from tests.support.fake_telegram import FakeTelegram


def busiest(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any window of this many seconds (any start, not whole seconds)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


class Tally:
    """Copies per chat of the messages whose text holds `mark`, counted from the calls the fake
    accepted since the last look: recounting thousands of calls at every look held the fake's
    event loop for milliseconds, which showed as jitter in the times it records."""

    def __init__(self, fake: FakeTelegram, mark: str) -> None:
        self.fake = fake
        self.mark = mark
        self.seen = 0
        self.copies: Counter[int] = Counter()

    def __call__(self) -> Counter[int]:
        new = self.fake.sent[self.seen :]
        self.seen += len(new)
        self.copies.update(
            int(c.params["chat_id"])
            for c in new
            if c.method == "sendMessage" and self.mark in str(c.params.get("text", ""))
        )
        return self.copies
