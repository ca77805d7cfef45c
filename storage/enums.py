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


class MeetingKind(StrEnum):
    """三会一课 and the other forms of organisational life."""

    ASSEMBLY = "assembly"  # 支部党员大会
    COMMITTEE = "committee"  # 支委会
    GROUP = "group"  # 党小组会
    LECTURE = "lecture"  # 党课
    THEME_DAY = "theme_day"  # 主题党日
    LIFE = "life"  # 组织生活会


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    FINISHED = "finished"  # attendance finalised


class Presence(StrEnum):
    """How a member took part in a meeting, as finalised attendance records it."""

    PRESENT = "present"  # on site (code or location)
    ONLINE = "online"  # a remote intern
    EXCUSED = "excused"  # approved leave
    ABSENT = "absent"


class LeaveStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class QuestionKind(StrEnum):
    SINGLE = "single"  # 单选
    MULTI = "multi"  # 多选
    JUDGE = "judge"  # 判断
    BLANK = "blank"  # 填空


class QuizMode(StrEnum):
    DAILY = "daily"  # the day's first quiz: it counts towards the record
    PRACTICE = "practice"  # another round the same day
    MISTAKES = "mistakes"  # replaying the 错题本


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)  # a move goes one step along this


class StepKind(StrEnum):
    """What a row of a person's file records (storage.pipeline_models.StageChange)."""

    ADVANCE = "advance"  # moved on to the next stage
    DATED = "dated"  # the date a stage was entered, copied from the paper file
    EXTEND = "extend"  # 延长预备期
    CANCEL = "cancel"  # 取消预备党员资格


class EventKind(StrEnum):
    """Dated steps of cultivation that are not stages."""

    TALK = "talk"  # 谈话 (with an applicant, then regularly by the contacts)
    REVIEW = "review"  # 政审
    TRAINING = "training"  # 集中培训, with class hours


class DecisionStatus(StrEnum):
    """A request someone decides on (volunteer hours)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class MoveKind(StrEnum):
    """What a roster move (storage.roster_models.Move) records."""

    WITHIN = "within"  # 校内转接: from one branch the bot serves to another
    OUT = "out"  # 转出: to an organisation outside the school
    IN = "in"  # 转入: from an organisation outside the school
    LEAVE = "leave"  # leaving for another reason (graduation, 停止党籍, 出党, death)


class MoveStatus(StrEnum):
    PENDING = "pending"  # a transfer within the school waiting for the receiving branch
    DONE = "done"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class Departure(StrEnum):
    """Why a member left the branch's roster (members.left_reason); nobody is deleted."""

    TRANSFERRED_OUT = "transferred_out"  # 转出 to an organisation outside the school
    GRADUATED = "graduated"  # 毕业离校 (their relationship transferred on their own)
    STOPPED = "stopped"  # 停止党籍
    LEFT_PARTY = "left_party"  # 出党 (开除党籍, 除名, 退党)
    DIED = "died"  # 去世
    CANCELLED = "cancelled"  # 取消预备党员资格 (recorded in the development pipeline)
