"""The service's figures for Prometheus (prometheus_client), one registry per running service.

The router, the outbox sender and the scheduler tell these what happened as it happens;
the queue's depth and the last walk of the trace chain are read from the database when
/metrics is scraped (bot/web/probes.py), so they are true across processes. A registry of
its own (not the library's global one) lets several services run in one process (tests).
"""

from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.router import Handled
from scheduler.events import JobEnded, JobStarted
from storage import chain, outbox
from storage.crypto import SecretBox

# Handling an update takes milliseconds; a slow one (a school's report) seconds.
UPDATE_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A job starts within milliseconds of its time; after a takeover or a restart, minutes late.
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


class ServiceMetrics:
    """Every figure /metrics shows, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process
        self._traffic()
        self._outbox()
        self._background()

    def _traffic(self) -> None:
        self.updates = Counter(
            "branchbot_updates",
            "Updates handled, by platform and outcome "
            "(handled, duplicate, refused, bad_input, failed)",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            "branchbot_update_seconds",
            "Time the router took over an update, by platform",
            ["platform"],
            buckets=UPDATE_BUCKETS,
            registry=self.registry,
        )
        self.replies = Counter(
            "branchbot_replies",
            "Answers the router gave straight back to users (sent by the adapter), by platform",
            ["platform"],
            registry=self.registry,
        )

    def _outbox(self) -> None:
        self.attempts = Counter(
            "branchbot_outbox_attempts",
            "Queued messages tried by this process's sender, by platform and outcome "
            "(sent, deferred, throttled: a 429, retry, blocked, failed: given up)",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.queue = Gauge(
            "branchbot_outbox_queue",
            "Outbox rows waiting (pending) or in flight (sending), read from the database",
            ["status"],
            registry=self.registry,
        )
        self.due = Gauge(
            "branchbot_outbox_due",
            "Pending outbox rows whose time has come (the backlog)",
            registry=self.registry,
        )
        self.oldest_due = Gauge(
            "branchbot_outbox_oldest_due_seconds",
            "How long the oldest due outbox row has waited (0: none)",
            registry=self.registry,
        )

    def _background(self) -> None:
        """The scheduler, the roles held and the database's own state."""
        self.job_lag = Histogram(
            "branchbot_scheduler_lag_seconds",
            "How late jobs started against their planned time, by job",
            ["job"],
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter(
            "branchbot_scheduler_runs",
            "Job runs by job and outcome (done, failed, missed)",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "branchbot_leader",
            "1 while this process holds the role (outbox sender, scheduler)",
            ["role"],
            registry=self.registry,
        )
        self.chain_walked = Gauge(
            "branchbot_chain_verified_timestamp_seconds",
            "When the last full walk of the trace chain began (nightly or `branchbot verify`; "
            "0: never)",
            registry=self.registry,
        )
        self.chain_ok = Gauge(
            "branchbot_chain_verified_ok",
            "1 if that walk found the chain whole",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "branchbot_database_up",
            "1 if the database answered this scrape's reads",
            registry=self.registry,
        )

    def handled(self, handled: Handled) -> None:
        """The router's hook (Router.on_handled)."""
        self.updates.labels(handled.platform, handled.outcome).inc()
        self.update_seconds.labels(handled.platform).observe(handled.seconds)
        self.replies.labels(handled.platform).inc(handled.replies)

    def attempted(self, platform: str, outcome: str) -> None:
        """The outbox sender's hook (OutboxSender.on_attempt)."""
        self.attempts.labels(platform, outcome).inc()

    def job(self, event: JobStarted | JobEnded) -> None:
        """The scheduler's watcher (scheduler/events.py)."""
        if isinstance(event, JobStarted):
            self.job_lag.labels(event.job).observe(event.late_seconds)
        else:
            self.job_runs.labels(event.job, event.outcome).inc()

    def role(self, role: str, holds: Callable[[], bool]) -> None:
        """Read, at every scrape, whether this process holds the role."""
        self.leader.labels(role).set_function(lambda: float(holds()))

    async def read_database(self, session: AsyncSession, box: SecretBox) -> None:
        """The figures kept in the database: the outbox queue and the last chain walk."""
        now = datetime.now(UTC)
        depth = await outbox.queue_depth(session, now)
        self.queue.labels("pending").set(depth.pending)
        self.queue.labels("sending").set(depth.sending)
        self.due.set(depth.due)
        waited = (now - depth.oldest_due).total_seconds() if depth.oldest_due else 0.0
        self.oldest_due.set(max(waited, 0.0))
        check = await chain.last_walk(session)
        self.chain_walked.set(check.walked_at.timestamp() if check is not None else 0)
        self.chain_ok.set(1 if check is not None and chain.walk_sound(check, box) else 0)
