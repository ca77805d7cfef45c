"""Files at rest are the owner's alone: the data directory, the SQLite files, exports.

The database holds codes, hashes and personal data; on a shared machine a world-readable
file is a leak (a local account once read a code from the WAL and signed in as an admin).
So the process umask is 077 from start-up, a directory the service creates is 0700, and the
files it opens or writes are set 0600 even when they existed with wider modes before.
"""

import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
# What SQLite keeps beside a database in WAL mode (and in rollback mode).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def owner_only_umask() -> int:
    """Make everything the process creates from now on owner-only; returns the old umask.
    Called first thing by the CLI (every command, the service included)."""
    return os.umask(OWNER_ONLY_UMASK)


def private_dir(path: Path) -> Path:
    """Create the directory (and missing parents) as 0700. An existing directory keeps its
    mode: it may be a shared one the operator chose (a /tmp-like parent must not change);
    the files in it are made private one by one."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered through the umask
    return path


def private_file(path: Path) -> None:
    """Set an existing file to 0600 (nothing happens when it does not exist)."""
    try:
        os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        return


def open_private(path: Path) -> int:
    """A file descriptor for writing `path` from scratch, owner-only (wrap it in os.fdopen)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its old mode through os.open
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, content: bytes) -> None:
    """Write a file (an export) readable by its owner only, replacing what was there."""
    with os.fdopen(open_private(path), "wb") as fh:
        fh.write(content)


def prepare_sqlite_file(database: str) -> None:
    """Before SQLite opens `database`: its directory exists (created 0700), the file exists
    as 0600 and any WAL, shared-memory or journal file beside it is 0600. SQLite creates
    its WAL and -shm files with the database file's own mode, so they stay private."""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        private_file(path.with_name(path.name + suffix))
