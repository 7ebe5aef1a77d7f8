"""Notify's reads and writes: record a requested SMS once, and what staff look up.

Functions take the session; the caller owns the transaction. Sending is `delivery.py`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from services.common.errors import DomainError, NotFound
from services.common.messaging import Messaging, insert_at_commit, read_committed
from services.common.paging import paged
from services.common.phones import normalise_mobile
from services.common.station import Station
from services.notify.delivery import DELIVER_SMS, fail, tell_intake
from services.notify.models import SMS_STATUSES, OptOut, SmsMessage
from services.notify.rules import NotifyRules
from services.notify.templates import TemplateError, render
from services.notify.timing import after_quiet_hours

log = logging.getLogger(__name__)

_SMS_TABLE = cast(Table, SmsMessage.__table__)
_SMS_COLUMNS = tuple(column.key for column in _SMS_TABLE.columns)
_KEY_AND_OPT_OUT = select(
    select(SmsMessage.id)
    .where(SmsMessage.idempotency_key == bindparam("idempotency_key"))
    .scalar_subquery(),
    select(OptOut.phone).where(OptOut.phone == bindparam("recipient")).exists(),
)


def seed_station(session: Session, station: Station) -> int:
    """Notify keeps no station data: the signature is read from the station file."""
    return 0


def accept_request(
    session: Session,
    *,
    request: dict[str, Any],
    signature: str,
    messaging: Messaging,
    rules: NotifyRules,
    now: datetime,
    resend_of: uuid.UUID | None = None,
) -> SmsMessage:
    """Record a requested SMS once per idempotency key; queue it now or let it wait."""
    recipient, refused = request["recipient"], None
    try:
        recipient = normalise_mobile(recipient)
    except ValueError as exc:
        refused = exc  # recorded as failed below, once the key is known to be new
    # Whether the key was taken, and whether the number opted out, in one statement, read
    # without opening the transaction: the usual request then writes in one statement.
    existing_id, opted_out = read_committed(
        session,
        _KEY_AND_OPT_OUT,
        {"idempotency_key": request["idempotency_key"], "recipient": recipient},
    )[0]
    if existing_id is not None:
        return session.get_one(SmsMessage, existing_id)
    sms = SmsMessage(
        id=request["message_id"],
        idempotency_key=request["idempotency_key"],
        recipient=recipient,
        template=request["template"],
        template_version=0,
        params=request["params"],
        body="",
        segments=0,
        priority=request["priority"],
        status="created",
        report_id=request.get("report_id"),
        test=request.get("test", False),
        signature=signature,
        attempts=0,
        resend_of_id=resend_of,
        created_at=now,
        updated_at=now,
    )
    try:
        if refused is not None:
            raise refused
        rendered = render(
            signature=signature, template_name=request["template"], params=request["params"]
        )
    except (TemplateError, ValueError) as exc:
        session.add(sms)
        fail(session, messaging, sms, f"refused: {exc}", now)
        return sms
    sms.body, sms.segments = rendered.text, rendered.segments
    sms.template_version = rendered.template.version
    if opted_out:
        session.add(sms)
        fail(session, messaging, sms, "the recipient opted out (TD)", now)
        return sms
    sms.due_at = after_quiet_hours(now, urgent=sms.priority == "urgent", rules=rules)
    if sms.due_at > now:  # the answer is given, but at 08:00: say so on the timeline
        session.add(sms)
        tell_intake(session, messaging, sms, event="sms_scheduled", now=now)
        return sms
    sms.dispatched_at = now
    # The usual case: the row goes with its delivery's outbox row in one statement at the
    # commit, as a row, not through the unit of work (which cost a sixth of the task). The
    # object returned stays outside the session, with every column set.
    insert_at_commit(session, _SMS_TABLE, [{key: getattr(sms, key) for key in _SMS_COLUMNS}])
    messaging.publish(session, DELIVER_SMS, {"sms_id": sms.id})
    return sms


class NotResendable(DomainError):
    status = 409


def resend(
    session: Session,
    *,
    sms_id: uuid.UUID,
    messaging: Messaging,
    rules: NotifyRules,
    now: datetime,
) -> SmsMessage:
    """A new message, linked to a failed one, with the same text and recipient."""
    old = get_message(session, sms_id=sms_id)
    if old.status != "failed":
        raise NotResendable(f"only a failed message can be resent; this one is {old.status}")
    request = {
        "message_id": uuid.uuid4(),
        "idempotency_key": f"resend-of:{old.id}",
        "recipient": old.recipient,
        "template": old.template,
        "params": old.params,
        "priority": old.priority,
        "report_id": old.report_id,
        "test": old.test,
    }
    return accept_request(
        session,
        request=request,
        signature=old.signature,
        messaging=messaging,
        rules=rules,
        now=now,
        resend_of=old.id,
    )


def get_message(session: Session, *, sms_id: uuid.UUID) -> SmsMessage:
    sms = session.get(SmsMessage, sms_id)
    if sms is None:
        raise NotFound("no such message")
    return sms


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    template: str | None = None,
    recipient: str | None = None,
    since: datetime | None = None,
    offset: int,
    limit: int,
) -> tuple[list[SmsMessage], int]:
    """Messages, newest first, one page and the total."""
    query = select(SmsMessage)
    if status:
        query = query.where(SmsMessage.status == status)
    if template:
        query = query.where(SmsMessage.template == template)
    if recipient:
        query = query.where(SmsMessage.recipient == recipient)
    if since:
        query = query.where(SmsMessage.created_at >= since)
    order = (SmsMessage.created_at.desc(), SmsMessage.id)
    return paged(session, query, order_by=order, offset=offset, limit=limit)


def status_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """How many messages are in each status (test messages left out)."""
    query = select(SmsMessage.status, func.count()).where(SmsMessage.test.is_(False))
    if since:
        query = query.where(SmsMessage.created_at >= since)
    counts = dict.fromkeys(SMS_STATUSES, 0)
    for status, count in session.execute(query.group_by(SmsMessage.status)):
        counts[status] = count
    return counts
