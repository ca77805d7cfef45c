"""The majorities a vote at a 支部党员大会 needs (《中国共产党发展党员工作细则》第二十三、
三十条): the meeting may decide only when the voters present exceed half of those entitled to
vote; the decision passes only when the votes in favour exceed half of the full members who
should attend with the right to vote (应到会有表决权的正式党员)."""

from dataclasses import dataclass
from enum import StrEnum

from storage.enums import Stage


class VoteKind(StrEnum):
    ADMISSION = "admission"  # 接收预备党员: a 发展对象 becomes a probationary member
    CONVERSION = "conversion"  # 预备党员转正

    @property
    def from_stage(self) -> Stage:
        return Stage.CANDIDATE if self is VoteKind.ADMISSION else Stage.PROBATIONARY

    @property
    def to_stage(self) -> Stage:
        return Stage.PROBATIONARY if self is VoteKind.ADMISSION else Stage.FULL


CHOICES = ("for", "against", "abstain")


def quorate(present: int, entitled: int) -> bool:
    return present * 2 > entitled


@dataclass(frozen=True)
class Tally:
    votes_for: int
    against: int
    abstain: int
    entitled: int
    electors: int

    @property
    def cast(self) -> int:
        return self.votes_for + self.against + self.abstain

    @property
    def passed(self) -> bool:
        return self.votes_for * 2 > self.entitled

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "for": self.votes_for,
            "against": self.against,
            "abstain": self.abstain,
            "cast": self.cast,
            "electors": self.electors,
            "entitled": self.entitled,
            "passed": self.passed,
        }
