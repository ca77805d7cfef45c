"""Changing a member's record: role (with the secretary handover), name, staff number, phone,
internship period, the personal fields (性别, 民族, 出生日期, 学历, 籍贯), grade and class; and,
for a roster import, the roster's further fields. Plain functions shared by `/member_set`,
`branchbot member set` and `branchbot member import --update`.

History is never rewritten: each change is a new `member.changed` trace with the old and new
value (a phone only as changed: its value stays encrypted in the member's row).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.personal import PERSONAL_FIELDS, personal_of, set_personal
from handlers.account.roster_checks import plain_phone, valid_phone
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import clean, parse_date, parse_role, valid_name
from handlers.core.tracer import SessionTracer
from storage import people, roster
from storage.crypto import SecretBox
from storage.enums import ROLE_RANK, Role
from storage.models import Member, Trace

# What a field may be called in chat and on the command line.
FIELD_NAMES: dict[str, str] = {
    "role": "role",
    "角色": "role",
    "身份": "role",
    "name": "name",
    "姓名": "name",
    "名字": "name",
    "staff_no": "staff_no",
    "学号": "staff_no",
    "工号": "staff_no",
    "学工号": "staff_no",
    "phone": "phone",
    "手机": "phone",
    "手机号": "phone",
    "remote_until": "remote_until",
    "remote": "remote_until",
    "实习": "remote_until",
    "实习期": "remote_until",
    "实习截止": "remote_until",
    "gender": "gender",
    "性别": "gender",
    "ethnicity": "ethnicity",
    "民族": "ethnicity",
    "birth_date": "birth_date",
    "birth": "birth_date",
    "出生日期": "birth_date",
    "生日": "birth_date",
    "education": "education",
    "学历": "education",
    "native_place": "native_place",
    "籍贯": "native_place",
    "grade": "grade",
    "年级": "grade",
    "class": "class_name",
    "class_name": "class_name",
    "班级": "class_name",
}
FIELDS = (
    "role",
    "name",
    "staff_no",
    "phone",
    "remote_until",
    *PERSONAL_FIELDS,
    "grade",
    "class_name",
)
# The further fields a roster import (`branchbot member import --update`) changes, beyond
# those; none has a chat button.
ROSTER_FIELDS = ("id_number", "grade", "class_name", "interests", *PERSONAL_FIELDS)
# Fields kept encrypted: a trace says only that they changed (or were cleared), never the value.
SECRET_FIELDS = frozenset({"phone", "id_number", *PERSONAL_FIELDS})
GENDERS = {"男": "男", "女": "女", "male": "男", "female": "女"}
EDUCATIONS = ("博士研究生", "硕士研究生", "研究生", "大学本科", "本科", "大学专科", "专科", "大专",
              "中专", "高中", "初中", "小学")  # fmt: skip
EARLIEST_BIRTH = date(1900, 1, 1)
# Words that clear a phone or end an internship.
NONE_WORDS = frozenset({"无", "没有", "取消", "结束", "none", "-"})
USAGE = Msg("cmd.member_set.usage")


@dataclass(frozen=True)
class Editor:
    """Who changes a record: a member in chat, or (member None) an operator at the command
    line, who may change anyone and is named by their OS user."""

    member: Member | None
    os_user: str | None = None

    @property
    def rank(self) -> int:
        return ROLE_RANK[Role(self.member.role)] if self.member else ROLE_RANK[Role.ADMIN]

    def trace_data(self) -> dict[str, Any]:
        return {"via": "chat"} if self.member else {"via": "cli", "by": self.os_user}

    def words(self) -> Msg | str:
        """How the people a change affects are told who made it."""
        return self.member.name if self.member else Msg("record.by_operator")


@dataclass(frozen=True)
class Change:
    member: Member
    item: str  # the field changed
    old: Any
    new: Any
    demoted: list[Member] = field(default_factory=list)


def parse_field(text: str) -> str:
    found = FIELD_NAMES.get(text.strip().lower())
    if found is None:
        raise UserError("record.bad_field", value=text, usage=USAGE)
    return found


def parse_value(name: str, text: str, today: date) -> Any:
    """The new value of a field from what was typed; a UserError showing the right form."""
    text = clean(text)
    if name == "role":
        return parse_role(text)
    if name == "name":
        if not valid_name(text):
            raise UserError("record.bad_name", value=text)
        return text
    if name == "staff_no":
        if not 0 < len(text) <= 32 or any(c.isspace() for c in text):
            raise UserError("record.bad_staff_no", value=text[:40])
        return text
    if text.lower() in NONE_WORDS:
        return None
    if name in PLAIN_TEXT:
        return _plain_text(name, text, today)
    if name == "phone":
        phone = plain_phone(text)
        if not valid_phone(phone):
            raise UserError("record.bad_phone", value=text[:40])
        return phone
    until = parse_date(text)
    if until < today:
        raise UserError("record.past_date", value=until)
    return until


def _birth_date(text: str, today: date) -> date:
    try:
        born = parse_date(text)
    except UserError:
        raise UserError("record.bad_birth_date", value=text[:20]) from None
    if not EARLIEST_BIRTH <= born < today:
        raise UserError("record.bad_birth_date", value=text[:20])
    return born


def _plain_text(name: str, text: str, today: date) -> str | date:
    """A personal field, grade or class: checked for its own form."""
    if name == "birth_date":
        return _birth_date(text, today)
    if name == "gender":
        if text.lower() not in GENDERS:
            raise UserError("record.bad_gender", value=text[:20])
        return GENDERS[text.lower()]
    if name == "education" and text not in EDUCATIONS:
        raise UserError("record.bad_education", value=text[:20], choices=" ".join(EDUCATIONS))
    if name == "ethnicity" and not (2 <= len(text) <= 10 and text.endswith("族")):
        raise UserError("record.bad_ethnicity", value=text[:20])
    if name == "grade":
        year = text.removesuffix("级")
        if not (year.isdigit() and len(year) == 4 and 1950 <= int(year) <= today.year + 1):
            raise UserError("record.bad_grade", value=text[:20])
        return f"{year}级"
    if not 0 < len(text) <= 50 or "\n" in text:
        raise UserError("record.bad_text", value=text[:20], field=Msg(f"record.field.{name}"))
    return text


# Fields read by _plain_text (the rest of parse_value is for the original fields).
PLAIN_TEXT = frozenset({*PERSONAL_FIELDS, "grade", "class_name"})


def check_may_change(editor: Editor, member: Member, name: str, value: Any) -> None:
    """A secretary changes no one ranked as high as themselves but themselves, and makes no
    admin; nobody changes their own role (a secretary hands over by naming the next)."""
    caller = editor.member
    if caller is None:
        return
    if name == "role" and member.id == caller.id:
        raise UserError("record.own_role")
    if name == "role" and value == Role.ADMIN and caller.role != Role.ADMIN:
        raise UserError("record.no_admin")
    above = member.id != caller.id and ROLE_RANK[Role(member.role)] >= editor.rank
    if above and caller.role != Role.ADMIN:
        raise UserError("record.outranks", name=member.name)


def current(box: SecretBox, member: Member, name: str) -> Any:
    if name == "phone":
        return box.decrypt(member.phone_enc)
    if name == "id_number":
        return box.decrypt(member.id_number_enc)
    if name in PERSONAL_FIELDS:
        return personal_of(box, member).get(name)
    return getattr(member, name)


def _set(box: SecretBox, member: Member, name: str, value: Any) -> None:
    if name == "phone":
        member.phone_enc = box.encrypt(value)
    elif name == "id_number":
        member.id_number_enc = box.encrypt(value)
    elif name in PERSONAL_FIELDS:
        set_personal(box, member, {name: value})
    else:
        setattr(member, name, value)


def stored(value: Any) -> Any:
    """A value as a trace keeps it (JSON)."""
    return value.isoformat() if isinstance(value, date) else value


async def change_member(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    name: str,
    value: Any,
    now: datetime,
    editor: Editor,
) -> Change:
    """Set one field of the member's record, traced; a new secretary demotes the branch's
    old one in the same transaction, and both are told."""
    check_may_change(editor, member, name, value)
    await people.lock_member(session, member.id)
    old = current(box, member, name)
    if old == value:
        raise UserError("record.same", name=member.name, field=Msg(f"record.field.{name}"))
    demoted: list[Member] = []
    if name == "staff_no":
        holder = await roster.staff_no_holder(session, value)
        if holder is not None:
            raise UserError("record.no_taken", value=value, holder=holder.name)
    if name == "role" and value == Role.SECRETARY:
        demoted = await _hand_over(session, box, member, now, editor)
    _set(box, member, name, value)
    if name in SECRET_FIELDS:
        data: dict[str, Any] = {"field": name, "cleared": value is None}
    else:
        data = {"field": name, "old": stored(old), "new": stored(value)}
    trace = await _trace(session, box, member, now, editor, data)
    if name == "role":
        told = Msg("record.told_role", role=Msg(f"role.{value}"))
        await _tell(session, member, told, trace, editor)
    return Change(member, name, old, value, demoted)


async def _hand_over(
    session: AsyncSession, box: SecretBox, successor: Member, now: datetime, editor: Editor
) -> list[Member]:
    """Make the branch's secretaries (one, as a rule) members before `successor` becomes
    secretary: a branch has one secretary."""
    if successor.branch_id is None:
        raise UserError("record.no_branch", name=successor.name)
    await roster.lock_branch(session, successor.branch_id)
    demoted = list(await roster.secretaries_of(session, successor.branch_id))
    for old in demoted:
        old.role = Role.MEMBER
        data: dict[str, Any] = {"field": "role", "old": Role.SECRETARY, "new": Role.MEMBER}
        data |= {"because": "handover", "successor": successor.id}
        trace = await _trace(session, box, old, now, editor, data)
        told = Msg("record.told_handover", name=successor.name, role=Msg(f"role.{Role.MEMBER}"))
        await _tell(session, old, told, trace, editor)
    return demoted


async def _trace(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    now: datetime,
    editor: Editor,
    data: dict[str, Any],
) -> Trace:
    return await SessionTracer(
        session, box, now, editor.member.id if editor.member else None
    ).trace(
        "member.changed",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=f"member:{member.id}",
        data={**data, **editor.trace_data()},
    )


async def _tell(
    session: AsyncSession, member: Member, what: Msg, trace: Trace, editor: Editor
) -> None:
    """Tell the member of a change to them (queued: they may be on another platform), unless
    they made it themselves."""
    if editor.member is not None and editor.member.id == member.id:
        return
    message = Reply(Msg("record.told", by=editor.words(), what=what))
    key = f"member-changed:{trace.id}"
    await queue_to_members(
        session, [member.id], message, key=key, kind="member_change", now=trace.at
    )


def shown(name: str, value: Any) -> Msg | Series | str | date:
    """A field's value as people read it."""
    if value is None:
        return Msg("record.none")
    if name == "role":
        return Msg(f"role.{value}")
    if isinstance(value, list):  # interests
        return Series(value) if value else Msg("record.none")
    return value


def done(change: Change) -> Msg:
    """What the editor is told: the change, and who was demoted with it."""
    label = Msg(f"record.field.{change.item}")
    if change.item in SECRET_FIELDS:
        key = "record.done_secret_cleared" if change.new is None else "record.done_secret"
        return Msg(key, name=change.member.name, field=label)
    handover = Msg("record.demoted", names=Series(m.name for m in change.demoted))
    return Msg(
        "record.done",
        name=change.member.name,
        field=label,
        old=shown(change.item, change.old),
        new=shown(change.item, change.new),
        demoted=handover if change.demoted else "",
    )
