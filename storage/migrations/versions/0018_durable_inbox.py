"""The durable inbox: updates accepted from a platform and not yet handled; the webhook
last registered

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10 09:00:00

Rows live from the moment a webhook post (or a getUpdates batch) is accepted until the
update is handled; nothing to carry over, and nothing lost going down but updates that a
process would have handled after the downgrade anyway (stop the service first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('update_key', sa.String(length=64), nullable=False),
    sa.Column('chat_key', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('platform', 'update_key', name=op.f('uq_inbox_platform'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_chat_order', ['platform', 'chat_key', 'seq', 'id'], unique=False)

    op.create_table('webhook_state',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('platform', name=op.f('pk_webhook_state'))
    )


def downgrade() -> None:
    op.drop_table('webhook_state')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_chat_order')

    op.drop_table('inbox')
