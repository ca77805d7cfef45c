"""The feedback box (意见箱): items named or anonymous, the committee's answers, each branch's
sealed box of anonymous items not yet opened; the decisions a branch made public (党务公开)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_boxes",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("items_enc", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_feedback_boxes_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_feedback_boxes")),
    )
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_feedback_items_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["members.id"], name=op.f("fk_feedback_items_sender_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
        sa.UniqueConstraint("receipt", name=op.f("uq_feedback_items_receipt")),
    )
    op.create_index(op.f("ix_feedback_items_branch_id"), "feedback_items", ["branch_id"])
    op.create_index(op.f("ix_feedback_items_sender_id"), "feedback_items", ["sender_id"])
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_answers_item_id_feedback_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_answers")),
    )
    op.create_index(op.f("ix_feedback_answers_item_id"), "feedback_answers", ["item_id"])
    op.create_table(
        "public_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_public_decisions_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_public_decisions_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_decisions")),
    )
    op.create_index(op.f("ix_public_decisions_branch_id"), "public_decisions", ["branch_id"])
    op.create_index(op.f("ix_public_decisions_meeting_id"), "public_decisions", ["meeting_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_public_decisions_meeting_id"), table_name="public_decisions")
    op.drop_index(op.f("ix_public_decisions_branch_id"), table_name="public_decisions")
    op.drop_table("public_decisions")
    op.drop_index(op.f("ix_feedback_answers_item_id"), table_name="feedback_answers")
    op.drop_table("feedback_answers")
    op.drop_index(op.f("ix_feedback_items_sender_id"), table_name="feedback_items")
    op.drop_index(op.f("ix_feedback_items_branch_id"), table_name="feedback_items")
    op.drop_table("feedback_items")
    op.drop_table("feedback_boxes")
