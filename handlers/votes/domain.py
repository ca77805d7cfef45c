"""Opening, casting and closing a vote. Who may vote is fixed when it opens (the full members
checked in at the meeting); a ballot goes into the sealed box, and the electors' table records
only that its member voted. Everything is traced except the content of a vote."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.votes.rules import CHOICES, Tally, VoteKind, quorate
from storage import meetings, votes
from storage.enums import MeetingKind, MeetingStatus
from storage.models import Meeting, Member
from storage.vote_models import Vote, VoteElector


def kind_for(subject: Member) -> VoteKind:
    """What a vote on this person decides, by their stage; else the answer says why not."""
    for kind in VoteKind:
        if subject.stage == kind.from_stage:
            return kind
    raise UserError("vote.wrong_stage", name=subject.name, stage=Msg(f"stage.{subject.stage}"))


def check_meeting(ctx: Context, meeting: Meeting, kinds: tuple[MeetingKind, ...]) -> None:
    """A branch's meeting of one of these kinds that has begun and was not cancelled."""
    if meeting.kind not in kinds or meeting.branch_id is None:
        key = "vote.not_assembly" if kinds == (MeetingKind.ASSEMBLY,) else "appraisal.wrong_meeting"
        raise UserError(key, id=meeting.id, kind=Msg(f"kind.{meeting.kind}"))
    if meeting.status == MeetingStatus.CANCELLED or meeting.starts_at > ctx.now:
        raise UserError("vote.not_begun", id=meeting.id, at=meeting.starts_at)


async def begin(ctx: Context, vote: Vote, electors: list[int], data: dict[str, Any]) -> Vote:
    """Store a new vote with its electors and (empty) box, traced as opened."""
    ctx.session.add(vote)
    await ctx.session.flush()
    await votes.add_electors(ctx.session, vote.id, electors)
    data = {"kind": vote.kind, "meeting": vote.meeting_id, **data}
    data |= {"entitled": vote.entitled, "electors": len(electors)}
    await ctx.trace("vote.opened", member_id=vote.subject_id, ref=ref(vote), data=data)
    return vote


async def counted_box(ctx: Context, vote: Vote) -> tuple[list[Any], Sequence[VoteElector]]:
    """The ballots and the electors, once the box is checked against the electors recorded as
    having voted (a box that does not match is never counted)."""
    ballots = await votes.ballots(ctx.session, ctx.box, vote.id)
    electors = await votes.electors(ctx.session, vote.id)
    voted = sum(1 for e in electors if e.voted)
    if len(ballots) != voted:
        raise RuntimeError(f"vote {vote.id}: {len(ballots)} ballots for {voted} voters")
    return ballots, electors


async def open_vote(ctx: Context, meeting: Meeting, subject: Member) -> Vote:
    """Open a vote on `subject` at a general assembly that has begun, for the full members
    checked in; refused unless the voters present exceed half of those entitled."""
    check_meeting(ctx, meeting, (MeetingKind.ASSEMBLY,))
    if subject.branch_id != meeting.branch_id:
        raise UserError("vote.other_branch", name=subject.name)
    kind = kind_for(subject)
    if await votes.open_for(ctx.session, meeting.id, subject.id) is not None:
        raise UserError("vote.already_open", name=subject.name)
    expected = await meetings.expected_ids(ctx.session, meeting)
    entitled = [m for m in await votes.full_members_among(ctx.session, expected) if m != subject.id]
    present = await votes.present_full_members(ctx.session, meeting.id, entitled)
    if not quorate(len(present), len(entitled)):
        raise UserError("vote.no_quorum", present=len(present), entitled=len(entitled))
    vote = await begin(
        ctx, new_vote(ctx, meeting, kind, len(entitled), subject_id=subject.id), present, {}
    )
    ballot = Reply(
        Msg("vote.ballot", id=vote.id, name=subject.name, what=Msg(f"vote.kind.{kind}")),
        buttons=(tuple(Button(Msg(f"vote.choice.{c}"), f"/vote {vote.id} {c}") for c in CHOICES),),
    )
    await queue_to_members(
        ctx.session, present, ballot, key=f"vote-ballot:{vote.id}", kind="vote", now=ctx.now
    )
    return vote


def new_vote(ctx: Context, meeting: Meeting, kind: str, entitled: int, **fields: Any) -> Vote:
    assert meeting.branch_id is not None  # check_meeting refused a school-wide one
    return Vote(
        kind=kind,
        branch_id=meeting.branch_id,
        meeting_id=meeting.id,
        entitled=entitled,
        opened_by=ctx.require_caller().id,
        opened_at=ctx.now,
        **fields,
    )


def ref(vote: Vote) -> str:
    return f"vote:{vote.id}"


async def cast(ctx: Context, vote: Vote, choice: str) -> None:
    """One ballot of an elector, once; anyone else's attempt is refused and traced."""
    caller = ctx.require_caller()
    elector = await votes.elector(ctx.session, vote.id, caller.id)
    if elector is None:
        raise Denied("vote.not_elector", target=ref(vote), exists=True, id=vote.id)
    if vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    if not await votes.mark_voted(ctx.session, vote.id, caller.id):
        raise UserError("vote.twice", id=vote.id)
    await votes.put_ballot(ctx.session, ctx.box, vote.id, choice)
    await ctx.trace("vote.cast", ref=ref(vote))  # that they voted; never how


async def close(ctx: Context, vote: Vote) -> Tally:
    """Count the box, check it against the electors who voted, keep and announce the result."""
    if vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    ballots, electors = await counted_box(ctx, vote)
    tally = Tally(
        votes_for=ballots.count("for"),
        against=ballots.count("against"),
        abstain=ballots.count("abstain"),
        entitled=vote.entitled,
        electors=len(electors),
    )
    vote.closed_at = ctx.now
    vote.result = tally.as_dict()
    await ctx.trace("vote.closed", member_id=vote.subject_id, ref=ref(vote), data=tally.as_dict())
    return tally


async def announce(
    session: AsyncSession, vote: Vote, subject: Member, tally: Tally, now: datetime
) -> None:
    """The result to the electors and to the person voted on."""
    told = Reply(result_msg(vote, subject.name, tally))
    readers = [e.member_id for e in await votes.electors(session, vote.id)] + [subject.id]
    await queue_to_members(
        session, readers, told, key=f"vote-result:{vote.id}", kind="vote", now=now
    )


def result_msg(vote: Vote, name: str | Msg, tally: Tally) -> Msg:
    return Msg(
        "vote.result",
        id=vote.id,
        name=name,
        what=Msg(f"vote.kind.{vote.kind}"),
        outcome=Msg("vote.passed" if tally.passed else "vote.failed"),
        yes=tally.votes_for,
        against=tally.against,
        abstain=tally.abstain,
        cast=tally.cast,
        electors=tally.electors,
        entitled=tally.entitled,
    )
