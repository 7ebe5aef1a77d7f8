"""The ledger: append-only entries (the database refuses changes), budgets, one payout each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.common.db import Database
from services.common.errors import DomainError
from services.common.migrations import upgrade
from services.rewards.ledger import payouts, service
from services.rewards.ledger.models import LedgerEntry, Payout, PayoutStatus
from services.rewards.runtime import RewardsRuntime
from tests.conftest import NOW
from tests.races import run_together
from tests.rewards.ledger_helpers import fresh_month, pay


def test_budget_left_is_grants_minus_payouts_with_corrections(rewards: RewardsRuntime) -> None:
    month = fresh_month()
    with rewards.db.transaction() as session:
        service.grant_budget(session, month=month, amount_fen=50_000, by="leader-cheng", now=NOW)
        service.grant_budget(session, month=month, amount_fen=10_000, by="finance-zhou", now=NOW)
    paid = pay(rewards, str(uuid.uuid4()), amount_fen=2000, period=month)

    with rewards.db.transaction() as session:
        assert service.budget_left(session, month=month) == 58_000
        service.correct(
            session,
            entry_id=paid.entry_id,
            amount_fen=-500,
            by="finance-zhou",
            note="paid 15 CNY, not 20",
            now=NOW,
        )
        assert service.budget_left(session, month=month) == 58_500
        assert service.budget_granted(session, month=month) == 60_000
        with pytest.raises(DomainError):  # cannot take back more than was paid
            service.correct(
                session,
                entry_id=paid.entry_id,
                amount_fen=-1600,
                by="finance-zhou",
                note="too much",
                now=NOW,
            )


def test_bad_months_and_amounts_are_refused(rewards: RewardsRuntime) -> None:
    with rewards.db.transaction() as session:
        for month, amount in [("2026-13", 100), ("26-01", 100), ("2026-01", 0), ("2026-01", -5)]:
            with pytest.raises(DomainError) as refused:
                service.grant_budget(session, month=month, amount_fen=amount, by="x", now=NOW)
            assert refused.value.status == 422


def test_a_second_payout_for_the_same_subject_returns_the_first(rewards: RewardsRuntime) -> None:
    month, subject = fresh_month(), str(uuid.uuid4())

    first = pay(rewards, subject, period=month)
    again = pay(rewards, subject, amount_fen=5000, period=month)

    assert again.id == first.id and again.amount_fen == 1000
    with rewards.db.sessions() as session:
        ledger = session.scalars(select(LedgerEntry).where(LedgerEntry.subject_id == subject)).all()
    assert [(e.kind, e.amount_fen, e.period) for e in ledger] == [("payout", 1000, month)]


def test_payouts_racing_for_one_subject_end_with_one(rewards: RewardsRuntime) -> None:
    month, subject = fresh_month(), str(uuid.uuid4())

    results = run_together(*[lambda: pay(rewards, subject, period=month) for _ in range(6)])

    assert all(isinstance(r, Payout) for r in results), results
    assert len({r.id for r in results}) == 1
    with rewards.db.sessions() as session:
        assert service.budget_left(session, month=month) == -1000
        rows = session.scalars(select(Payout).where(Payout.subject_id == subject)).all()
    assert len(rows) == 1


def test_postgresql_refuses_to_update_or_delete_ledger_entries(rewards: RewardsRuntime) -> None:
    month = fresh_month()
    with rewards.db.transaction() as session:
        entry = service.grant_budget(session, month=month, amount_fen=100, by="x", now=NOW)
    for sql in (
        "UPDATE ledger_entries SET amount_fen = 1 WHERE id = :id",
        "DELETE FROM ledger_entries WHERE id = :id",
        "TRUNCATE ledger_entries CASCADE",
    ):
        with (
            pytest.raises(DBAPIError, match="append-only"),
            rewards.db.transaction() as session,
        ):
            session.execute(text(sql), {"id": entry.id})
    with rewards.db.sessions() as session:
        assert service.budget_left(session, month=month) == 100


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'rewards.db'}"
    upgrade("rewards", url)
    db = Database(url)
    yield db
    db.dispose()


def test_sqlite_refuses_to_update_or_delete_ledger_entries(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as session:
        entry = service.grant_budget(session, month="2026-12", amount_fen=100, by="x", now=NOW)
    for sql in (
        "UPDATE ledger_entries SET amount_fen = 1 WHERE id = :id",
        "DELETE FROM ledger_entries WHERE id = :id",
    ):
        with (
            pytest.raises(DBAPIError, match="append-only"),
            sqlite_db.transaction() as session,
        ):
            session.execute(text(sql), {"id": entry.id})


def test_an_export_takes_each_order_once_and_marks_it(rewards: RewardsRuntime) -> None:
    month = fresh_month()
    subjects = [str(uuid.uuid4()) for _ in range(3)]
    for subject in subjects:
        pay(rewards, subject, period=month)

    with rewards.db.transaction() as session:
        batch, exported = payouts.export_orders(session, now=NOW + timedelta(hours=1))
    with rewards.db.transaction() as session:
        _, again = payouts.export_orders(session, now=NOW + timedelta(hours=2))
        mine = [p for p in payouts.batch(session, name=batch) if p.subject_id in subjects]
        csv_text = payouts.as_csv(mine)

    assert {p.subject_id for p in exported} >= set(subjects)
    assert not {p.subject_id for p in again} & set(subjects)
    assert {p.status for p in mine} == {PayoutStatus.EXPORTED}
    lines = csv_text.splitlines()
    assert lines[0].startswith("payout_id,subject_kind,subject_id")
    assert len(lines) == 4 and all(",10.00," in line for line in lines[1:])

    with rewards.db.transaction() as session:
        paid = payouts.mark_paid(session, payout_id=mine[0].id, now=NOW + timedelta(days=1))
        assert paid.status == PayoutStatus.PAID
        assert payouts.mark_paid(session, payout_id=mine[0].id, now=NOW).paid_at == paid.paid_at
