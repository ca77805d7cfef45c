"""Choosing a round's questions: no recent repeats, more of what the member gets wrong.

Weighted sampling without replacement (each question drawn with a key u^(1/w)), seeded by
member, day and round, so the same history gives the same round (tests rely on it).
"""

import random
from collections.abc import Sequence

from storage.quizzes import BankEntry

# A tag's miss rate counts with this many imagined right answers, so one early slip does
# not flood the next rounds with that tag.
PRIOR_RIGHT = 2
WEAK_WEIGHT = 3.0


def miss_rate(record: dict[str, tuple[int, int]], tag: str) -> float:
    right, total = record.get(tag, (0, 0))
    return (total - right) / (total + PRIOR_RIGHT)


def weak_tags(record: dict[str, tuple[int, int]], limit: int = 3) -> list[str]:
    """The tags the member misses most (at least one miss), worst first."""
    rates = {tag: miss_rate(record, tag) for tag in record}
    weak = sorted((t for t, r in rates.items() if r > 0), key=lambda t: (-rates[t], t))
    return weak[:limit]


def pick(
    bank: Sequence[BankEntry],
    count: int,
    *,
    recent: set[int],
    record: dict[str, tuple[int, int]],
    seed: str,
) -> list[int]:
    """`count` question ids (fewer if the bank is smaller); recent ones only if needed."""
    rng = random.Random(seed)

    def key(entry: BankEntry) -> float:
        weakness = max((miss_rate(record, t) for t in entry.tags), default=0.0)
        weight = 1.0 + WEAK_WEIGHT * weakness
        return float(rng.random() ** (1.0 / weight))

    fresh = [e for e in bank if e.id not in recent]
    chosen = sorted(fresh, key=key, reverse=True)[:count]
    if len(chosen) < count:  # a small bank: fill up with the least recent repeats
        repeats = sorted((e for e in bank if e.id in recent), key=key, reverse=True)
        chosen += repeats[: count - len(chosen)]
    return [e.id for e in chosen]
