"""Notify's reads and writes: accept a request, then deliver it once.

A request becomes a row in `created` inside the consumer's transaction; delivery is a
separate task that moves the row to `sending` (committed) before the provider is called,
so a redelivered task finds the row past `created` and sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.contracts import RECORD_REPORT_EVENT, Contract, Message
from services.common.db import Database
from services.common.messaging import Messaging
from services.common.phones import mask_phone, normalise_mobile
from services.common.station import Station
from services.notify.models import SmsMessage
from services.notify.providers.base import (
    OutgoingSms,
    PermanentFailure,
    SmsProvider,
    TemporaryFailure,
)
from services.notify.providers.simulated import SimulatedProvider
from services.notify.templates import TemplateError, render

log = logging.getLogger(__name__)

SIMULATED = SimulatedProvider()


class DeliverSmsV1(Message):
    sms_id = fields.UUID(required=True)


# Notify's own follow-up task: not a contract with another service.
DELIVER_SMS = Contract("notify.deliver_sms", DeliverSmsV1, 1)


def seed_station(session: Session, station: Station) -> int:
    """Notify keeps no station data: the signature is read from the station file."""
    return 0


def accept_request(
    session: Session,
    *,
    request: dict[str, Any],
    signature: str,
    messaging: Messaging,
    now: datetime,
) -> SmsMessage:
    """Record a requested SMS once per idempotency key and queue its delivery."""
    existing = session.scalar(
        select(SmsMessage).where(SmsMessage.idempotency_key == request["idempotency_key"])
    )
    if existing is not None:
        return existing
    sms = SmsMessage(
        id=request["message_id"],
        idempotency_key=request["idempotency_key"],
        recipient=request["recipient"],
        template=request["template"],
        template_version=0,
        params=request["params"],
        body="",
        segments=0,
        priority=request["priority"],
        status="created",
        report_id=request.get("report_id"),
        test=request["test"],
        created_at=now,
        updated_at=now,
    )
    try:
        sms.recipient = normalise_mobile(request["recipient"])
        rendered = render(
            signature=signature, template_name=request["template"], params=request["params"]
        )
    except (TemplateError, ValueError) as exc:
        sms.status, sms.failure = "failed", f"refused: {exc}"
        log.warning("SMS %s refused: %s", sms.id, exc)
    else:
        sms.body, sms.segments = rendered.text, rendered.segments
        sms.template_version = rendered.template.version
    session.add(sms)
    session.flush()
    if sms.status == "created":
        messaging.publish(session, DELIVER_SMS, {"sms_id": sms.id})
    return sms


def outgoing(sms: SmsMessage, *, signature: str) -> OutgoingSms:
    """What a provider is handed for a stored message."""
    return OutgoingSms(
        id=sms.id,
        recipient=sms.recipient,
        text=sms.body,
        signature=signature,
        template=sms.template,
        template_version=sms.template_version,
        params={k: str(v) for k, v in sms.params.items()},
    )


def _claim_for_sending(session: Session, sms_id: uuid.UUID, now: datetime) -> SmsMessage | None:
    sms = session.get(SmsMessage, sms_id, with_for_update=True)
    if sms is None or sms.status != "created":
        return None
    sms.status, sms.updated_at = "sending", now
    return sms


def deliver(
    *,
    db: Database,
    messaging: Messaging,
    provider: SmsProvider,
    signature: str,
    sms_id: uuid.UUID,
    now: datetime,
) -> str:
    """Send one message at most once; returns the status it ends in."""
    with db.transaction() as session:
        sms = _claim_for_sending(session, sms_id, now)
        if sms is None:
            return "skipped"
    if sms.test:  # asked for with a test key: nothing leaves for real
        provider = SIMULATED
    try:
        accepted = provider.send(outgoing(sms, signature=signature))
    except TemporaryFailure:
        with db.transaction() as session:  # the provider took nothing: it may be tried again
            row = session.get(SmsMessage, sms_id, with_for_update=True)
            if row is not None and row.status == "sending":
                row.status, row.updated_at = "created", now
        raise
    except PermanentFailure as exc:
        with messaging.transaction() as session:
            row = session.get_one(SmsMessage, sms_id, with_for_update=True)
            row.status, row.failure, row.updated_at = "failed", str(exc)[:200], now
        return "failed"
    with messaging.transaction() as session:
        row = session.get_one(SmsMessage, sms_id, with_for_update=True)
        row.status, row.provider, row.provider_ref = "sent", provider.name, accepted.provider_ref
        row.sent_at = row.updated_at = now
        if row.report_id is not None:
            messaging.publish(
                session,
                RECORD_REPORT_EVENT,
                {
                    "report_id": row.report_id,
                    "event": "sms_sent",
                    "service": "notify",
                    "at": now,
                    "detail": f"SMS '{row.template}' sent to {mask_phone(row.recipient)}",
                },
            )
    return "sent"
