"""Each member's last-used chat app, written on a switch, for DELIVER_TO=last

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00

Filled from the account seen last (what reach ordered by until now), so members do not each
pay a write on their first message after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LATEST = (
    "FROM platform_accounts a WHERE a.member_id = members.id AND a.chat_id IS NOT NULL"
    " AND a.platform <> 'console' AND a.last_seen_at IS NOT NULL"
)


def upgrade() -> None:
    op.add_column('members', sa.Column('last_platform', sa.String(length=16), nullable=True))
    op.add_column('members', sa.Column('last_platform_at', sa.DateTime(), nullable=True))
    op.execute(
        f"UPDATE members SET last_platform = (SELECT a.platform {_LATEST}"
        " ORDER BY a.last_seen_at DESC, a.id DESC LIMIT 1),"
        f" last_platform_at = (SELECT max(a.last_seen_at) {_LATEST})"
    )


def downgrade() -> None:
    # Not a batch: copying members, which other tables point at, breaks their foreign keys;
    # SQLite drops a plain column in place since 3.35.
    op.drop_column('members', 'last_platform_at')
    op.drop_column('members', 'last_platform')
