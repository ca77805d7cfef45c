"""Reading what people type: Unicode clean-up, command lines, dates, roles and stages.

Phones produce full-width slashes and digits, zero-width joiners and odd spaces; everything is
folded here (NFKC) once, so every handler sees the same plain text.
"""

import re
import unicodedata
from datetime import date

from handlers.core.messages import UserError
from storage.enums import Role, Stage

# Zero-width and bidi control characters that survive NFKC and break matching.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+|$)(.*)$", re.S)

STAGE_NAMES: dict[str, Stage] = {
    "入党申请人": Stage.APPLICANT,
    "申请人": Stage.APPLICANT,
    "入党积极分子": Stage.ACTIVIST,
    "积极分子": Stage.ACTIVIST,
    "发展对象": Stage.CANDIDATE,
    "预备党员": Stage.PROBATIONARY,
    "预备": Stage.PROBATIONARY,
    "正式党员": Stage.FULL,
    "党员": Stage.FULL,
}
ROLE_NAMES: dict[str, Role] = {
    "党员": Role.MEMBER,
    "成员": Role.MEMBER,
    "支委": Role.COMMITTEE,
    "支部委员": Role.COMMITTEE,
    "书记": Role.SECRETARY,
    "支部书记": Role.SECRETARY,
    "管理员": Role.ADMIN,
    "组织员": Role.ADMIN,
}


def clean(text: str) -> str:
    """NFKC-fold, drop invisible and control characters, trim; keeps line breaks."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    return text.strip()


def tidy(text: str) -> str:
    """Invisible and control characters dropped and ends trimmed, but not NFKC-folded: for
    Chinese prose that should keep its full-width punctuation (，（）：)."""
    return _CONTROL.sub("", _INVISIBLE.sub("", text)).strip()


def as_typed(raw: str, cleaned: str) -> str:
    """The writer's own text behind `cleaned` (a tail of clean(raw), such as a command's
    arguments): invisible characters removed but not NFKC-folded, so free text like a notice
    keeps its Chinese punctuation (，：（）) as typed."""
    visible = _CONTROL.sub("", _INVISIBLE.sub("", raw))
    # The command in front is short, so the tail starts within the first few hundred characters.
    for start in range(min(len(visible), 300) + 1):
        if clean(visible[start:]) == cleaned:
            return visible[start:].strip()
    return cleaned


def split_command(text: str, aliases: dict[str, str]) -> tuple[str, str] | None:
    """`/name args`, `/name@bot args` or a Chinese alias (`签到 123456`, `签到123456`)."""
    match = _COMMAND.match(text)
    if match:
        return match.group(1).lower(), match.group(2).strip()
    if text.startswith("/"):
        return text[1:].split(maxsplit=1)[0].lower() if len(text) > 1 else "", ""
    for alias in sorted(aliases, key=len, reverse=True):
        if text.startswith(alias) and _ends_word(text, len(alias)):
            return aliases[alias], text[len(alias) :].strip()
    return None


def _ends_word(text: str, at: int) -> bool:
    """An alias counts only as a whole word: 签到 123456 and 签到123456, not 签到表在哪."""
    if at == len(text):
        return True
    after = text[at]
    return after.isspace() or (after.isascii() and after.isalnum()) or not after.isalnum()


def parse_date(text: str) -> date:
    """YYYY-MM-DD, also with / or . or 年月日, e.g. 2026-12-01, 2026/12/1, 2026年12月1日."""
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text.strip())
    if not match:
        raise UserError("error.bad_date", value=text)
    year = int(match.group(1))
    if not 1900 <= year <= 2100:
        raise UserError("error.bad_date", value=text)
    try:
        return date(year, int(match.group(2)), int(match.group(3)))
    except ValueError as err:
        raise UserError("error.bad_date", value=text) from err


def parse_stage(text: str) -> Stage:
    value = text.strip()
    if value.lower() in {s.value for s in Stage}:
        return Stage(value.lower())
    if value in STAGE_NAMES:
        return STAGE_NAMES[value]
    raise UserError("error.bad_stage", value=text)


def parse_role(text: str) -> Role:
    value = text.strip()
    if value.lower() in {r.value for r in Role}:
        return Role(value.lower())
    if value in ROLE_NAMES:
        return ROLE_NAMES[value]
    raise UserError("error.bad_role", value=text)


def looks_like_stage(text: str) -> bool:
    return text in STAGE_NAMES or text.lower() in {s.value for s in Stage}


def looks_like_date(text: str) -> bool:
    return bool(re.match(r"^\d{4}\s*[-/.年]", text))


def valid_name(text: str) -> bool:
    """A person's name: 1–30 characters, no command syntax or line breaks, not a date or stage."""
    if not 0 < len(text) <= 30 or text.startswith("/") or "\n" in text:
        return False
    return not (looks_like_date(text) or looks_like_stage(text) or text.isdigit())


def parse_id(text: str) -> int | None:
    """A record number as quoted in replies: 12 or #12 (also full-width ＃12, folded by clean)."""
    match = re.fullmatch(r"#?\s*(\d{1,9})", text.strip())
    return int(match.group(1)) if match else None
