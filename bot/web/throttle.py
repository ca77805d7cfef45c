"""Limits on what anonymous visitors of the web sign-in may try, counted in memory per
requester (address and browser) before anything costs a database write.

Each service process counts its own requesters: behind a load balancer the limits are per
process, which still bounds a guesser (a code takes five wrong guesses at most, and a person
gets five codes an hour, counted in the database).
"""

import ipaddress
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

# Keys remembered at most; past it the ones idle longest are forgotten (a flood of new
# addresses must not grow the process without bound).
MAX_KEYS = 20_000


@dataclass
class Window:
    """At most `limit` events per key within `span`."""

    limit: int
    span: timedelta
    _events: dict[str, deque[datetime]] = field(default_factory=dict)

    def blocked_for(self, keys: Iterable[str], now: datetime) -> timedelta | None:
        """How long until any of these keys may act again; None: they may now."""
        waits = []
        for key in keys:
            events = self._fresh(key, now)
            if events is not None and len(events) >= self.limit:
                waits.append(events[0] + self.span - now)
        return max(waits) if waits else None

    def count(self, keys: Iterable[str], now: datetime) -> None:
        for key in keys:
            events = self._fresh(key, now)
            if events is None:
                if len(self._events) >= MAX_KEYS:
                    self._forget_oldest()
                events = self._events[key] = deque()
            events.append(now)

    def _fresh(self, key: str, now: datetime) -> deque[datetime] | None:
        events = self._events.get(key)
        while events and events[0] <= now - self.span:
            events.popleft()
        return events

    def _forget_oldest(self) -> None:
        idle = sorted(self._events, key=lambda k: self._events[k][-1] if self._events[k] else 0)
        for key in idle[: max(len(idle) // 10, 1)]:
            del self._events[key]


@dataclass
class SignInLimits:
    """Code requests and wrong codes, per address and per browser, within an hour."""

    requests: Window = field(default_factory=lambda: Window(10, timedelta(hours=1)))
    wrong_codes: Window = field(default_factory=lambda: Window(10, timedelta(hours=1)))


def requester(request: web.Request, trusted: Iterable[str]) -> str:
    """The requesting address: the connecting one, or, from a trusted reverse proxy, the
    nearest address in X-Forwarded-For that is not itself a trusted proxy."""
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]
    remote = request.remote or "-"
    if not networks or not _within(remote, networks):
        return remote
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not _within(address, networks):
            return address
    return remote


def _within(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
