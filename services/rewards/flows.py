"""What a rewards step tells others: the partner's timeline (intake) and SMS (notify).

Both go to the outbox inside the step's transaction. Timeline details are partner-safe:
statuses and severities, never a name, a phone or an amount (the amount goes to the
recipient alone, by SMS).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import RECORD_REPORT_EVENT, SEND_SMS, TimelineEvent
from services.common.messaging import Messaging


def tell_partner(
    session: Session,
    messaging: Messaging,
    *,
    report_id: uuid.UUID,
    event: TimelineEvent | str,
    detail: str,
    now: datetime,
) -> None:
    """Add a step to the report's timeline at intake."""
    messaging.publish(
        session,
        RECORD_REPORT_EVENT,
        {
            "report_id": report_id,
            "event": str(event),
            "service": "rewards",
            "at": now,
            "detail": detail[:500],
        },
    )


def send_sms(
    session: Session,
    messaging: Messaging,
    *,
    key: str,
    recipient: str | None,
    template: str,
    params: dict[str, Any],
    report_id: uuid.UUID | None,
    test: bool,
    urgent: bool = False,
) -> None:
    """Ask notify for one SMS; `key` makes it happen at most once."""
    if not recipient:
        return
    messaging.publish(
        session,
        SEND_SMS,
        {
            "idempotency_key": f"{key}:{recipient}",
            "recipient": recipient,
            "template": template,
            "params": params,
            "priority": "urgent" if urgent else "normal",
            "report_id": report_id,
            "test": test,
        },
    )


def cny(fen: int) -> str:
    """An amount for people to read: 10, 7.50 (CNY)."""
    return str(fen // 100) if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"
