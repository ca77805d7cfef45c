"""The kept full walk of the trace chain: reports check only what came after it, an edit
behind it is found by the next walk (the nightly job), which tells the admins."""

from datetime import timedelta

from sqlalchemy import select, update

from bot.app.services import Services
from scheduler import watch_jobs
from scheduler.context import JobContext, use
from storage import chain, traces
from storage.enums import Role
from storage.models import ChainCheck, OutboxMessage, Trace
from storage.traces import Entry
from tests.conftest import Chat, Cli, Clock, Threaded


async def write(services: Services, n: int, clock: Clock) -> None:
    entries = [Entry("data.viewed", member_id=i, data={"i": i}) for i in range(n)]
    async with services.sessions.begin() as session:
        await traces.append_many(session, services.box, entries, clock())


async def state(services: Services) -> chain.ChainState:
    async with services.readers() as session:
        return await chain.chain_state(session, services.box)


async def edit(services: Services, trace_id: int) -> None:
    async with services.sessions.begin() as session:
        await session.execute(update(Trace).where(Trace.id == trace_id).values(data={"i": -1}))


def use_jobs(services: Services, clock: Clock) -> None:
    use(JobContext(services.sessions, services.box, services.router.options, clock))


async def test_without_a_kept_walk_every_report_walks_everything(
    services: Services, clock: Clock
) -> None:
    await write(services, 20, clock)
    first = await state(services)
    assert first.ok and first.checked_to == 20 and first.walked_at is None
    await edit(services, 3)
    found = await state(services)
    assert not found.ok and found.bad_id == 3 and found.reason == "altered"


async def test_a_report_checks_only_the_rows_after_the_kept_walk(
    services: Services, clock: Clock
) -> None:
    await write(services, 20, clock)
    use_jobs(services, clock)
    assert await watch_jobs.chain_walk() is True
    await write(services, 5, clock)
    sound = await state(services)
    assert sound.ok and (sound.walked_to, sound.checked_to) == (20, 25)
    assert sound.walked_at == clock()
    await write(services, 5, clock)
    await edit(services, 28)  # appended after the last check: the report's own check finds it
    assert (await state(services)).bad_id == 28


async def test_the_nightly_walk_finds_an_older_edit_and_tells_the_admins(
    chat: Chat, clock: Clock
) -> None:
    services = chat.services
    admin_id, _ = await chat.enrolled("组织员", role=Role.ADMIN)
    await write(services, 20, clock)
    use_jobs(services, clock)
    await watch_jobs.chain_walk()
    await edit(services, 7)
    assert (await state(services)).ok, "behind the kept walk: only a full walk sees it"
    clock.advance(hours=24)
    assert await watch_jobs.chain_walk() is False
    broken = await state(services)
    assert not broken.ok and broken.bad_id == 7 and broken.reason == "altered"
    async with services.readers() as session:
        alerts = (await session.scalars(select(OutboxMessage))).all()
        kept = (await session.scalars(select(Trace).where(Trace.kind == "chain.broken"))).all()
    assert [a.member_id for a in alerts] == [admin_id]
    assert [t.data["bad_id"] for t in kept] == [7]
    clock.advance(hours=24)
    assert await watch_jobs.chain_walk() is False
    async with services.readers() as session:
        assert len((await session.scalars(select(OutboxMessage))).all()) == 1, "alerted once"


async def test_an_altered_or_forged_check_is_not_believed(services: Services, clock: Clock) -> None:
    await write(services, 10, clock)
    use_jobs(services, clock)
    await watch_jobs.chain_walk()
    async with services.sessions.begin() as session:
        await session.execute(update(ChainCheck).values(verified_id=9))
    assert (await state(services)).reason == "check_altered"


async def test_a_start_walks_only_when_no_recent_walk_is_kept(
    services: Services, clock: Clock
) -> None:
    await write(services, 5, clock)
    use_jobs(services, clock)
    assert await watch_jobs.chain_walk_if_due() is True
    clock.advance(hours=23)
    assert await watch_jobs.chain_walk_if_due() is None
    clock.advance(hours=2)
    assert await watch_jobs.chain_walk_if_due() is True
    assert (await state(services)).walked_at == clock()


async def test_verify_on_the_command_line_keeps_its_walk(
    services: Services, clock: Clock, database_url: str
) -> None:
    await write(services, 8, clock)
    result = await Threaded(Cli(database_url))("verify")
    assert result.exit_code == 0
    kept = await state(services)
    assert kept.ok and kept.walked_to == 8
    assert clock() - timedelta(days=1) < kept.walked_at  # type: ignore[operator]
