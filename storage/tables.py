"""Every table the migrations manage, gathered in one metadata (the models live in several
modules): for Alembic's comparisons and for the backup, which must miss none of them."""

from sqlalchemy import MetaData, Table

from storage import (  # noqa: F401  (their tables join Base.metadata)
    group_models,
    inbox_models,
    minutes_models,
    pipeline_models,
    roster_models,
    survey_models,
    vote_models,
)
from storage.models import Base

METADATA: MetaData = Base.metadata


def in_dependency_order() -> list[Table]:
    """The tables with each one after those its foreign keys point to: the order to insert
    them in (and, reversed, to empty them)."""
    return list(METADATA.sorted_tables)
