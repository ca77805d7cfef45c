"""Branch group chats (支部群): bound groups, the bot's live posts there, roll-calls (接龙),
and where a notice was acknowledged (notice_recipients.acked_via)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "branch_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("bound_by", sa.Integer(), nullable=True),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
        sa.Column("unbound_at", sa.DateTime(), nullable=True),
        sa.Column("unbound_reason", sa.String(length=32), nullable=True),
        sa.Column("highlights", sa.Boolean(), nullable=False),
        sa.Column("robot_url_enc", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_branch_groups_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_groups")),
        sa.UniqueConstraint("platform", "chat_id", name=op.f("uq_branch_groups_platform")),
    )
    op.create_index(op.f("ix_branch_groups_branch_id"), "branch_groups", ["branch_id"])
    op.create_table(
        "group_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("outbox_key", sa.String(length=160), nullable=False),
        sa.Column("edits", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["branch_groups.id"], name=op.f("fk_group_posts_group_id_branch_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_posts")),
        sa.UniqueConstraint("outbox_key", name=op.f("uq_group_posts_outbox_key")),
    )
    op.create_index(op.f("ix_group_posts_group_id"), "group_posts", ["group_id"])
    op.create_index(op.f("ix_group_posts_ref"), "group_posts", ["ref"])
    op.create_table(
        "roll_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("attached_to", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["branch_groups.id"], name=op.f("fk_roll_calls_group_id_branch_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_calls")),
    )
    op.create_index(op.f("ix_roll_calls_group_id"), "roll_calls", ["group_id"])
    op.create_table(
        "roll_call_entries",
        sa.Column("roll_call_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["roll_call_id"],
            ["roll_calls.id"],
            name=op.f("fk_roll_call_entries_roll_call_id_roll_calls"),
        ),
        sa.PrimaryKeyConstraint("roll_call_id", "member_id", name=op.f("pk_roll_call_entries")),
    )
    # A plain column, not a batch: copying a table others point at breaks their foreign keys
    # on SQLite.
    op.add_column("notice_recipients", sa.Column("acked_via", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("notice_recipients", "acked_via")
    op.drop_table("roll_call_entries")
    op.drop_index(op.f("ix_roll_calls_group_id"), table_name="roll_calls")
    op.drop_table("roll_calls")
    op.drop_index(op.f("ix_group_posts_ref"), table_name="group_posts")
    op.drop_index(op.f("ix_group_posts_group_id"), table_name="group_posts")
    op.drop_table("group_posts")
    op.drop_index(op.f("ix_branch_groups_branch_id"), table_name="branch_groups")
    op.drop_table("branch_groups")
