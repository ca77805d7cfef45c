"""Crash points for the crash tests: a process whose BRANCHBOT_TEST_CRASH_AT names a point
kills itself there with SIGKILL, as a machine lost at that instant would. Only tests set it."""

import os
import signal

from aiohttp import web

CRASH_AT = "BRANCHBOT_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


async def answer(request: web.Request, response: web.Response, point: str) -> web.Response:
    """The response, sent in full first when the process is to die right after it."""
    if os.environ.get(CRASH_AT) == point:
        await response.prepare(request)
        await response.write_eof()
        crash_point(point)
    return response
