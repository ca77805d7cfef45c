"""Roster moves and the member archive: transfers and leavings, archived branches, the
members' grade, class, further personal fields and leaving, archive entries and files

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00

Only new tables and new nullable columns: existing members, branches and memberships are
unchanged (every member stays active, every branch unarchived).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEMBER_COLUMNS = (
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('class_name', sa.String(length=50), nullable=True),
    sa.Column('profile_enc', sa.LargeBinary(), nullable=True),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('left_reason', sa.String(length=16), nullable=True),
    sa.Column('access_until', sa.Date(), nullable=True),
)


def upgrade() -> None:
    op.create_table('member_moves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_branch_id', sa.Integer(), nullable=True),
    sa.Column('to_branch_id', sa.Integer(), nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('letter_no', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('basis', sa.String(length=300), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('batch', sa.String(length=32), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_moves_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_moves'))
    )
    op.create_index(op.f('ix_member_moves_member_id'), 'member_moves', ['member_id'], unique=False)
    op.create_index('ix_member_moves_to_status', 'member_moves', ['to_branch_id', 'status'], unique=False)
    op.create_table('archive_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('body_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_archive_entries_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_entries'))
    )
    op.create_index(op.f('ix_archive_entries_member_id'), 'archive_entries', ['member_id'], unique=False)
    op.create_table('archive_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_enc', sa.LargeBinary(), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['archive_entries.id'], name=op.f('fk_archive_files_entry_id_archive_entries')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_archive_files_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_files'))
    )
    op.create_index(op.f('ix_archive_files_member_id'), 'archive_files', ['member_id'], unique=False)
    # Plain columns, not batches: copying members or branches, which other tables point at,
    # breaks their foreign keys on SQLite.
    op.add_column('branches', sa.Column('archived_at', sa.DateTime(), nullable=True))
    op.add_column('branches', sa.Column('merged_into_id', sa.Integer(), nullable=True))
    for column in _MEMBER_COLUMNS:
        op.add_column('members', column)
    op.add_column('memberships', sa.Column('end_reason', sa.String(length=32), nullable=True))


def downgrade() -> None:
    # SQLite drops a plain column in place since 3.35.
    op.drop_column('memberships', 'end_reason')
    for column in reversed(_MEMBER_COLUMNS):
        op.drop_column('members', column.name)
    op.drop_column('branches', 'merged_into_id')
    op.drop_column('branches', 'archived_at')
    op.drop_index(op.f('ix_archive_files_member_id'), table_name='archive_files')
    op.drop_table('archive_files')
    op.drop_index(op.f('ix_archive_entries_member_id'), table_name='archive_entries')
    op.drop_table('archive_entries')
    op.drop_index('ix_member_moves_to_status', table_name='member_moves')
    op.drop_index(op.f('ix_member_moves_member_id'), table_name='member_moves')
    op.drop_table('member_moves')
