"""agreements, personal fields erased after retention, new-case digests

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:40:00.000000

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
    op.create_table('agreements',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('parties', sa.JSON(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('perform_by', sa.Date(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirm_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirm_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirm_reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('perform_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('perform_reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agreements_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_confirm_reminder_at'), ['confirm_reminder_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_perform_reminder_at'), ['perform_reminder_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_digest_at', sa.DateTime(timezone=True), nullable=True))
    # Cases opened before the digest were each announced by their own SMS.
    op.execute("UPDATE cases SET announced_at = created_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_perform_reminder_at'))
        batch_op.drop_index(batch_op.f('ix_agreements_confirm_reminder_at'))
    op.drop_table('agreements')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('announced_at')
        batch_op.drop_column('personal_erased_at')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('case_digest_at')
