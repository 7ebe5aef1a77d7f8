"""the second session's limit after a failed one; follow-up reminders told once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_session_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('follow_up_reminded_for', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('follow_up_reminded_for')
        batch_op.drop_column('second_session_by')
