"""What a case's step tells others: the partner's timeline (intake) and SMS (notify).

Both go to the outbox inside the transaction of the step. Details for the partner are
partner-safe: statuses, village names, desks and times, never a name or a phone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.common.contracts import RECORD_REPORT_EVENT, SEND_SMS, TimelineEvent
from services.common.messaging import Messaging
from services.mediation.models import Case


def tell_partner(
    session: Session,
    messaging: Messaging,
    *,
    case: Case,
    event: TimelineEvent,
    detail: str,
    now: datetime,
) -> None:
    """Add a step to the report's timeline at intake."""
    messaging.publish(
        session,
        RECORD_REPORT_EVENT,
        {
            "report_id": case.report_id,
            "event": event.value,
            "service": "mediation",
            "at": now,
            "detail": detail[:500],
            "due_at": case.due_at,  # the resident's lookup shows when the next step is due
        },
    )


def send_sms(
    session: Session,
    messaging: Messaging,
    *,
    case: Case,
    key: str,
    recipient: str | None,
    template: str,
    params: dict[str, Any],
    urgent: bool = False,
) -> None:
    """Ask notify for one SMS about `case`; `key` makes it happen at most once."""
    if not recipient:
        return
    messaging.publish(
        session,
        SEND_SMS,
        {
            "idempotency_key": f"{key}:{recipient}",
            "recipient": recipient,
            "template": template,
            "params": {"tracking_code": case.tracking_code, **params},
            "priority": "urgent" if urgent else "normal",
            "report_id": None,
            "test": case.test,
        },
    )


def parties_phones(case: Case) -> list[str]:
    """Every party's phone, once each."""
    return list(dict.fromkeys(p.phone for p in case.parties if p.phone))


def reporter_phone(case: Case) -> str | None:
    phone = case.reporter.get("phone")
    return str(phone) if phone else None
