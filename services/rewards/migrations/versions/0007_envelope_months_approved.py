"""a month's envelopes approved, paid or not: approved_fen

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        'envelope_months',
        sa.Column('approved_fen', sa.Integer(), server_default='0', nullable=False),
    )
    # What the month approved so far: what waits for payment plus the claims' payouts.
    op.execute(
        "UPDATE envelope_months SET approved_fen = reserved_fen + COALESCE(("
        "SELECT SUM(p.amount_fen) FROM payouts p WHERE p.subject_kind = 'claim'"
        " AND p.period = envelope_months.period), 0)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('envelope_months') as batch:
        batch.drop_column('approved_fen')
