"""`/vote_open 会议编号 姓名` (发起表决), `/vote 编号 赞成|反对|弃权` (投票, or its buttons),
`/vote_close 编号` (结束表决) and `/votes` (表决记录)."""

import json

from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import COMMITTEE_UP, EVERYONE, SECRETARY_UP, Replies
from handlers.meetings.domain import meeting_for
from handlers.votes import appraisal, domain, election
from handlers.votes.feature import feature
from handlers.votes.rules import Tally
from storage import access, votes
from storage.models import Member
from storage.vote_models import Vote

CHOICE_WORDS = {
    "for": "for",
    "赞成": "for",
    "同意": "for",
    "against": "against",
    "反对": "against",
    "不同意": "against",
    "abstain": "abstain",
    "弃权": "abstain",
}


@feature.command("vote_open", roles=SECRETARY_UP, aliases=("发起表决",), private_only=True)
async def vote_open(ctx: Context, args: str) -> Replies:
    """Open a vote at a general assembly on a 发展对象's admission or a 预备党员's conversion."""
    tokens = args.split(maxsplit=1)
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.vote_open.usage"))
    meeting = await meeting_for(
        ctx.session, tokens[0], ctx.branch_scope(), Msg("vote.no_meeting", value=tokens[0])
    )
    subject = await find_member(ctx, tokens[1].strip())
    vote = await domain.open_vote(ctx, meeting, subject)
    electors = len(await votes.electors(ctx.session, vote.id))
    return Reply(
        Msg(
            "vote.opened",
            id=vote.id,
            name=subject.name,
            what=Msg(f"vote.kind.{vote.kind}"),
            electors=electors,
            entitled=vote.entitled,
        )
    )


async def _vote(ctx: Context, text: str, scope_check: bool) -> Vote:
    """The vote numbered first in `text`; for staff, only their branch's (else Denied)."""
    vote_id = parse_id(text.split()[0]) if text.split() else None
    if vote_id is None:
        raise UserError("vote.bad_id", value=text[:20])
    vote = await votes.lock(ctx.session, vote_id)
    scope = ctx.branch_scope() if scope_check else None
    if vote is None or scope not in (None, vote.branch_id):
        raise Denied("vote.unknown", target=f"vote:{vote_id}", exists=vote is not None, id=vote_id)
    return vote


@feature.command("vote", roles=EVERYONE, aliases=("投票",), private_only=True, hidden=True)
async def vote_cast(ctx: Context, args: str) -> Replies:
    """Cast one's ballot: 赞成, 反对 or 弃权."""
    tokens = args.split()
    if len(tokens) != 2 or tokens[1].lower() not in CHOICE_WORDS:
        raise UserError("usage", usage=Msg("cmd.vote.usage"))
    vote = await _vote(ctx, tokens[0], scope_check=False)
    if vote.kind == election.ELECTION:
        raise UserError("election.use_elect", id=vote.id)
    if vote.kind == appraisal.APPRAISAL:
        raise UserError("appraisal.use_appraise", id=vote.id)
    choice = CHOICE_WORDS[tokens[1].lower()]
    await domain.cast(ctx, vote, choice)
    return Reply(Msg("vote.cast", id=vote.id, choice=Msg(f"vote.choice.{choice}")))


@feature.command("vote_close", roles=SECRETARY_UP, aliases=("结束表决",), private_only=True)
async def vote_close(ctx: Context, args: str) -> Replies:
    """Close a vote: count, check, announce; the result goes into the person's file."""
    if not args.strip():
        raise UserError("usage", usage=Msg("cmd.vote_close.usage"))
    vote = await _vote(ctx, args, scope_check=True)
    if vote.kind in (election.ELECTION, appraisal.APPRAISAL) and vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    if vote.kind == election.ELECTION:
        return Reply(await election.result_msg(ctx, vote, await election.close(ctx, vote)))
    if vote.kind == appraisal.APPRAISAL:
        return Reply(await appraisal.close_appraisal(ctx, vote))
    tally = await domain.close(ctx, vote)
    subject = await ctx.session.get(Member, vote.subject_id)
    assert subject is not None
    await domain.announce(ctx.session, vote, subject, tally, ctx.now)
    return Reply(domain.result_msg(vote, subject.name, tally))


@feature.command("votes", roles=COMMITTEE_UP, aliases=("表决记录",), private_only=True)
async def votes_list(ctx: Context, args: str) -> Replies:
    """The branch's votes, newest first: open ones with how many have voted, closed ones
    with their result."""
    found = await votes.of_branch(ctx.session, ctx.branch_scope())
    if not found:
        return Reply(Msg("vote.none"))
    lines = []
    for vote in found:
        subject = await ctx.session.get(Member, vote.subject_id) if vote.subject_id else None
        name = subject.name if subject else Msg(f"vote.title.{vote.kind}", seats=vote.seats or 0)
        if vote.closed_at is None or vote.result is None:
            electors = await votes.electors(ctx.session, vote.id)
            voted = sum(1 for e in electors if e.voted)
            lines.append(
                Msg("vote.line_open", id=vote.id, name=name, voted=voted, electors=len(electors))
            )
        elif vote.kind == appraisal.APPRAISAL:
            lines.append(Msg("appraisal.line_closed", id=vote.id, cast=vote.result["cast"]))
        elif vote.kind == election.ELECTION:
            elected = len(vote.result["elected"])
            lines.append(
                Msg("election.line_closed", id=vote.id, seats=vote.seats or 0, elected=elected)
            )
        else:
            tally = Tally(
                vote.result["for"],
                vote.result["against"],
                vote.result["abstain"],
                vote.result["entitled"],
                vote.result["electors"],
            )
            lines.append(domain.result_msg(vote, name, tally))
    return Reply(Msg("vote.list", lines=lines))


@feature.command("election_open", roles=SECRETARY_UP, aliases=("换届选举",), private_only=True)
async def election_open(ctx: Context, args: str) -> Replies:
    """Open an election of the committee at a general assembly: seats and candidates."""
    tokens = args.split()
    if len(tokens) < 3 or not tokens[1].isdigit():
        raise UserError("usage", usage=Msg("cmd.election_open.usage"))
    meeting = await meeting_for(
        ctx.session, tokens[0], ctx.branch_scope(), Msg("vote.no_meeting", value=tokens[0])
    )
    candidates = [await find_member(ctx, name) for name in dict.fromkeys(tokens[2:])]
    vote = await election.open_election(ctx, meeting, int(tokens[1]), candidates)
    electors = len(await votes.electors(ctx.session, vote.id))
    return Reply(
        Msg(
            "election.opened",
            id=vote.id,
            seats=vote.seats,
            candidates=len(candidates),
            electors=electors,
            entitled=vote.entitled,
        )
    )


@feature.command("elect", roles=EVERYONE, aliases=("选举投票",), private_only=True, hidden=True)
async def elect(ctx: Context, args: str) -> Replies:
    """An election ballot: the candidates chosen (at most the seats), or 弃权 for a blank one."""
    tokens = args.split()
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.elect.usage"))
    vote = await _vote(ctx, tokens[0], scope_check=False)
    if vote.kind != election.ELECTION:
        raise UserError("election.not_election", id=vote.id)
    chosen = await election.cast(ctx, vote, tokens[1:])
    return Reply(Msg("election.cast", id=vote.id, chosen=Series(chosen) or Msg("election.blank")))


@feature.command(
    "election_confirm", roles=SECRETARY_UP, aliases=("确认选举结果",), private_only=True
)
async def election_confirm(ctx: Context, args: str) -> Replies:
    """Take a closed election's result over into the members' roles."""
    if not args.strip():
        raise UserError("usage", usage=Msg("cmd.election_confirm.usage"))
    vote = await _vote(ctx, args, scope_check=True)
    changed = await election.confirm(ctx, vote)
    return Reply(Msg("election.confirmed_now", id=vote.id, names=Series(changed) or "-"))


PICKS = "elect"  # the flow that keeps a voter's ticks, sealed, until 投票


async def _picks(ctx: Context, vote: Vote) -> set[int]:
    state = ctx.conversation
    if state is None or state.flow != PICKS or state.data.get("vote") != vote.id:
        return set()
    raw = ctx.box.decrypt(state.data["chosen"].encode()) if state.data.get("chosen") else None
    return set(json.loads(raw)) if raw else set()


@feature.command("elect_pick", roles=EVERYONE, private_only=True, hidden=True, keeps_flow=True)
async def elect_pick(ctx: Context, args: str) -> Replies:
    """Tick or untick a candidate on one's ballot (the ballot's buttons); nothing is cast yet."""
    tokens = args.split()
    if len(tokens) != 2 or not tokens[1].isdigit():
        raise UserError("usage", usage=Msg("cmd.elect.usage"))
    vote = await _vote(ctx, tokens[0], scope_check=False)
    if vote.kind != election.ELECTION or int(tokens[1]) not in (vote.candidates or []):
        raise UserError("election.not_election", id=vote.id)
    if vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    chosen = await _picks(ctx, vote) ^ {int(tokens[1])}
    if len(chosen) > (vote.seats or 0):
        raise UserError("election.too_many", seats=vote.seats or 0, chosen=len(chosen))
    sealed = ctx.box.encrypt(json.dumps(sorted(chosen)))
    await ctx.start_flow(
        PICKS, "pick", {"vote": vote.id, "chosen": sealed.decode() if sealed else ""}
    )
    names = await access.names(ctx.session, vote.candidates or [])
    picked = Series(names.get(c, "-") for c in vote.candidates or [] if c in chosen)
    return Reply(
        Msg(
            "election.picking",
            id=vote.id,
            seats=vote.seats or 0,
            chosen=picked or Msg("election.none_yet"),
        ),
        buttons=election.ballot_buttons(
            vote.id, [(c, names.get(c, "-")) for c in vote.candidates or []], chosen
        ),
        edit=True,
    )


@feature.command("elect_submit", roles=EVERYONE, private_only=True, hidden=True, keeps_flow=True)
async def elect_submit(ctx: Context, args: str) -> Replies:
    """Cast the ballot as ticked (nobody ticked: use 弃权 for a blank ballot)."""
    vote = await _vote(ctx, args, scope_check=False)
    if vote.kind != election.ELECTION:
        raise UserError("election.not_election", id=vote.id)
    chosen = await _picks(ctx, vote)
    if not chosen:
        raise UserError("election.nothing_ticked", id=vote.id)
    names = await access.names(ctx.session, sorted(chosen))
    cast = await election.cast(ctx, vote, [names[c] for c in vote.candidates or [] if c in chosen])
    await ctx.end_flow()
    return Reply(Msg("election.cast", id=vote.id, chosen=Series(cast)))
