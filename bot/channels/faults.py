"""Crash points for the crash tests: a process whose BRANCHBOT_TEST_CRASH_AT names a point
kills itself there with SIGKILL, as a machine lost at that instant would; one whose
BRANCHBOT_TEST_FREEZE_AT names it stops itself there with SIGSTOP, as a machine cut off or
frozen would, until sent SIGCONT. Only tests set them."""

import os
import signal

from aiohttp import web

CRASH_AT = "BRANCHBOT_TEST_CRASH_AT"
FREEZE_AT = "BRANCHBOT_TEST_FREEZE_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FREEZE_AT) == name:
        os.kill(os.getpid(), signal.SIGSTOP)


async def answer(request: web.Request, response: web.Response, point: str) -> web.Response:
    """The response, sent in full first when the process is to stop right after it."""
    if point in (os.environ.get(CRASH_AT), os.environ.get(FREEZE_AT)):
        await response.prepare(request)
        await response.write_eof()
        crash_point(point)
    return response
