"""错题本 (replaying missed questions until they are answered right) and the leaderboard."""

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.registry import EVERYONE, Replies
from handlers.study.days import week_start
from handlers.study.feature import feature
from handlers.study.quiz import begin
from handlers.study.settings import StudySettings
from storage import quizzes
from storage.enums import QuizMode
from storage.quizzes import Standing, quiz_ref

SHOWN = 10  # places listed on the leaderboard


@feature.command("mistakes", roles=EVERYONE, aliases=("错题本", "错题"), private_only=True)
async def mistakes(ctx: Context, args: str) -> Replies:
    """Replay the oldest missed questions; each answered right leaves the book."""
    if args:
        raise UserError("mistakes.no_args")
    member = ctx.require_caller()
    running = await quizzes.open_quiz(ctx.session, member.id, ctx.today)
    if running is not None and running.counted:
        # The day's counted round comes first: starting another would leave it unfinished.
        resume = Button(Msg("mistakes.resume_button"), "/quiz")
        return Reply(Msg("mistakes.finish_daily_first"), ((resume,),))
    if running is not None:  # an abandoned practice round ends here
        running.finished_at = ctx.now
        await ctx.end_flow()
        data = {"score": running.correct, "total": len(running.question_ids), "abandoned": True}
        ref = quiz_ref(running.id)
        await ctx.trace("quiz.completed", member_id=member.id, ref=ref, data=data)
    book = await quizzes.open_mistakes(ctx.session, member.id)
    if not book:
        return Reply(Msg("mistakes.empty"), ((Button(Msg("quiz.again_button"), "/quiz"),),))
    ids = [m.question_id for m in book[: ctx.options.of(StudySettings).quiz_size]]
    intro = Reply(Msg("mistakes.intro", total=len(book)))
    return [intro, *await begin(ctx, member, QuizMode.MISTAKES, ids)]


@feature.command("rank", roles=EVERYONE, aliases=("排行榜", "排名"))
async def rank(ctx: Context, args: str) -> Replies:
    """The branch's daily-quiz leaderboard for this week and this month."""
    if args:
        raise UserError("rank.no_args")
    member = ctx.require_caller()
    if member.branch_id is None:
        raise UserError("error.no_branch")
    today = ctx.today
    week = await quizzes.leaderboard(ctx.session, member.branch_id, week_start(today), today)
    month = await quizzes.leaderboard(ctx.session, member.branch_id, today.replace(day=1), today)
    return Reply(
        Msg(
            "rank.board",
            week=_board(week, member.id),
            month=_board(month, member.id),
        )
    )


def _board(standings: list[Standing], me: int) -> Msg | list[Msg]:
    if not standings:
        return Msg("rank.nobody")
    lines = [_line(place, s, me) for place, s in places(standings) if place <= SHOWN]
    mine = next(((p, s) for p, s in places(standings) if s.member_id == me), None)
    if mine is not None and mine[0] > SHOWN:
        lines.append(Msg("rank.gap"))
        lines.append(_line(mine[0], mine[1], me))
    return lines


def places(standings: list[Standing]) -> list[tuple[int, Standing]]:
    """Competition ranking: equal points and days share a place (1, 2, 2, 4)."""
    placed: list[tuple[int, Standing]] = []
    for i, s in enumerate(standings):
        tied = placed and (placed[-1][1].points, placed[-1][1].days) == (s.points, s.days)
        placed.append((placed[-1][0] if tied else i + 1, s))
    return placed


def _line(place: int, s: Standing, me: int) -> Msg:
    key = "rank.line_me" if s.member_id == me else "rank.line"
    return Msg(key, place=place, name=s.name, points=s.points, days=s.days)
