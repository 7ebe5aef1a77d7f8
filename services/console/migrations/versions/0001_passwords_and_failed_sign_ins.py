"""Staff passwords and failed sign-ins.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_passwords",
        sa.Column("staff_id", sa.String(length=50), nullable=False),
        sa.Column("hash", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_passwords")),
    )
    op.create_table(
        "failed_sign_ins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_sign_ins")),
    )
    op.create_index("ix_failed_sign_ins_key_at", "failed_sign_ins", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_failed_sign_ins_key_at", table_name="failed_sign_ins")
    op.drop_table("failed_sign_ins")
    op.drop_table("staff_passwords")
