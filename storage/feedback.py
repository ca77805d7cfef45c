"""Queries over the feedback box (意见箱), and the box that keeps anonymous items unlinkable.

An anonymous item gets no row while the day it was sent lasts: it goes, with only that day,
into its branch's one box row, an encrypted list in random order (storage/ballot_box.py).
Once the day is over the box is opened (`open_boxes`, by the daily job or when the committee
lists the items) and its items get their rows then, in the box's order, in the opener's
transaction. So no id, time, order or transaction of an anonymous item follows its sender's
update, and that update records nothing of the sender (the router's untracked commands).
"""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballot_box
from storage.crypto import SecretBox
from storage.db import chunks, insert_ignoring_conflicts
from storage.feedback_models import FeedbackAnswer, FeedbackBox, FeedbackItem

_BOXES: Table = FeedbackBox.__table__  # type: ignore[assignment]
_NEW_BOX = insert_ignoring_conflicts(_BOXES, ("branch_id",))


def receipt_digest(code: str) -> str:
    """How a receipt code (回执码, already normalised) is stored. Unkeyed, unlike an invite
    code's hash: a receipt must outlive a key rotation, and its twelve random characters
    (about 59 bits) are what keep a copy of the database from finding codes by trying."""
    return hashlib.sha256(f"feedback:{code}".encode()).hexdigest()


def feedback_ref(item_id: int) -> str:
    return f"feedback:{item_id}"


def text_of(box: SecretBox, row: FeedbackItem | FeedbackAnswer) -> str:
    return box.decrypt(row.text_enc) or ""


def _sealed(box: SecretBox, text: str) -> bytes:
    token = box.encrypt(text)
    assert token is not None  # a string always encrypts to a token
    return token


async def drop(
    session: AsyncSession, box: SecretBox, branch_id: int, text: str, digest: str, day: date
) -> None:
    """Put an anonymous item into its branch's box at a random place, with its day only.
    The box row is made if missing and locked (PostgreSQL), so two items dropped at once
    both go in."""
    await session.execute(_NEW_BOX, {"branch_id": branch_id})
    row = await session.get(FeedbackBox, branch_id, with_for_update=True, populate_existing=True)
    assert row is not None  # made just above
    entry = {"text": text, "receipt": digest, "on": day.isoformat()}
    row.items_enc, _ = ballot_box.put_in(box, row.items_enc, entry)
    await session.flush()


async def open_boxes(
    session: AsyncSession, box: SecretBox, before: date, branch_ids: Sequence[int] | None
) -> list[FeedbackItem]:
    """Give every anonymous item sent before the day `before` its row, in the box's order;
    those of later days stay sealed. `branch_ids` None: every branch's box. Boxes are
    locked, so two openings at once open each item once."""
    query = select(FeedbackBox).where(FeedbackBox.items_enc.is_not(None))
    if branch_ids is not None:
        query = query.where(FeedbackBox.branch_id.in_(list(branch_ids)))
    query = query.order_by(FeedbackBox.branch_id).with_for_update()
    opened: list[FeedbackItem] = []
    for row in (await session.scalars(query)).all():
        entries = ballot_box.opened(box, row.items_enc)
        due = [e for e in entries if date.fromisoformat(e["on"]) < before]
        if not due:
            continue
        rest = [e for e in entries if date.fromisoformat(e["on"]) >= before]
        row.items_enc = ballot_box.sealed_again(box, rest) if rest else None
        opened += [_anonymous_item(box, row.branch_id, e) for e in due]
    session.add_all(opened)
    await session.flush()
    return opened


def _anonymous_item(box: SecretBox, branch_id: int, entry: dict[str, Any]) -> FeedbackItem:
    return FeedbackItem(
        branch_id=branch_id,
        anonymous=True,
        sender_id=None,
        text_enc=_sealed(box, str(entry["text"])),
        receipt=str(entry["receipt"]),
        received_on=date.fromisoformat(entry["on"]),
        reminders=0,
    )


async def waiting_since(session: AsyncSession, box: SecretBox, digest: str) -> date | None:
    """The day an anonymous item still sealed in a box was sent, found by its receipt."""
    query = select(FeedbackBox.items_enc).where(FeedbackBox.items_enc.is_not(None))
    for sealed in (await session.scalars(query)).all():
        for entry in ballot_box.opened(box, sealed):
            if entry["receipt"] == digest:
                return date.fromisoformat(entry["on"])
    return None


async def add_named(
    session: AsyncSession,
    box: SecretBox,
    *,
    branch_id: int,
    sender_id: int,
    text: str,
    digest: str,
    day: date,
) -> FeedbackItem:
    item = FeedbackItem(
        branch_id=branch_id,
        anonymous=False,
        sender_id=sender_id,
        text_enc=_sealed(box, text),
        receipt=digest,
        received_on=day,
        reminders=0,
    )
    session.add(item)
    await session.flush()
    return item


async def get(session: AsyncSession, item_id: int, *, lock: bool = False) -> FeedbackItem | None:
    """The item; `lock`: held until commit (PostgreSQL), so an answer and a close line up."""
    return await session.get(FeedbackItem, item_id, with_for_update=True if lock else None)


async def by_receipt(session: AsyncSession, digest: str) -> FeedbackItem | None:
    return await session.scalar(select(FeedbackItem).where(FeedbackItem.receipt == digest))


async def sent_by(session: AsyncSession, member_id: int) -> Sequence[FeedbackItem]:
    """A member's named items, oldest first."""
    query = select(FeedbackItem).where(FeedbackItem.sender_id == member_id)
    return (await session.scalars(query.order_by(FeedbackItem.id))).all()


async def open_items(session: AsyncSession, branch_id: int | None) -> Sequence[FeedbackItem]:
    """Items not closed of a branch (None: of every branch), oldest first."""
    query = select(FeedbackItem).where(FeedbackItem.closed_at.is_(None))
    if branch_id is not None:
        query = query.where(FeedbackItem.branch_id == branch_id)
    order = (FeedbackItem.received_on, FeedbackItem.id)
    return (await session.scalars(query.order_by(*order))).all()


async def add_answer(
    session: AsyncSession, box: SecretBox, item_id: int, text: str, by: int, now: datetime
) -> FeedbackAnswer:
    answer = FeedbackAnswer(
        item_id=item_id, text_enc=_sealed(box, text), answered_by=by, answered_at=now
    )
    session.add(answer)
    await session.flush()
    return answer


async def answers_of(
    session: AsyncSession, item_ids: Sequence[int]
) -> dict[int, list[FeedbackAnswer]]:
    """Each item's answers, oldest first."""
    found: dict[int, list[FeedbackAnswer]] = defaultdict(list)
    for chunk in chunks(item_ids):
        query = select(FeedbackAnswer).where(FeedbackAnswer.item_id.in_(chunk))
        for answer in (await session.scalars(query.order_by(FeedbackAnswer.id))).all():
            found[answer.item_id].append(answer)
    return found


_ANSWERED = exists().where(FeedbackAnswer.item_id == FeedbackItem.id)


async def unanswered(session: AsyncSession, received_by: date) -> Sequence[FeedbackItem]:
    """Open items without any answer, received on or before `received_by`, locked (the daily
    job's reminders count on them), by branch then age."""
    query = select(FeedbackItem).where(
        FeedbackItem.closed_at.is_(None), ~_ANSWERED, FeedbackItem.received_on <= received_by
    )
    order = (FeedbackItem.branch_id, FeedbackItem.received_on, FeedbackItem.id)
    return (await session.scalars(query.order_by(*order).with_for_update())).all()


async def received_between(
    session: AsyncSession, branch_id: int, since: date, until: date
) -> list[tuple[bool, bool]]:
    """(anonymous, answered) of every item of the branch received in [since, until)."""
    query = select(FeedbackItem.anonymous, _ANSWERED).where(
        FeedbackItem.branch_id == branch_id,
        FeedbackItem.received_on >= since,
        FeedbackItem.received_on < until,
    )
    return [(bool(a), bool(b)) for a, b in (await session.execute(query)).all()]
