"""Where payouts go once recorded, and the finance office's export of them.

The default adapter pays nobody itself: a payout is an order (status `ordered`) that the
finance office takes as a CSV file (`GET /v1/payouts.csv`, `fengqiao payouts export`) and
reports back as paid. An adapter that moves money itself must use the payout's id as the
provider's idempotency key, so a payout retried after a crash is paid once.
"""

from __future__ import annotations

import csv
import io
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import to_station_time
from services.common.errors import DomainError, NotFound
from services.rewards.ledger.models import Payout, PayoutStatus
from services.rewards.ledger.service import record_payout


class PayoutAdapter(ABC):
    """Records a payout and hands it on to whoever moves the money."""

    name: str

    def pay(
        self,
        session: Session,
        *,
        subject_kind: str,
        subject_id: str | uuid.UUID,
        recipient_name: str,
        recipient_phone: str,
        amount_fen: int,
        by: str,
        now: datetime,
        period: str | None = None,
    ) -> Payout:
        """The subject's one payout (recorded in the ledger first, then handed on)."""
        payout = record_payout(
            session,
            subject_kind=subject_kind,
            subject_id=subject_id,
            recipient_name=recipient_name,
            recipient_phone=recipient_phone,
            amount_fen=amount_fen,
            by=by,
            now=now,
            period=period,
        )
        self.hand_on(session, payout, now=now)
        return payout

    @abstractmethod
    def hand_on(self, session: Session, payout: Payout, *, now: datetime) -> None:
        """Pass the payout on; may be called again for the same payout and must not repeat it."""


class FinanceOfficeOrders(PayoutAdapter):
    """The default: the payout waits as an order until the finance office exports it."""

    name = "finance-office"

    def hand_on(self, session: Session, payout: Payout, *, now: datetime) -> None:
        return None  # the order is the payout row itself, status `ordered`


CSV_COLUMNS = (
    "payout_id",
    "subject_kind",
    "subject_id",
    "recipient_name",
    "recipient_phone",
    "amount_fen",
    "amount_cny",
    "period",
    "status",
    "ordered_at",
    "export_batch",
)


def listed(
    session: Session,
    *,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Payout]:
    """Payouts ordered in [start, end) (either end open), oldest first."""
    query = select(Payout)
    if status:
        query = query.where(Payout.status == status)
    if start:
        query = query.where(Payout.ordered_at >= start)
    if end:
        query = query.where(Payout.ordered_at < end)
    return list(session.scalars(query.order_by(Payout.ordered_at, Payout.id)).all())


def as_csv(payouts: Sequence[Payout]) -> str:
    """The finance office's file: one row per payout, the full phone (they must pay it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in payouts:
        writer.writerow(
            [
                p.id,
                p.subject_kind,
                p.subject_id,
                p.recipient_name,
                p.recipient_phone,
                p.amount_fen,
                f"{p.amount_fen // 100}.{p.amount_fen % 100:02d}",
                p.period,
                p.status,
                to_station_time(p.ordered_at),
                p.export_batch or "",
            ]
        )
    return out.getvalue()


def export_orders(session: Session, *, now: datetime) -> tuple[str, list[Payout]]:
    """Mark every `ordered` payout exported under one new batch id; a second run finds none.

    The rows are locked (SKIP LOCKED) so two exports running together never share a payout.
    """
    batch = f"batch-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    orders = list(
        session.scalars(
            select(Payout)
            .where(Payout.status == PayoutStatus.ORDERED)
            .order_by(Payout.ordered_at, Payout.id)
            .with_for_update(skip_locked=True)
        ).all()
    )
    for payout in orders:
        payout.status = PayoutStatus.EXPORTED
        payout.exported_at = now
        payout.export_batch = batch
    session.flush()
    return batch, orders


def batch(session: Session, *, name: str) -> list[Payout]:
    """An earlier export again, to re-download it."""
    return list(
        session.scalars(
            select(Payout).where(Payout.export_batch == name).order_by(Payout.ordered_at, Payout.id)
        ).all()
    )


def mark_paid(session: Session, *, payout_id: uuid.UUID, now: datetime) -> Payout:
    """The finance office paid it; marking a paid payout again changes nothing."""
    payout = session.get(Payout, payout_id, with_for_update=True)
    if payout is None:
        raise NotFound(f"no payout {payout_id}")
    if payout.status == PayoutStatus.PAID:
        return payout
    if payout.status != PayoutStatus.EXPORTED:
        raise DomainError(f"payout {payout_id} is {payout.status}; export it first")
    payout.status = PayoutStatus.PAID
    payout.paid_at = now
    session.flush()
    return payout
