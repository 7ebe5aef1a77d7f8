"""Callback registrations, the deliveries a status change queues, and how a body is signed.

Functions take the session; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from marshmallow import fields
from sqlalchemy.orm import Session

from services.common.contracts import Contract, Message
from services.common.errors import NotFound
from services.common.messaging import Messaging
from services.intake.models import Agency, AgencyCallback, CallbackDelivery, Report

STATUS_CHANGED = "report.status_changed"


class DeliverCallbackV1(Message):
    delivery_id = fields.UUID(required=True)


# Intake's own follow-up task: not a contract with another service.
DELIVER_CALLBACK = Contract("intake.deliver_callback", DeliverCallbackV1, 1)


def new_signing_secret() -> str:
    """A fresh random secret to sign an agency's callbacks with."""
    return secrets.token_urlsafe(32)


def register_callback(
    session: Session, *, agency_id: uuid.UUID, url: str, now: datetime
) -> AgencyCallback:
    """Set the agency's callback URL with a new signing secret; registering again rotates it."""
    # Locking the agency serialises two first registrations, which would both insert.
    session.get_one(Agency, agency_id, with_for_update=True)
    callback = session.get(AgencyCallback, agency_id)
    secret = new_signing_secret()
    if callback is None:
        callback = AgencyCallback(
            agency_id=agency_id, url=url, signing_secret=secret, created_at=now, updated_at=now
        )
        session.add(callback)
    else:
        callback.url, callback.signing_secret, callback.updated_at = url, secret, now
    return callback


def get_callback(session: Session, *, agency_id: uuid.UUID) -> AgencyCallback:
    """The agency's callback; NotFound if it has none."""
    callback = session.get(AgencyCallback, agency_id)
    if callback is None:
        raise NotFound("no callback is registered")
    return callback


def delete_callback(session: Session, *, agency_id: uuid.UUID) -> bool:
    """Remove the agency's callback; False if it had none."""
    callback = session.get(AgencyCallback, agency_id)
    if callback is None:
        return False
    session.delete(callback)
    return True


def status_changed_body(report: Report, *, previous_status: str, at: datetime) -> dict[str, Any]:
    """The JSON a partner receives when one of its reports changes status."""
    return {
        "event": STATUS_CHANGED,
        "report_id": str(report.id),
        "tracking_code": report.tracking_code,
        "status": report.status,
        "previous_status": previous_status,
        "at": at.astimezone(UTC).isoformat(),
        "test": report.test,
    }


def queue_status_change(
    session: Session,
    *,
    messaging: Messaging,
    report: Report,
    previous_status: str,
    at: datetime,
    now: datetime,
    has_callback: bool | None = None,
) -> CallbackDelivery | None:
    """Record a delivery of the report's new status and queue it, if its agency has a callback.

    `has_callback`: already read with the report (its lock's statement); looked up if None.
    """
    if has_callback is None:
        has_callback = session.get(AgencyCallback, report.agency_id) is not None
    if not has_callback:
        return None
    delivery = CallbackDelivery(
        id=uuid.uuid4(),
        agency_id=report.agency_id,
        report_id=report.id,
        status="pending",
        attempts=0,
        body=status_changed_body(report, previous_status=previous_status, at=at),
        next_attempt_at=now,
        dispatched_at=now,
        created_at=now,
    )
    session.add(delivery)
    messaging.publish(session, DELIVER_CALLBACK, {"delivery_id": delivery.id})
    return delivery


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The `X-Fengqiao-Signature` header for `body` sent at `timestamp` (unix seconds).

    The header reads `t=<timestamp>,v1=<signature>`. To check a callback, a partner:

    1. splits the header at "," and each part at the first "=", taking `t` and `v1`;
    2. refuses the request if `t` is more than five minutes from its own clock, so a
       recorded request cannot be replayed later;
    3. computes HMAC-SHA256, keyed with the signing secret (its UTF-8 bytes, exactly as
       `PUT /v1/callback` showed it), over `t`, a ".", and the raw request body, byte for
       byte as received, before any JSON parsing;
    4. compares the lowercase hex digest with `v1` in constant time.

    In Python::

        expected = hmac.new(
            secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256
        ).hexdigest()
        ok = hmac.compare_digest(expected, v1)

    A delivery may arrive more than once; `X-Fengqiao-Delivery` is the same each time.
    """
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
