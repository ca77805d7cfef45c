"""Every table the migrations manage, gathered in one metadata (the models live in several
modules): for Alembic's comparisons and for the backup, which must miss none of them."""

from sqlalchemy import MetaData, Table

from storage import (  # noqa: F401  (their tables join Base.metadata)
    care_models,
    feedback_models,
    group_models,
    inbox_models,
    minutes_models,
    ops_models,
    pipeline_models,
    roster_models,
    survey_models,
    vote_models,
)
from storage.models import Base

METADATA: MetaData = Base.metadata


# Who leads which role now (storage/leader.py) and the sending budget's last seconds
# (storage/rates.py): the running processes' business, not the branch's data; a restored copy
# would name holders that are gone, so backups leave them out.
RUNTIME = frozenset({"leases", "rate_slots", "rate_groups"})


def in_dependency_order() -> list[Table]:
    """The tables of the branch's data with each one after those its foreign keys point to:
    the order to insert them in (and, reversed, to empty them)."""
    return [t for t in METADATA.sorted_tables if t.name not in RUNTIME]
