"""Inbox workers of several processes (each its own engine, as a process has) on one
database: every update is handled exactly once, each chat's in order, while the updates
keep arriving; a worker stopped cleanly gives back what it had not begun."""

import asyncio
import random
from collections import defaultdict

from bot.app.services import build_services
from bot.app.settings import load_settings
from bot.channels.inbox import InboxWorker
from storage.inbox import Arrival
from tests.conftest import SECRET

CHATS, EACH, BURST = 12, 15, 5


async def test_workers_of_several_processes_handle_each_update_once_in_chat_order(
    database_url: str,
) -> None:
    processes = [
        build_services(load_settings(database_url=database_url, secret_key=SECRET))
        for _ in range(3 if database_url.startswith("postgresql") else 1)
    ]
    handled: dict[str, list[int]] = defaultdict(list)
    busy: set[str] = set()
    overlaps: list[str] = []

    async def handle(body: str) -> None:
        chat, seq = body.split(":")
        if chat in busy:
            overlaps.append(body)
        busy.add(chat)
        await asyncio.sleep(random.uniform(0, 0.01))  # a handler's database and network time
        handled[chat].append(int(seq))
        busy.discard(chat)

    workers = [
        InboxWorker(p.sessions, p.box, "telegram", handle, concurrency=4, lease=30)
        for p in processes
    ]
    for worker in workers:
        worker.start()
    try:
        seqs = iter(range(1, CHATS * EACH + 1))
        for _ in range(EACH // BURST):  # bursts of a chat's messages, each to any process
            for chat in random.sample(range(CHATS), CHATS):
                for seq in [next(seqs) for _ in range(BURST)]:
                    arrival = Arrival("telegram", f"k{seq}", f"c{chat}", f"c{chat}:{seq}", seq)
                    await random.choice(workers).accept([arrival])
        deadline = asyncio.get_running_loop().time() + 60
        while sum(map(len, handled.values())) < CHATS * EACH:
            assert asyncio.get_running_loop().time() < deadline, dict(handled)
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            await worker.stop()
        for process in processes:
            await process.close()
    assert overlaps == [] and len(handled) == CHATS
    for chat, order in handled.items():
        assert order == sorted(order) and len(order) == EACH, (chat, order)
