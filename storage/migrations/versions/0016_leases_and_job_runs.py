"""Leases with a heartbeat for the leading process's roles, and the record of meetings' jobs
run (job_runs); every scheduled meeting is planned again so its jobs get their records

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('backend_pid', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('role', name=op.f('pk_leases'))
    )
    op.create_table('job_runs',
    sa.Column('job_id', sa.String(length=80), nullable=False),
    sa.Column('planned', sa.BigInteger(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_job_runs_meeting_id_meetings')),
    sa.PrimaryKeyConstraint('job_id', 'planned', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_due', ['done_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_meeting_id'), ['meeting_id'], unique=False)

    # The jobs already stored still run (a job without its record claims one when it runs);
    # planning again gives those still to come their records, so a crash cannot lose them.
    op.execute("UPDATE meetings SET jobs_synced = false WHERE status = 'scheduled'")


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_meeting_id'))
        batch_op.drop_index('ix_job_runs_due')

    op.drop_table('job_runs')
    op.drop_table('leases')
