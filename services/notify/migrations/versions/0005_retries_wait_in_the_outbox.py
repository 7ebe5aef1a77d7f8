"""a consumer's retry waits in its own outbox: due_at and tries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:25:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('outbox', sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('outbox', sa.Column('tries', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('tries')
        batch.drop_column('due_at')
