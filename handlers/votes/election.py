"""换届选举: the committee elected at a general assembly. Candidates and seats (more
candidates than seats allowed, 差额); each voter chooses at most as many as there are seats.
The election is valid only when more than four fifths of those entitled to vote attend, and a
candidate is elected with the votes of more than half of the voters present (实到会有选举权的
人数); ties at the last seat and seats left empty are reported for a second round. The
secretary's confirmation makes the elected the committee (《中国共产党基层组织选举工作条例》)."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.account.changes import Editor, change_member
from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.votes.domain import begin, check_meeting, counted_box, new_vote, ref
from storage import access, meetings, people, votes
from storage.enums import MeetingKind, Role, Stage
from storage.models import Meeting, Member
from storage.vote_models import Vote

ELECTION = "election"
BLANK = frozenset({"弃权", "空白", "abstain", "none"})


def valid(present: int, entitled: int) -> bool:
    return present * 5 > entitled * 4


@dataclass(frozen=True)
class Count:
    votes: dict[int, int]
    cast: int
    electors: int
    entitled: int
    elected: list[int]
    tied: list[int]

    def as_dict(self) -> dict[str, object]:
        return {
            "votes": {str(k): v for k, v in self.votes.items()},
            "cast": self.cast,
            "electors": self.electors,
            "entitled": self.entitled,
            "elected": self.elected,
            "tied": self.tied,
        }


def count(
    ballots: Sequence[list[int]],
    candidates: Sequence[int],
    seats: int,
    electors: int,
    entitled: int,
) -> Count:
    """Who is elected: more than half of the voters present, the most votes first; a tie for
    the last seats elects none of the tied (a second round decides)."""
    tally = Counter({c: 0 for c in candidates})
    for chosen in ballots:
        tally.update(chosen)
    passing = sorted((c for c in candidates if tally[c] * 2 > electors), key=lambda c: -tally[c])
    if len(passing) <= seats:
        return Count(dict(tally), len(ballots), electors, entitled, passing, [])
    cutoff = tally[passing[seats - 1]]
    above = [c for c in passing if tally[c] > cutoff]
    at = [c for c in passing if tally[c] == cutoff]
    if len(above) + len(at) == seats:
        return Count(dict(tally), len(ballots), electors, entitled, above + at, [])
    return Count(dict(tally), len(ballots), electors, entitled, above, at)


async def open_election(
    ctx: Context, meeting: Meeting, seats: int, candidates: list[Member]
) -> Vote:
    check_meeting(ctx, meeting, (MeetingKind.ASSEMBLY,))
    if not 1 <= seats <= len(candidates):
        raise UserError("election.bad_seats", seats=seats, candidates=len(candidates))
    strangers = [
        c.name for c in candidates if c.branch_id != meeting.branch_id or c.stage != Stage.FULL
    ]
    if strangers:
        raise UserError("election.bad_candidates", names=Series(strangers))
    expected = await meetings.expected_ids(ctx.session, meeting)
    entitled = await votes.full_members_among(ctx.session, expected)
    present = await votes.present_full_members(ctx.session, meeting.id, entitled)
    if not valid(len(present), len(entitled)):
        raise UserError("election.no_quorum", present=len(present), entitled=len(entitled))
    candidate_ids = [c.id for c in candidates]
    vote = new_vote(ctx, meeting, ELECTION, len(entitled), seats=seats, candidates=candidate_ids)
    await begin(ctx, vote, present, {"seats": seats, "candidates": candidate_ids})
    names = Series(c.name for c in candidates)
    ballot = Reply(
        Msg("election.ballot", id=vote.id, seats=seats, names=names, example=candidates[0].name),
        buttons=ballot_buttons(vote.id, [(c.id, c.name) for c in candidates], set()),
    )
    await queue_to_members(
        ctx.session, present, ballot, key=f"vote-ballot:{vote.id}", kind="vote", now=ctx.now
    )
    return vote


def ballot_buttons(
    vote_id: int, candidates: list[tuple[int, str]], chosen: set[int]
) -> tuple[tuple[Button, ...], ...]:
    """A button per candidate that ticks or unticks them, then 投票 and 弃权."""
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                Msg("election.pick", mark="✅" if c in chosen else "⬜", name=name),
                f"/elect_pick {vote_id} {c}",
            ),
        )
        for c, name in candidates
    ]
    rows.append(
        (
            Button(Msg("election.submit", count=len(chosen)), f"/elect_submit {vote_id}"),
            Button(Msg("election.blank"), f"/elect {vote_id} 弃权"),
        )
    )
    return tuple(rows)


async def cast(ctx: Context, vote: Vote, names: list[str]) -> list[str]:
    """One ballot: the chosen candidates (at most the seats; none is a blank ballot)."""
    caller = ctx.require_caller()
    elector = await votes.elector(ctx.session, vote.id, caller.id)
    if elector is None:
        raise Denied("vote.not_elector", target=ref(vote), exists=True, id=vote.id)
    if vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    by_name = await access.names(ctx.session, vote.candidates or [])
    ids = {name: member_id for member_id, name in by_name.items()}
    chosen_names = [] if len(names) == 1 and names[0] in BLANK else list(dict.fromkeys(names))
    unknown = [n for n in chosen_names if n not in ids]
    if unknown:
        raise UserError(
            "election.not_candidate", names=Series(unknown), candidates=Series(by_name.values())
        )
    if len(chosen_names) > (vote.seats or 0):
        raise UserError("election.too_many", seats=vote.seats or 0, chosen=len(chosen_names))
    if not await votes.mark_voted(ctx.session, vote.id, caller.id):
        raise UserError("vote.twice", id=vote.id)
    await votes.put_ballot(ctx.session, ctx.box, vote.id, [ids[n] for n in chosen_names])
    await ctx.trace("vote.cast", ref=ref(vote))
    return chosen_names


async def close(ctx: Context, vote: Vote) -> Count:
    ballots, electors = await counted_box(ctx, vote)
    result = count(
        [list(b) for b in ballots if isinstance(b, list)],
        vote.candidates or [],
        vote.seats or 0,
        len(electors),
        vote.entitled,
    )
    vote.closed_at = ctx.now
    vote.result = result.as_dict()
    await ctx.trace("vote.closed", ref=ref(vote), data=result.as_dict())
    readers = [e.member_id for e in electors]
    told = Reply(await result_msg(ctx, vote, result))
    await queue_to_members(
        ctx.session, readers, told, key=f"vote-result:{vote.id}", kind="vote", now=ctx.now
    )
    return result


async def result_msg(ctx: Context, vote: Vote, result: Count) -> Msg:
    names = await access.names(ctx.session, vote.candidates or [])
    lines = [
        Msg("election.line", name=names.get(c, "-"), votes=result.votes.get(c, 0))
        for c in vote.candidates or []
    ]
    return Msg(
        "election.result",
        id=vote.id,
        seats=vote.seats or 0,
        lines=lines,
        cast=result.cast,
        electors=result.electors,
        entitled=result.entitled,
        elected=Series(names.get(c, "-") for c in result.elected) or Msg("election.nobody"),
        rerun=Msg(
            "election.rerun",
            tied=Series(names.get(c, "-") for c in result.tied),
            left=(vote.seats or 0) - len(result.elected),
        )
        if len(result.elected) < (vote.seats or 0)
        else "",
    )


async def confirm(ctx: Context, vote: Vote) -> list[str]:
    """The elected become the committee (a secretary stays secretary); committee members not
    elected become members. Each change goes through the traced change of a record."""
    if vote.kind != ELECTION or vote.result is None:
        raise UserError("election.not_closed", id=vote.id)
    if vote.confirmed_at is not None:
        raise UserError("election.confirmed", id=vote.id)
    elected = set(vote.result["elected"])
    editor = Editor(ctx.require_caller())
    changed = []
    for member in await people.branch_members(ctx.session, vote.branch_id):
        if member.id in elected and member.role == Role.MEMBER:
            await change_member(
                ctx.session, ctx.box, member, "role", Role.COMMITTEE, ctx.now, editor
            )
            changed.append(member.name)
        elif member.id not in elected and member.role == Role.COMMITTEE:
            await change_member(ctx.session, ctx.box, member, "role", Role.MEMBER, ctx.now, editor)
            changed.append(member.name)
    vote.confirmed_at = ctx.now
    await ctx.trace("vote.confirmed", ref=ref(vote), data={"changed": len(changed)})
    return changed
