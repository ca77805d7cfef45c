"""民主评议党员 (the yearly appraisal): each member writes a self-evaluation (个人自评); every
full member rates every other member (优秀/合格/基本合格/不合格, a comment optional) in one ballot
that goes into the sealed box whole; the tally per member goes to the committee, which records
the grade (组织评定) with a reason; each member sees their own result. The branch scorecard is
shown beside the tally as a reference, never as the grade."""

import json
from collections import Counter
from datetime import date
from typing import Any

from handlers.common.lookup import find_member
from handlers.common.periods import Period
from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.registry import COMMITTEE_UP, EVERYONE, SECRETARY_UP, Replies
from handlers.evaluation.scorecard import branch_scorecard
from handlers.meetings.domain import meeting_for
from handlers.votes.domain import begin, check_meeting, counted_box, new_vote, ref
from handlers.votes.feature import feature
from storage import access, meetings, votes
from storage.enums import MeetingKind, Stage
from storage.models import Member
from storage.vote_models import AppraisalGrade, SelfEvaluation, Vote

APPRAISAL = "appraisal"
GRADES = ("excellent", "qualified", "basic", "unqualified")
GRADE_WORDS = {
    "优秀": "excellent",
    "合格": "qualified",
    "基本合格": "basic",
    "不合格": "unqualified",
}
GRADE_WORDS |= {g: g for g in GRADES}
FLOW = "appraise"
COMMENT_LIMIT = 200


async def _appraisal(ctx: Context, text: str, *, staff: bool) -> Vote:
    number = text.split()[0] if text.split() else ""
    vote_id = int(number) if number.isdigit() else None
    vote = await votes.lock(ctx.session, vote_id) if vote_id is not None else None
    scope = ctx.branch_scope() if staff else ctx.require_caller().branch_id
    if vote is None or vote.kind != APPRAISAL or scope not in (None, vote.branch_id):
        raise Denied(
            "appraisal.unknown",
            target=f"vote:{number[:12]}",
            exists=vote is not None,
            id=number[:12],
        )
    return vote


@feature.command("appraisal_open", roles=SECRETARY_UP, aliases=("民主评议",), private_only=True)
async def appraisal_open(ctx: Context, args: str) -> Replies:
    """Open the year's 民主评议 at an 组织生活会 or general assembly that has begun."""
    if not args.split():
        raise UserError("usage", usage=Msg("cmd.appraisal_open.usage"))
    meeting = await meeting_for(
        ctx.session, args, ctx.branch_scope(), Msg("vote.no_meeting", value=args.split()[0])
    )
    check_meeting(ctx, meeting, (MeetingKind.LIFE, MeetingKind.ASSEMBLY))
    expected = await meetings.expected_ids(ctx.session, meeting)
    rated = await _members_of_stages(ctx, expected, (Stage.FULL, Stage.PROBATIONARY))
    raters = [m.id for m in rated if m.stage == Stage.FULL]
    if len(rated) < 2 or not raters:
        raise UserError("appraisal.too_few")
    rated_ids = [m.id for m in rated]
    vote = new_vote(ctx, meeting, APPRAISAL, len(raters), candidates=rated_ids)
    await begin(ctx, vote, raters, {"rated": len(rated)})
    invite = Reply(
        Msg("appraisal.invite", id=vote.id),
        buttons=((Button(Msg("appraisal.start"), f"/appraise {vote.id}"),),),
    )
    await queue_to_members(
        ctx.session,
        [m.id for m in rated],
        invite,
        key=f"appraisal:{vote.id}",
        kind="vote",
        now=ctx.now,
    )
    return Reply(Msg("appraisal.opened", id=vote.id, rated=len(rated), raters=len(raters)))


async def _members_of_stages(
    ctx: Context, ids: list[int], stages: tuple[Stage, ...]
) -> list[Member]:
    found = [await ctx.session.get(Member, i) for i in ids]
    return sorted(
        (m for m in found if m is not None and m.active and m.stage in stages), key=lambda m: m.id
    )


@feature.command(
    "appraisal_self", roles=EVERYONE, aliases=("个人自评",), private_only=True, hidden=True
)
async def appraisal_self(ctx: Context, args: str) -> Replies:
    """Write (or rewrite, until it closes) one's self-evaluation."""
    parts = args.split(maxsplit=1)
    if len(parts) < 2:
        raise UserError("usage", usage=Msg("cmd.appraisal_self.usage"))
    vote = await _appraisal(ctx, parts[0], staff=False)
    caller = ctx.require_caller()
    if caller.id not in (vote.candidates or []):
        raise UserError("appraisal.not_rated", id=vote.id)
    if vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    text = ctx.typed(parts[1]).strip()[:2000]
    row = await votes.self_evaluation(ctx.session, vote.id, caller.id)
    if row is None:
        ctx.session.add(
            SelfEvaluation(
                vote_id=vote.id,
                member_id=caller.id,
                body_enc=ctx.box.encrypt(text),
                written_at=ctx.now,
            )
        )
    else:
        row.body_enc, row.written_at = ctx.box.encrypt(text), ctx.now
    await ctx.trace(
        "appraisal.self_written",
        ref=ref(vote),
        data={"length": len(text), "again": row is not None},
    )
    return Reply(Msg("appraisal.self_kept", id=vote.id))


@feature.command("appraise", roles=EVERYONE, aliases=("评议",), private_only=True, hidden=True)
async def appraise(ctx: Context, args: str) -> Replies:
    """Rate every other member, one after another; the sheet goes into the box at the end."""
    vote = await _appraisal(ctx, args, staff=False)
    caller = ctx.require_caller()
    elector = await votes.elector(ctx.session, vote.id, caller.id)
    if elector is None:
        raise Denied("vote.not_elector", target=ref(vote), exists=True, id=vote.id)
    if vote.closed_at is not None:
        raise UserError("vote.closed", id=vote.id)
    if elector.voted:
        raise UserError("vote.twice", id=vote.id)
    order = [m for m in vote.candidates or [] if m != caller.id]
    return await _ask(ctx, vote, order, {})


async def _ask(ctx: Context, vote: Vote, order: list[int], sheet: dict[str, Any]) -> Reply:
    """The next member to rate; the sheet so far is kept sealed in the conversation."""
    sealed = ctx.box.encrypt(json.dumps(sheet))
    await ctx.start_flow(
        FLOW, "rate", {"vote": vote.id, "order": order, "sheet": sealed.decode() if sealed else ""}
    )
    rated = sheet.get("ratings", {})
    person = await ctx.session.get(Member, order[len(rated)])
    buttons = (tuple(Button(Msg(f"appraisal.grade.{g}"), g) for g in GRADES),)
    return Reply(
        Msg("appraisal.ask", name=person.name if person else "-", at=len(rated) + 1, of=len(order)),
        buttons=buttons,
    )


@feature.flow(FLOW, roles=EVERYONE)
async def appraise_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """A grade (a button, or 等级 评语), then the next member; after the last, the ballot."""
    vote = await votes.lock(ctx.session, data["vote"])
    if vote is None or vote.closed_at is not None:
        await ctx.end_flow()
        raise UserError("vote.closed", id=data["vote"])
    raw = ctx.box.decrypt(data["sheet"].encode()) if data["sheet"] else None
    sheet: dict[str, Any] = json.loads(raw) if raw else {}
    order: list[int] = data["order"]
    words = ctx.typed(text).strip().split(maxsplit=1)
    grade = GRADE_WORDS.get(words[0]) if words else None
    if grade is None:
        return Reply(Msg("appraisal.bad_grade"))
    ratings = sheet.setdefault("ratings", {})
    current = order[len(ratings)]
    ratings[str(current)] = grade
    if len(words) > 1:
        sheet.setdefault("comments", {})[str(current)] = words[1][:COMMENT_LIMIT]
    if len(ratings) < len(order):
        return await _ask(ctx, vote, order, sheet)
    await ctx.end_flow()
    if not await votes.mark_voted(ctx.session, vote.id, ctx.require_caller().id):
        raise UserError("vote.twice", id=vote.id)
    await votes.put_ballot(ctx.session, ctx.box, vote.id, sheet)
    await ctx.trace("vote.cast", ref=ref(vote))
    return Reply(Msg("appraisal.cast", id=vote.id, count=len(order)))


def tally_of(
    ballots: list[Any], rated: list[int]
) -> tuple[dict[int, Counter[str]], dict[int, list[str]]]:
    """Per member: how many of each grade, and the comments (in the box's random order)."""
    counts: dict[int, Counter[str]] = {m: Counter() for m in rated}
    comments: dict[int, list[str]] = {m: [] for m in rated}
    for sheet in ballots:
        for member, grade in sheet.get("ratings", {}).items():
            counts[int(member)][grade] += 1
        for member, comment in sheet.get("comments", {}).items():
            comments[int(member)].append(comment)
    return counts, comments


async def close_appraisal(ctx: Context, vote: Vote) -> Msg:
    ballots, electors = await counted_box(ctx, vote)
    counts, _ = tally_of(ballots, vote.candidates or [])
    vote.closed_at = ctx.now
    vote.result = {
        "cast": len(ballots),
        "electors": len(electors),
        "tally": {str(m): dict(c) for m, c in counts.items()},
    }
    await ctx.trace(
        "vote.closed",
        ref=ref(vote),
        data={"kind": APPRAISAL, "cast": len(ballots), "electors": len(electors)},
    )
    return Msg("appraisal.closed", id=vote.id, cast=len(ballots), electors=len(electors))


@feature.command("appraisal_view", roles=COMMITTEE_UP, aliases=("评议结果",), private_only=True)
async def appraisal_view(ctx: Context, args: str) -> Replies:
    """The tally per member with their self-evaluation, comments, the committee's grade, and
    the scorecard's total for the year as a reference."""
    vote = await _appraisal(ctx, args, staff=True)
    if vote.closed_at is None or vote.result is None:
        raise UserError("appraisal.still_open", id=vote.id)
    ballots = await votes.ballots(ctx.session, ctx.box, vote.id)
    counts, comments = tally_of(ballots, vote.candidates or [])
    selfs = await votes.self_evaluations(ctx.session, vote.id)
    decided = await votes.grades(ctx.session, vote.id)
    names = await access.names(ctx.session, vote.candidates or [])
    year = vote.opened_at.astimezone(ctx.options.timezone).year
    card = await branch_scorecard(
        ctx.session,
        ctx.box,
        vote.branch_id,
        Period(date(year, 1, 1), date(year + 1, 1, 1)),
        ctx.options,
        with_previous=False,
        today=ctx.today,
    )
    totals = {s.member_id: s.total for s in card.members if s.rank is not None}
    lines = []
    for member in vote.candidates or []:
        grade = decided.get(member)
        lines.append(
            Msg(
                "appraisal.member_line",
                name=names.get(member, "-"),
                counts=Msg("appraisal.counts", **{g: counts[member][g] for g in GRADES}),
                own=ctx.box.decrypt(selfs[member].body_enc)
                if member in selfs
                else Msg("appraisal.no_self"),
                comments=" / ".join(comments[member]) or "-",
                score=f"{totals[member]:.1f}" if member in totals else "-",
                grade=Msg(
                    "appraisal.graded",
                    grade=Msg(f"appraisal.grade.{grade.grade}"),
                    reason=grade.reason,
                )
                if grade
                else Msg("appraisal.not_graded"),
            )
        )
    await ctx.trace("data.viewed", ref=ref(vote), data={"what": "appraisal"})
    return Reply(
        Msg(
            "appraisal.view",
            id=vote.id,
            year=year,
            cast=vote.result["cast"],
            electors=vote.result["electors"],
            lines=lines,
        )
    )


@feature.command("appraisal_grade", roles=COMMITTEE_UP, aliases=("组织评定",), private_only=True)
async def appraisal_grade(ctx: Context, args: str) -> Replies:
    """The committee's grade for a member, with its reason; the member is told."""
    tokens = args.split(maxsplit=3)
    if len(tokens) < 4 or tokens[2] not in GRADE_WORDS:
        raise UserError("usage", usage=Msg("cmd.appraisal_grade.usage"))
    vote = await _appraisal(ctx, tokens[0], staff=True)
    if vote.closed_at is None:
        raise UserError("appraisal.still_open", id=vote.id)
    member = await find_member(ctx, tokens[1])
    if member.id not in (vote.candidates or []):
        raise UserError("appraisal.not_rated_name", name=member.name)
    grade, reason = GRADE_WORDS[tokens[2]], ctx.typed(tokens[3]).strip()[:300]
    existing = (await votes.grades(ctx.session, vote.id)).get(member.id)
    if existing is None:
        ctx.session.add(
            AppraisalGrade(
                vote_id=vote.id,
                member_id=member.id,
                grade=grade,
                reason=reason,
                decided_by=ctx.require_caller().id,
                decided_at=ctx.now,
            )
        )
    else:
        existing.grade, existing.reason, existing.decided_at = grade, reason, ctx.now
    await ctx.trace(
        "appraisal.graded",
        member_id=member.id,
        ref=ref(vote),
        data={"grade": grade, "again": existing is not None},
    )
    told = Reply(
        Msg("appraisal.told", id=vote.id, grade=Msg(f"appraisal.grade.{grade}"), reason=reason)
    )
    await queue_to_members(
        ctx.session,
        [member.id],
        told,
        key=f"appraisal-grade:{vote.id}:{member.id}:{ctx.now.timestamp()}",
        kind="vote",
        now=ctx.now,
    )
    return Reply(
        Msg("appraisal.grade_kept", name=member.name, grade=Msg(f"appraisal.grade.{grade}"))
    )


@feature.command("appraisal_mine", roles=EVERYONE, aliases=("我的评议",), private_only=True)
async def appraisal_mine(ctx: Context, args: str) -> Replies:
    """One's own result of the branch's latest 民主评议: the counts and the committee's grade."""
    caller = ctx.require_caller()
    if caller.branch_id is None:
        raise UserError("error.no_branch")
    vote = await votes.latest_of_kind(ctx.session, caller.branch_id, APPRAISAL)
    if vote is None or caller.id not in (vote.candidates or []) or vote.result is None:
        return Reply(Msg("appraisal.no_result"))
    counts = vote.result["tally"].get(str(caller.id), {})
    grade = (await votes.grades(ctx.session, vote.id)).get(caller.id)
    return Reply(
        Msg(
            "appraisal.mine",
            id=vote.id,
            counts=Msg("appraisal.counts", **{g: counts.get(g, 0) for g in GRADES}),
            grade=Msg(
                "appraisal.graded", grade=Msg(f"appraisal.grade.{grade.grade}"), reason=grade.reason
            )
            if grade
            else Msg("appraisal.not_graded"),
        )
    )
