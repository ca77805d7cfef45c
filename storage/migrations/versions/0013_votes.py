"""Votes (表决) at meetings: the vote, its electors (who may vote and who did) and its
encrypted, shuffled ballot box

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:02:17.560179
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('entitled', sa.Integer(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branches.id'], name=op.f('fk_votes_branch_id_branches')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_votes_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['subject_id'], ['members.id'], name=op.f('fk_votes_subject_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes'))
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_votes_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_votes_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_votes_subject_id'), ['subject_id'], unique=False)

    op.create_table('vote_boxes',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('ballots_enc', sa.LargeBinary(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_boxes_vote_id_votes')),
    sa.PrimaryKeyConstraint('vote_id', name=op.f('pk_vote_boxes'))
    )
    op.create_table('vote_electors',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('voted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_vote_electors_member_id_members')),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_electors_vote_id_votes')),
    sa.PrimaryKeyConstraint('vote_id', 'member_id', name=op.f('pk_vote_electors'))
    )


def downgrade() -> None:
    op.drop_table('vote_electors')
    op.drop_table('vote_boxes')
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_subject_id'))
        batch_op.drop_index(batch_op.f('ix_votes_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_votes_branch_id'))

    op.drop_table('votes')
