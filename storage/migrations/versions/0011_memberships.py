"""Memberships with dates: which branch each member belonged to, from when until when

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00

Backfilled with one open row per member who has a branch, since the member was created;
members.branch_id stays the current branch.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('until', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_memberships_branch_id_branches')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_memberships_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships'))
    )
    op.create_index('ix_memberships_branch_since', 'memberships', ['branch_id', 'since'], unique=False)
    op.create_index('ix_memberships_member_since', 'memberships', ['member_id', 'since'], unique=False)
    op.execute(
        "INSERT INTO memberships (member_id, branch_id, since, until, reason)"
        " SELECT id, branch_id, created_at, NULL, 'backfilled' FROM members"
        " WHERE branch_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index('ix_memberships_member_since', table_name='memberships')
    op.drop_index('ix_memberships_branch_since', table_name='memberships')
    op.drop_table('memberships')
