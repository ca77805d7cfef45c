"""Web sign-in codes bound to the asking browser, several per person; sign-outs kept

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00

Open codes live ten minutes at most, so the old table is replaced rather than converted:
anyone midway through signing in asks for a new code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('web_login_codes')
    op.create_table('web_login_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('browser', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('wrong', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_web_login_codes_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_login_codes'))
    )
    op.create_index('ix_web_login_codes_member_browser', 'web_login_codes', ['member_id', 'browser'], unique=False)
    op.create_table('web_sign_outs',
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_web_sign_outs'))
    )


def downgrade() -> None:
    op.drop_table('web_sign_outs')
    op.drop_index('ix_web_login_codes_member_browser', table_name='web_login_codes')
    op.drop_table('web_login_codes')
    op.create_table('web_login_codes',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_web_login_codes_member_id_members')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_web_login_codes'))
    )
