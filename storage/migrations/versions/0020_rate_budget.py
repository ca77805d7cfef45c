"""The platforms' sending budgets shared by every process on the database: send slots per
platform and the last sends to each group chat

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-14 09:00:00

Both tables hold only the last second or minute of sending (storage/rates.py); nothing to
carry over either way. On SQLite they stay empty (one process keeps its budget in memory).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_slots',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', name=op.f('pk_rate_slots'))
    )
    op.create_table('rate_groups',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('sent', sa.JSON().with_variant(postgresql.ARRAY(sa.DateTime(timezone=True)), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'chat_id', name=op.f('pk_rate_groups'))
    )


def downgrade() -> None:
    op.drop_table('rate_groups')
    op.drop_table('rate_slots')
