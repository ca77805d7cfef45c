"""Secrets sealed apart in the outbox; leave reasons encrypted

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 09:00:00

Existing leave reasons are encrypted here with the SecretBox `branchbot init` hands over
(storage.schema.upgrade), or BRANCHBOT_SECRET_KEY when Alembic is run by hand; a database
with reasons to convert and no key stops with SecretKeyNeeded before anything changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from storage.crypto import SecretBox
from storage.schema import SecretKeyNeeded, migration_box

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEAVES = sa.table(
    'leave_requests',
    sa.column('id', sa.Integer()),
    sa.column('reason', sa.String(300)),
    sa.column('reason_enc', sa.LargeBinary()),
)


def _box_for(column: str) -> SecretBox | None:
    """The key, when rows have `column` to convert; SecretKeyNeeded if they do and none is
    given. None when there is nothing to convert."""
    count = op.get_bind().scalar(sa.select(sa.func.count()).select_from(LEAVES).where(
        LEAVES.c[column].is_not(None)))
    if not count:
        return None
    box = migration_box(context.config)
    if box is None:
        raise SecretKeyNeeded('leave reasons')
    return box


def upgrade() -> None:
    box = _box_for('reason')  # before any change: a refusal leaves the database as it was
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_enc', sa.LargeBinary(), nullable=True))
    if box is not None:
        bind = op.get_bind()
        rows = bind.execute(sa.select(LEAVES.c.id, LEAVES.c.reason)).all()
        bind.execute(
            LEAVES.update().where(LEAVES.c.id == sa.bindparam('leave_id'))
            .values(reason_enc=sa.bindparam('sealed')),
            [{'leave_id': i, 'sealed': box.encrypt(reason or '-')} for i, reason in rows],
        )
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.alter_column('reason_enc', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('reason')


def downgrade() -> None:
    box = _box_for('reason_enc')
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=300), nullable=True))
    if box is not None:
        bind = op.get_bind()
        rows = bind.execute(sa.select(LEAVES.c.id, LEAVES.c.reason_enc)).all()
        bind.execute(
            LEAVES.update().where(LEAVES.c.id == sa.bindparam('leave_id'))
            .values(reason=sa.bindparam('plain')),
            [{'leave_id': i, 'plain': box.decrypt(sealed) or '-'} for i, sealed in rows],
        )
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.alter_column('reason', existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_column('reason_enc')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('sealed')
