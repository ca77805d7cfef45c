"""Stored jobs an earlier version left behind that this one cannot load.

APScheduler stores a job's function by its module path. After an upgrade that moved the
function, the job store itself drops such a job only when it falls due, logging it and
running nothing: a meeting's reminder would be lost without a word. So on start, before the
scheduler reads the store, every job is loaded as the store loads it; those that fail are
removed here, and the caller plans them again from the database (the standing jobs are
re-registered on every start anyway; the meetings' jobs are re-planned from the meetings
table).
"""

import logging
import pickle

from apscheduler.job import Job
from sqlalchemy import Engine, bindparam, inspect, text

log = logging.getLogger(__name__)


def drop_unloadable(store: Engine, table: str) -> list[str]:
    """Remove the jobs this version cannot load; returns their ids."""
    if not inspect(store).has_table(table):
        return []  # a new store: the scheduler creates the table on start
    with store.begin() as conn:
        rows = conn.execute(text(f"SELECT id, job_state FROM {table}")).all()
        broken = [row.id for row in rows if not _loads(row.job_state)]
        if broken:
            delete = text(f"DELETE FROM {table} WHERE id IN :ids")
            conn.execute(delete.bindparams(bindparam("ids", expanding=True)), {"ids": broken})
    for job_id in broken:
        log.warning("stored job %s no longer loads (moved code?): removed to plan it again", job_id)
    return broken


def _loads(state: bytes) -> bool:
    """Whether APScheduler can rebuild the job: the same steps as its SQLAlchemy store."""
    try:
        job = Job.__new__(Job)
        job.__setstate__(pickle.loads(state))
    except Exception:  # a module or name gone, a class changed: any of them loses the job
        return False
    return True
