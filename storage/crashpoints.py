"""Named crash points, for the tests that kill a process at a chosen step of its work.

A test starts a service process with BRANCHBOT_CRASH_AT=<point>[@<subject prefix>]; when the
process reaches that point (for a subject starting with the prefix, e.g. a job id), it kills
itself with SIGKILL, as a lost machine would stop: no clean-up, nothing flushed. Nothing else
sets the variable; unset, a crash point is one look-up in the environment.
"""

import os
import signal

VARIABLE = "BRANCHBOT_CRASH_AT"


def crash_point(point: str, subject: str = "") -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, prefix = wanted.partition("@")
    if name == point and subject.startswith(prefix):
        os.kill(os.getpid(), signal.SIGKILL)
