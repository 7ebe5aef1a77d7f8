"""ledger, payouts and the claim workflow

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:40:00.000000

The ledger is append-only: the database itself refuses UPDATE and DELETE on
ledger_entries (a trigger on PostgreSQL and on SQLite), so no code path can rewrite it.
Data: a claim already open counts against the month (station time) it came in.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY = "ledger_entries is append-only: write a correction entry instead"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject_kind', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=20), nullable=True),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('by', sa.String(length=50), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('corrects', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['corrects'], ['ledger_entries.id'], name=op.f('fk_ledger_entries_corrects_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_period'), ['period'], unique=False)

    op.create_table('payouts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_kind', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('recipient_name', sa.String(length=100), nullable=False),
    sa.Column('recipient_phone', sa.String(length=20), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('by', sa.String(length=50), nullable=False),
    sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('export_batch', sa.String(length=40), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_payouts_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('subject_kind', 'subject_id', name='uq_payouts_subject')
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_ordered_at'), ['ordered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_status'), ['status'], unique=False)

    op.create_table('claim_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('claim_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=50), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=False),
    sa.Column('to_status', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['hazard_claims.id'], name=op.f('fk_claim_history_claim_id_hazard_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_history'))
    )
    with op.batch_alter_table('claim_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_history_claim_id'), ['claim_id'], unique=False)

    op.create_table('claim_transition_keys',
    sa.Column('claim_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=50), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['hazard_claims.id'], name=op.f('fk_claim_transition_keys_claim_id_hazard_claims')),
    sa.PrimaryKeyConstraint('claim_id', 'staff_id', 'key', name=op.f('pk_claim_transition_keys'))
    )
    op.create_table('reporter_months',
    sa.Column('reporter_phone', sa.String(length=20), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('envelopes', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('reporter_phone', 'period', name=op.f('pk_reporter_months'))
    )
    op.create_table('envelope_months',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('reserved_fen', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('period', name=op.f('pk_envelope_months'))
    )
    with op.batch_alter_table('hazard_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('period', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('verified_severity', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('amount_fen', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('over_limits', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('duplicate_of', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('payout_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_hazard_claims_duplicate_of_hazard_claims'), 'hazard_claims', ['duplicate_of'], ['id'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE hazard_claims SET period = "
            "to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
        )
    else:
        op.execute("UPDATE hazard_claims SET period = strftime('%Y-%m', created_at, '+8 hours')")
    with op.batch_alter_table('hazard_claims', schema=None) as batch_op:
        batch_op.alter_column('period', existing_type=sa.String(length=7), nullable=False)
        batch_op.create_index(batch_op.f('ix_hazard_claims_period'), ['period'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_entries_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries "
            "FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_entries_no_{verb.lower()} BEFORE {verb} ON ledger_entries "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_entries_no_truncate ON ledger_entries")
        op.execute("DROP TRIGGER ledger_entries_append_only ON ledger_entries")
        op.execute("DROP FUNCTION ledger_entries_append_only()")
    else:
        op.execute("DROP TRIGGER ledger_entries_no_update")
        op.execute("DROP TRIGGER ledger_entries_no_delete")
    with op.batch_alter_table('hazard_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_claims_period'))
        batch_op.drop_constraint(batch_op.f('fk_hazard_claims_duplicate_of_hazard_claims'), type_='foreignkey')
        for column in ('payout_id', 'duplicate_of', 'over_limits', 'amount_fen', 'verified_severity', 'period', 'reporter_name'):
            batch_op.drop_column(column)
    op.drop_table('envelope_months')
    op.drop_table('reporter_months')
    op.drop_table('claim_transition_keys')
    with op.batch_alter_table('claim_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_history_claim_id'))
    op.drop_table('claim_history')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_status'))
        batch_op.drop_index(batch_op.f('ix_payouts_ordered_at'))
    op.drop_table('payouts')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_period'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_at'))
    op.drop_table('ledger_entries')
