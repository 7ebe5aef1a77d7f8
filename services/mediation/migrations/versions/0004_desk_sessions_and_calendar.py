"""desk sessions and the loaded calendar dates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:15:00.000000

The desks' rows stay as they are (a batch copy on SQLite keeps them); only checks that
their hours are usable are added, after mending rows that would break them.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    desks = sa.table('desks', sa.column('session_minutes', sa.Integer), sa.column('parallel', sa.Integer))
    # Data: a desk row that could not pass the new checks is mended, not dropped.
    op.execute(desks.update().where(desks.c.session_minutes < 1).values(session_minutes=60))
    op.execute(desks.update().where(desks.c.parallel < 1).values(parallel=1))
    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.create_check_constraint('session_minutes_positive', 'session_minutes > 0')
        batch_op.create_check_constraint('parallel_positive', 'parallel > 0')

    op.create_table('calendar_days',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('date', name=op.f('pk_calendar_days'))
    )
    op.create_table('desk_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('desk_code', sa.String(length=50), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_desk_sessions_case_id_cases')),
    sa.ForeignKeyConstraint(['desk_code'], ['desks.code'], name=op.f('fk_desk_sessions_desk_code_desks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_sessions'))
    )
    with op.batch_alter_table('desk_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_sessions_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_desk_sessions_desk_code_starts_at', ['desk_code', 'starts_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('desk_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_desk_sessions_desk_code_starts_at')
        batch_op.drop_index(batch_op.f('ix_desk_sessions_case_id'))

    op.drop_table('desk_sessions')
    op.drop_table('calendar_days')
    with op.batch_alter_table('desks', schema=None) as batch_op:
        batch_op.drop_constraint('parallel_positive', type_='check')
        batch_op.drop_constraint('session_minutes_positive', type_='check')
