"""Closed vocabularies stored as strings: roles and the stages of joining the Party.

Stored as plain strings (not native enums) so adding a value never needs a type migration.
"""

from enum import StrEnum


class Role(StrEnum):
    """What a member may do in the bot; each step up includes the one below."""

    MEMBER = "member"
    COMMITTEE = "committee"
    SECRETARY = "secretary"
    ADMIN = "admin"


class Stage(StrEnum):
    """Where a person stands in the cultivation pipeline (applicant → full member)."""

    APPLICANT = "applicant"
    ACTIVIST = "activist"
    CANDIDATE = "candidate"
    PROBATIONARY = "probationary"
    FULL = "full"


ROLE_RANK = {Role.MEMBER: 0, Role.COMMITTEE: 1, Role.SECRETARY: 2, Role.ADMIN: 3}
