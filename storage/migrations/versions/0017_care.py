"""Care for each member (党员关怀): excusals from organisational life recorded by the
secretary, the secretary's care notes, and the six-month rule's notices once per threshold

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_excusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_care_excusals_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_excusals")),
    )
    op.create_index(op.f("ix_care_excusals_member_id"), "care_excusals", ["member_id"])
    op.create_table(
        "care_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_care_notes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_notes")),
    )
    op.create_index(op.f("ix_care_notes_member_id"), "care_notes", ["member_id"])
    op.create_table(
        "care_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("run_since", sa.Date(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("told_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_care_notices_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_notices")),
        sa.UniqueConstraint(
            "member_id",
            "measure",
            "audience",
            "run_since",
            "threshold",
            name=op.f("uq_care_notices_member_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("care_notices")
    op.drop_index(op.f("ix_care_notes_member_id"), table_name="care_notes")
    op.drop_table("care_notes")
    op.drop_index(op.f("ix_care_excusals_member_id"), table_name="care_excusals")
    op.drop_table("care_excusals")
