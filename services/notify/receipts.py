"""What providers tell us afterwards: delivery receipts and residents' replies."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.messaging import Messaging
from services.common.phones import normalise_mobile
from services.notify import optouts, status_questions
from services.notify.delivery import fail
from services.notify.models import InboundSms as InboundRow
from services.notify.models import SmsMessage
from services.notify.providers.base import InboundSms, Receipt

log = logging.getLogger(__name__)


def _message_of(session: Session, provider: str, receipt: Receipt) -> SmsMessage | None:
    if receipt.message_id is not None:
        return session.get(SmsMessage, receipt.message_id, with_for_update=True)
    if receipt.provider_ref is None:
        return None
    return session.scalar(
        select(SmsMessage)
        .where(SmsMessage.provider == provider, SmsMessage.provider_ref == receipt.provider_ref)
        .with_for_update()
    )


def record_receipts(
    session: Session,
    *,
    provider: str,
    receipts: list[Receipt],
    messaging: Messaging,
    now: datetime,
) -> int:
    """Apply receipts under a row lock, only ever moving a message forward; returns applied."""
    applied = 0
    for receipt in receipts:
        sms = _message_of(session, provider, receipt)
        if sms is None or sms.status not in ("sending", "sent"):
            continue  # unknown, or already delivered or failed: a receipt never goes back
        if receipt.provider_ref and not sms.provider_ref:
            sms.provider_ref = receipt.provider_ref  # we died before recording the send
        if receipt.delivered:
            sms.status, sms.delivered_at, sms.updated_at = "delivered", receipt.at or now, now
            sms.sent_at = sms.sent_at or receipt.at or now
        else:
            fail(
                session, messaging, sms, f"not delivered: {receipt.error or 'no reason given'}", now
            )
        applied += 1
    return applied


def record_inbound(
    session: Session,
    *,
    provider: str,
    replies: list[InboundSms],
    messaging: Messaging,
    now: datetime,
) -> int:
    """Keep each reply once; a TD (退订) puts its sender on the opt-out list, a status
    question (CX or a 查询码) goes to intake to answer. Returns opt-outs."""
    opted = 0
    for reply in replies:
        try:
            sender = normalise_mobile(reply.sender)
        except ValueError:
            log.warning("reply from an unusable number ignored")
            continue
        text, at = reply.text[:500], reply.at or now
        if status_questions.seen_before(
            session, provider=provider, sender=sender, text=text, at=at
        ):
            continue  # pushed again: recorded, and asked, the first time
        session.add(InboundRow(provider=provider, sender=sender, text=text, received_at=at))
        if optouts.is_opt_out_reply(text):
            opted += optouts.add(session, phone=sender, source="sms_reply", now=now)
            continue
        status_questions.ask_intake(
            session, messaging=messaging, provider=provider, sender=sender, text=text, at=at
        )
    return opted
