"""Study at scale: 10,000 materials, 5,000 members.

    python bench/study.py [--materials 10000] [--members 5000] [--searches 300]
                          [--rounds 3] [--database-url URL]

Prints, each as a median over rounds with a baseline measured in the same process:
- index build: the BM25 index built from the stored terms, against only reading those rows;
- /search latency p50/p99 through the router (goal p99 < 50 ms), against /me;
- the daily push for every member (goal < 10 s), against queueing one plain message to all;
- start-up of `branchbot run` against the fake Bot API until it serves (goal < 3 s) and until
  it has answered a /search (which loads jieba's dictionary), against a bare interpreter
  importing it; and the same first /search with no dictionary cache on disk.
"""

import argparse
import asyncio
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from bench.rig import TOKEN, FakeApi, fake_api, percentile, text_update
from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from handlers.account.members import add_branch
from handlers.core.incoming import Incoming
from handlers.core.messages import Msg, Reply
from handlers.core.notify import queue_to_members
from handlers.study import index as study_index
from handlers.study.daily import push_materials
from handlers.study.documents import read_document
from handlers.study.index import material_terms
from handlers.study.materials import digest
from handlers.study.text import keywords, party_terms, warm
from storage import schema
from storage.crypto import SecretBox
from storage.models import Material, Member
from tests.conftest import reset_postgres
from tests.support.people import bind_members

ROOT = Path(__file__).resolve().parent.parent
FIRST_USER = 30_000_000
QUERIES = ["三会一课", "转正", "政审", "组织生活会", "党费 交纳", "民主集中制", "入党积极分子 培养",
           "纪律处分", "主题党日 活动", "实习 流动党员", "党员 义务", "二十大 精神", "发展对象",
           "谈心谈话", "批评与自我批评", "志愿服务", "党课", "不忘初心 牢记使命", "学习强国",
           "全面从严治党"]  # fmt: skip


def corpus_sentences() -> list[str]:
    """Sentences to build synthetic materials from: the demo materials and the starter bank."""
    sentences = []
    for path in sorted((ROOT / "bot" / "cli" / "demo_materials").glob("*.md")):
        doc = read_document(path.name, path.read_bytes())
        sentences += [s + "。" for s in doc.body.replace("\n", "").split("。") if len(s) > 8]
    return sentences


def synthetic(rng: random.Random, sentences: list[str], terms: tuple[str, ...]) -> tuple[str, str]:
    title = "、".join(rng.sample(terms, 2)) + f"学习笔记{rng.randint(1, 999)}"
    body = "".join(rng.sample(sentences, rng.randint(4, 10)))
    return title, body


async def add_materials(services: Services, count: int, branch_ids: list[int]) -> float:
    """`count` materials (a quarter shared), terms and keywords computed as on add; returns
    the seconds it took (set-up, not a goal)."""
    rng = random.Random(7)
    sentences, terms = corpus_sentences(), party_terms()
    start = time.perf_counter()
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        title, body = synthetic(rng, sentences, terms)
        rows.append(
            {
                "branch_id": None if i % 4 == 0 else rng.choice(branch_ids),
                "title": title,
                "body": body,
                "keywords": keywords(f"{title}\n{body}"),
                "terms": material_terms(title, body),
                "digest": digest(title, body, None),
                "created_at": now - timedelta(minutes=count - i),
                "active": True,
            }
        )
    async with services.sessions.begin() as session:
        for chunk in range(0, count, 1000):
            await session.execute(insert(Material), rows[chunk : chunk + 1000])
    return time.perf_counter() - start


async def give_interests(services: Services) -> None:
    rng = random.Random(11)
    terms = party_terms()
    async with services.sessions.begin() as session:
        for member in await session.scalars(select(Member)):
            member.interests = rng.sample(terms, rng.randint(0, 2))


async def index_build(services: Services) -> tuple[float, float]:
    """(seconds to build the index from scratch, seconds to only read its rows)."""
    async with services.readers() as session:
        start = time.perf_counter()
        rows = (
            await session.execute(select(Material.id, Material.branch_id, Material.terms))
        ).all()
        read = time.perf_counter() - start
        study_index._indexes.clear()
        start = time.perf_counter()
        await study_index.current_index(session)
        built = time.perf_counter() - start
    assert rows
    return built, read


async def latencies(services: Services, users: list[int], texts: list[str]) -> list[float]:
    ids = itertools.count()
    waits = []
    for user, text in zip(itertools.cycle(users), texts, strict=False):
        incoming = Incoming(
            platform="telegram",
            account_id=str(user),
            chat_id=str(user),
            text=text,
            update_key=f"bench-{time.time_ns()}-{next(ids)}",
        )
        start = time.perf_counter()
        replies = await services.router.handle(incoming)
        waits.append(time.perf_counter() - start)
        assert replies and replies[0].text is not None and replies[0].text.key != "error.internal"
    return waits


async def push_round(services: Services, day: int, members: list[int]) -> tuple[float, float, int]:
    """(seconds for the daily push, seconds to queue one plain message to all, pushed)."""
    at = datetime.now(UTC) + timedelta(days=day)
    zone = services.settings.zone
    start = time.perf_counter()
    async with services.sessions.begin() as session:
        pushed = await push_materials(session, services.box, at, zone)
    push = time.perf_counter() - start
    start = time.perf_counter()
    async with services.sessions.begin() as session:
        await queue_to_members(
            session, members, Reply(Msg("quiz.reminder")), key=f"bench:{day}", kind="bench", now=at
        )
    plain = time.perf_counter() - start
    return push, plain, pushed


async def service_startup(api: FakeApi, url: str, key: str, user: int) -> tuple[float, float]:
    """Spawn `branchbot run` against the fake Bot API: (seconds until it logs that it serves;
    seconds until it has answered a /search sent at that moment, which loads jieba)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BRANCHBOT_DATABASE_URL": url,
           "BRANCHBOT_SECRET_KEY": key, "BRANCHBOT_TELEGRAM_TOKEN": TOKEN,
           "BRANCHBOT_TELEGRAM_BASE_URL": api.base_url, "BRANCHBOT_LISTEN_PORT": "0"}  # fmt: skip
    answered = await api.sent() + 1
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    while b"branchbot serving on" not in await process.stderr.readline():
        if process.returncode is not None:
            raise RuntimeError("branchbot run stopped while starting")
    ready = time.perf_counter() - start
    await api.push([text_update(time.time_ns() % 2**31, user, "/search 三会一课")])
    await api.wait_sent(answered, patience=60)
    first_search = time.perf_counter() - start
    process.terminate()
    await process.communicate()
    return ready, first_search


async def imports_only() -> float:
    """The floor: a fresh interpreter importing everything `branchbot run` imports, the way
    bot/cli/entry.py does (collector off meanwhile)."""
    start = time.perf_counter()
    code = "import gc; gc.disable(); import bot.cli.main, bot.serve"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    await process.wait()
    return time.perf_counter() - start


async def populate(
    services: Services, n_members: int, n_materials: int
) -> tuple[list[int], list[int], float]:
    """40 branches, bound members with interests, materials: (Telegram ids, member ids,
    seconds the materials took)."""
    async with services.sessions.begin() as session:
        now = datetime.now(UTC)
        branches = [
            await add_branch(session, services.box, f"第{i + 1}党支部", now) for i in range(40)
        ]
        branch_ids = [b.id for b in branches]
        users = await bind_members(session, branch_ids, n_members, FIRST_USER)
        members = list((await session.scalars(select(Member.id))).all())
    await give_interests(services)
    return users, members, await add_materials(services, n_materials, branch_ids)


def _forget_dictionary_cache() -> None:
    """Truly cold: handlers/study/dictionary.py builds its trie again."""
    for cached in Path(tempfile.gettempdir()).glob("branchbot-jieba-*"):
        cached.unlink()


async def startups(
    url: str, key: str, user: int, rounds: int
) -> tuple[float, list[tuple[float, float]], list[float]]:
    """(the first search of a start with no dictionary cache, (ready, first search) per round,
    bare imports per round)."""
    async with fake_api() as api:
        _forget_dictionary_cache()
        _, cold_search = await service_startup(api, url, key, user)
        starts = [await service_startup(api, url, key, user) for _ in range(rounds)]
        floors = [await imports_only() for _ in range(rounds)]
    return cold_search, starts, floors


async def main(
    n_materials: int, n_members: int, searches: int, rounds: int, url: str | None
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-study-"))
    url = url or f"sqlite+aiosqlite:///{folder / 'study.sqlite3'}"
    if url.startswith("postgresql"):
        await reset_postgres(url)
    key = SecretBox.generate_key()
    services = build_services(load_settings(database_url=url, secret_key=key))
    await schema.upgrade(services.engine)
    warm()
    users, members, prepared = await populate(services, n_members, n_materials)

    builds, reads = zip(*[await index_build(services) for _ in range(rounds)], strict=True)
    rng = random.Random(3)
    search_waits, me_waits = [], []
    for _ in range(rounds):
        texts = [f"/search {rng.choice(QUERIES)}" for _ in range(searches)]
        search_waits.append(await latencies(services, users[:50], texts))
        me_waits.append(await latencies(services, users[:50], ["/me"] * searches))
    pushes = [await push_round(services, day + 1, members) for day in range(rounds)]
    await services.close()
    cold_search, starts, floors = await startups(url, key, users[0], rounds)

    med = statistics.median
    s50 = med(percentile(w, 0.5) for w in search_waits) * 1000
    s99 = med(percentile(w, 0.99) for w in search_waits) * 1000
    m50 = med(percentile(w, 0.5) for w in me_waits) * 1000
    m99 = med(percentile(w, 0.99) for w in me_waits) * 1000
    push, plain = med(p[0] for p in pushes), med(p[1] for p in pushes)
    print(
        f"materials: {n_materials} (prepared with jieba in {prepared:.1f} s), members: "
        f"{n_members} in 40 branches, rounds: {rounds}, database: {url.split(':')[0]}"
    )
    print(
        f"index build:      {med(builds):6.2f} s   (reading the rows alone: {med(reads):.2f} s, "
        f"ratio {med(builds) / med(reads):.1f})"
    )
    print(
        f"/search latency:  p50 {s50:5.1f} ms, p99 {s99:5.1f} ms   (goal p99 < 50 ms; "
        f"{searches} searches a round)"
    )
    print(
        f"/me latency:      p50 {m50:5.1f} ms, p99 {m99:5.1f} ms   (ratio search/me p50 "
        f"{s50 / m50:.1f})"
    )
    print(
        f"daily push:       {push:6.2f} s for {pushes[0][2]} members   (goal < 10 s; one "
        f"plain message to all: {plain:.2f} s, ratio {push / plain:.1f})"
    )
    ready, first = med(r for r, _ in starts), med(f for _, f in starts)
    print(f"start-up:         {ready:6.2f} s until `branchbot run` serves (goal < 3 s)")
    print(
        f"                  {first:6.2f} s until it has answered a /search sent then "
        f"(the index of {n_materials} builds in the background, jieba loads; with no "
        f"dictionary cache on disk: {cold_search:.2f} s)"
    )
    print(
        f"                  {med(floors):6.2f} s for a bare interpreter to import the service "
        f"(ratio ready/imports {ready / med(floors):.1f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--materials", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.materials, args.members, args.searches, args.rounds, args.database_url))
