"""TCP keepalives on every PostgreSQL connection, at both ends.

A peer that vanished without closing its connection (a machine lost, a network cut) is then
noticed in about IDLE + INTERVAL x COUNT seconds instead of the system default of over two
hours: the server ends the session of a client cut off (its locks and open transaction go with
it), and a process cut off from the server gets an error instead of waiting on a dead socket.
A frozen process is not noticed this way, since its kernel answers the probes: the leases
(storage/leader.py) take care of that.
"""

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)
IDLE = 10  # seconds of silence before the first probe
INTERVAL = 5  # seconds between probes
COUNT = 3  # probes unanswered before the connection is given up
# Data sent and not acknowledged for this long also ends the connection (milliseconds).
USER_TIMEOUT_MS = (IDLE + INTERVAL * COUNT) * 1000


def server_settings() -> dict[str, str]:
    """The server's end, as session settings (asyncpg's `server_settings`)."""
    return {
        "tcp_keepalives_idle": str(IDLE),
        "tcp_keepalives_interval": str(INTERVAL),
        "tcp_keepalives_count": str(COUNT),
    }


def libpq_args() -> dict[str, Any]:
    """Both ends for a libpq client (psycopg: APScheduler's job store)."""
    options = " ".join(f"-c {name}={value}" for name, value in server_settings().items())
    return {
        "keepalives": 1,
        "keepalives_idle": IDLE,
        "keepalives_interval": INTERVAL,
        "keepalives_count": COUNT,
        "tcp_user_timeout": USER_TIMEOUT_MS,
        "options": options,
    }


def set_on_socket(sock: Any) -> bool:
    """Our end of one TCP connection; False for a Unix socket (nothing to lose there)."""
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", IDLE),
        ("TCP_KEEPINTVL", INTERVAL),
        ("TCP_KEEPCNT", COUNT),
        ("TCP_USER_TIMEOUT", USER_TIMEOUT_MS),
    ):
        if hasattr(socket, name):  # Linux has them all; macOS lacks some
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    return True


def on_asyncpg_connect(dbapi_connection: Any, _record: Any) -> None:
    """Our end of a new asyncpg connection (a SQLAlchemy "connect" listener). asyncpg has no
    keepalive option of its own (MagicStack/asyncpg#606); its maintainers point to the
    transport's socket."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    transport = getattr(driver, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        log.warning("no socket found on an asyncpg connection: client keepalives not set")
        return
    set_on_socket(sock)
