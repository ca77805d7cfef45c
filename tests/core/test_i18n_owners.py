"""Every message key lives beside the code that uses it, so words cannot drift from their feature.

A key belongs in the locales/ of a package that uses it (a feature, handlers/common, the web page,
the command line, a channel); words shared by several packages go in handlers/core's. A key in
the core that only one other package uses belongs in that package instead.
"""

from pathlib import Path

from handlers.core.i18n import DEFAULT_LANG, catalog_files, read_catalog_file
from tests.support.message_keys import ROOT, key_users, room

CORE = "handlers/core"
# Keys whose users the scan cannot see, each with where it is used.
UNSEEN = {
    "leave.approved_notice": "handlers/meetings/leave.py: f'{kind}_notice'",
    "leave.rejected_notice": "handlers/meetings/leave.py: f'{kind}_notice'",
    "trace.notice.delivered": "written by storage/outbox.py: f'{row.kind}.delivered'",
    "trace.notice.failed": "written by storage/outbox.py: f'{row.kind}.failed'",
    "trace.outbox.failed": "written by storage/outbox.py",
    "trace.key.rotated": "written by storage/rekey.py for `branchbot rotate-key`",
    "trace.member.nudged": "the monthly nudge wrote these until 2026-12 (old databases)",
}


def _defined() -> list[tuple[str, str]]:
    """(package, key) for every key of the default catalog, by the package whose file holds it."""
    return [
        (part.parent.parent.relative_to(ROOT).as_posix(), key)
        for part in catalog_files(DEFAULT_LANG)
        for key in read_catalog_file(part)
    ]


DEFINED = _defined()


def _misplaced(home: str, key: str) -> str | None:
    """Why a key does not belong where it is defined, or None if it does."""
    users = key_users(key)
    if not users:
        return None if key in UNSEEN else "used nowhere the scan can see"
    rooms = {room(user) for user in users}
    if home == CORE:
        if len(rooms) == 1 and rooms != {CORE}:
            return f"only {rooms.pop()} uses it: move it there"
        return None
    if any(Path(user).is_relative_to(home) for user in users):
        return None
    return f"{home} does not use it; used by {sorted(rooms)}"


def test_the_scan_sees_the_packages() -> None:
    homes = {home for home, _ in DEFINED}
    assert {CORE, "handlers/meetings", "bot/web", "bot/channels/wecom"} <= homes, homes
    assert _misplaced("handlers/meetings", "bot.ok") is not None
    assert _misplaced(CORE, "meeting.created") is not None
    assert _misplaced(CORE, "error.internal") is None


def test_every_key_lives_beside_its_users() -> None:
    wrong = [
        f"  {key} in {home}/locales: {why}"
        for home, key in DEFINED
        if (why := _misplaced(home, key))
    ]
    assert not wrong, "message keys away from the code using them:\n" + "\n".join(wrong)


def test_unseen_keys_are_still_defined() -> None:
    keys = {key for _, key in DEFINED}
    assert not set(UNSEEN) - keys, f"listed in UNSEEN but gone: {sorted(set(UNSEEN) - keys)}"
