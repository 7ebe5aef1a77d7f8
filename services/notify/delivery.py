"""The life of one SMS after it is recorded: created → sending → sent → delivered | failed.

Never twice:
- a message is claimed (`created` → `sending`, committed) before any provider call, so a
  redelivered task, a second worker or a replay finds it past `created` and sends nothing;
- a provider that certainly took nothing (refused connection, a clear "try later") puts it
  back to `created` with a backoff; one that may have taken it (a timeout after the request
  went out) leaves it in `sending`, and `resolve_stuck` asks the provider before anything
  is sent again;
- due work lives in the database (`due_at`): quiet hours, per-number limits and retries
  never wait as a long Celery countdown; `dispatch_due` hands due messages to workers.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from marshmallow import fields
from sqlalchemy import CursorResult, Update, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.common.clock import Clock, to_station_time
from services.common.contracts import RECORD_REPORT_EVENT, Contract, Message
from services.common.db import Database
from services.common.messaging import Messaging
from services.common.phones import mask_phone
from services.notify.failover import ProviderRouter
from services.notify.models import OptOut, SmsMessage
from services.notify.providers.base import (
    Accepted,
    AmbiguousFailure,
    OutgoingSms,
    PermanentFailure,
    SmsProvider,
    TemporaryFailure,
)
from services.notify.providers.simulated import SimulatedProvider
from services.notify.recipient_limits import RecipientLimiter
from services.notify.rules import NotifyRules
from services.notify.timing import after_quiet_hours, retry_delay

log = logging.getLogger(__name__)

SIMULATED = SimulatedProvider()


class DeliverSmsV1(Message):
    sms_id = fields.UUID(required=True)


# Notify's own follow-up task: not a contract with another service.
DELIVER_SMS = Contract("notify.deliver_sms", DeliverSmsV1, 1)


@dataclass(frozen=True)
class Deliverer:
    """What sending needs: the database, the broker, the providers, the limits, the rules."""

    db: Database
    messaging: Messaging
    router: ProviderRouter
    limiter: RecipientLimiter
    rules: NotifyRules
    clock: Clock

    def provider(self, name: str | None) -> SmsProvider | None:
        if name == SIMULATED.name:
            return SIMULATED
        route = self.router.routes.get(name or "")
        return route.provider if route else None


def outgoing(sms: SmsMessage) -> OutgoingSms:
    """What a provider is handed for a stored message."""
    return OutgoingSms(
        id=sms.id,
        recipient=sms.recipient,
        text=sms.body,
        signature=sms.signature,
        template=sms.template,
        template_version=sms.template_version,
        params={k: str(v) for k, v in sms.params.items()},
    )


def tell_intake(
    session: Session, messaging: Messaging, sms: SmsMessage, *, event: str, now: datetime
) -> None:
    """Add the message's fate to its report's timeline (number masked)."""
    if sms.report_id is None:
        return
    what = _what(sms.template, sms.recipient)
    if event == "sms_sent":
        detail = f"{what} sent"
    elif event == "sms_failed":
        detail = f"{what} failed: {sms.failure}"
    elif event == "sms_scheduled":
        detail = f"{what} waits for the end of quiet hours, {to_station_time(sms.due_at or now)}"
    else:
        raise ValueError(f"no timeline event {event!r} for an SMS")
    _timeline(session, messaging, sms.report_id, event=event, detail=detail, now=now)


def _what(template: str, recipient: str) -> str:
    return f"SMS '{template}' to {mask_phone(recipient)}"


def _timeline(
    session: Session,
    messaging: Messaging,
    report_id: uuid.UUID,
    *,
    event: str,
    detail: str,
    now: datetime,
) -> None:
    messaging.publish(
        session,
        RECORD_REPORT_EVENT,
        {
            "report_id": report_id,
            "event": event,
            "service": "notify",
            "at": now,
            "detail": detail[:500],
        },
    )


def fail(
    session: Session, messaging: Messaging, sms: SmsMessage, reason: str, now: datetime
) -> None:
    sms.status, sms.failure, sms.due_at, sms.updated_at = "failed", reason[:200], None, now
    log.warning("SMS %s failed: %s", sms.id, reason)
    tell_intake(session, messaging, sms, event="sms_failed", now=now)


# The delivery's statements, built once (building one cost about as much as running it).
# The message, locked, and whether its number opted out, in one statement.
_LOCKED_WITH_OPT_OUT = (
    select(SmsMessage, OptOut.phone)
    .outerjoin(OptOut, OptOut.phone == SmsMessage.recipient)
    .where(SmsMessage.id == bindparam("sms_id"))
    .with_for_update(of=SmsMessage)
)


def _moved(from_status: str, **values: Any) -> Update:
    """An UPDATE of the message `sms_id` that lands only if it is still in `from_status`."""
    return (
        update(SmsMessage)
        .where(SmsMessage.id == bindparam("sms_id"), SmsMessage.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# Taken only if still `created` when the write lands (see `_claim`).
_TAKE = _moved(
    "created",
    status="sending",
    provider=bindparam("provider_"),
    sending_at=bindparam("now"),
    attempts=bindparam("attempts_"),
    due_at=None,
    updated_at=bindparam("now"),
)
# `sent`, only if still `sending`, with what the timeline's entry needs.
_SENT = _moved(
    "sending",
    status="sent",
    provider_ref=bindparam("ref"),
    sent_at=bindparam("now"),
    updated_at=bindparam("now"),
).returning(SmsMessage.report_id, SmsMessage.template, SmsMessage.recipient)


def _claim(d: Deliverer, session: Session, sms_id: uuid.UUID, now: datetime) -> SmsMessage | str:
    """The message, marked `sending` with its provider; or a word for why it is not sent now."""
    found = session.execute(_LOCKED_WITH_OPT_OUT, {"sms_id": sms_id}).first()
    if found is None or found[0].status != "created":
        return "skipped"
    sms, opted_out = found[0], found[1] is not None
    if sms.due_at is not None and sms.due_at > now:
        return "not_due"
    if opted_out:
        fail(session, d.messaging, sms, "the recipient opted out (TD)", now)
        return "failed"
    urgent = sms.priority == "urgent"
    leave_at = after_quiet_hours(now, urgent=urgent, rules=d.rules)
    if leave_at == now and not sms.test:
        wait = d.limiter.reserve(session, recipient=sms.recipient, sms_id=sms.id, now=now)
        if wait is not None:
            leave_at = after_quiet_hours(now + wait, urgent=urgent, rules=d.rules)
    if leave_at > now:  # waits in the database, picked up by `dispatch_due`
        sms.due_at, sms.dispatched_at, sms.updated_at = leave_at, None, now
        return "deferred"
    # Taken only if still `created` when the write lands. PostgreSQL's row lock above has
    # made sure already; SQLite has no row locks, and two of a worker's threads handed the
    # same message (a relayed copy) would otherwise both pass the check above and send it.
    # The claim in that one statement, not a second UPDATE at the commit for the rest.
    provider = SIMULATED if sms.test else d.router.choose()
    claim = {
        "status": "sending",
        "provider": provider.name,
        "sending_at": now,
        "attempts": sms.attempts + 1,
        "due_at": None,
        "updated_at": now,
    }
    taken = session.execute(
        _TAKE,
        {"sms_id": sms.id, "provider_": provider.name, "now": now, "attempts_": sms.attempts + 1},
    )
    if cast(CursorResult[Any], taken).rowcount != 1:
        return "skipped"
    for name, value in claim.items():  # what the row now holds, not to be written again
        set_committed_value(sms, name, value)
    return sms


def deliver(d: Deliverer, sms_id: uuid.UUID) -> str:
    """Try to send one message; returns what became of it."""
    now = d.clock.now()
    with d.messaging.transaction() as session:
        claimed = _claim(d, session, sms_id, now)
        if isinstance(claimed, str):
            return claimed
        sms: SmsMessage = claimed
        provider = d.provider(sms.provider)
        assert provider is not None  # chosen in _claim
        message = outgoing(sms)
    # Committed: from here a crash leaves the message in `sending` for `resolve_stuck`.
    try:
        accepted = provider.send(message)
    except AmbiguousFailure as exc:
        d.router.record(provider.name, ok=False)
        log.warning("SMS %s may or may not have reached %s: %s", sms_id, provider.name, exc)
        return "sending"
    except TemporaryFailure as exc:
        d.router.record(provider.name, ok=False)
        d.limiter.release(recipient=message.recipient, sms_id=sms_id)
        return _retry_later(d, sms_id, str(exc), now)
    except PermanentFailure as exc:
        d.router.record(provider.name, ok=True)  # the provider works; the message cannot
        return _finish_failed(d, sms_id, str(exc), now)
    d.router.record(provider.name, ok=True)
    return mark_sent(d, sms_id, accepted, now)


def mark_sent(d: Deliverer, sms_id: uuid.UUID, accepted: Accepted, now: datetime) -> str:
    """`sent`, if the message is still `sending`; else what a receipt said meanwhile."""
    with d.messaging.transaction() as session:
        # One statement where a locked read and an UPDATE were: the row lock of the UPDATE
        # orders it with a receipt's `SELECT … FOR UPDATE`, and its condition is the check.
        sent = session.execute(
            _SENT, {"sms_id": sms_id, "ref": accepted.provider_ref, "now": now}
        ).first()
        if sent is not None:
            report_id, template, recipient = sent
            if report_id is not None:
                detail = f"{_what(template, recipient)} sent"
                _timeline(session, d.messaging, report_id, event="sms_sent", detail=detail, now=now)
            return "sent"
        sms = session.get_one(SmsMessage, sms_id, with_for_update=True)
        # A receipt overtook us: keep what it said.
        sms.provider_ref = sms.provider_ref or accepted.provider_ref
        return sms.status


def _retry_later(d: Deliverer, sms_id: uuid.UUID, reason: str, now: datetime) -> str:
    with d.messaging.transaction() as session:
        sms = session.get_one(SmsMessage, sms_id, with_for_update=True)
        if sms.status != "sending":
            return sms.status
        if sms.attempts >= d.rules.max_attempts:
            fail(session, d.messaging, sms, f"gave up after {sms.attempts} tries: {reason}", now)
            return "failed"
        sms.status, sms.sending_at, sms.failure = "created", None, reason[:200]
        sms.due_at = after_quiet_hours(
            now + retry_delay(sms.attempts, d.rules),
            urgent=sms.priority == "urgent",
            rules=d.rules,
        )
        sms.dispatched_at, sms.updated_at = None, now
        return "retry"


def _finish_failed(d: Deliverer, sms_id: uuid.UUID, reason: str, now: datetime) -> str:
    with d.messaging.transaction() as session:
        sms = session.get_one(SmsMessage, sms_id, with_for_update=True)
        if sms.status == "sending":
            fail(session, d.messaging, sms, reason, now)
        return sms.status


def dispatch_due(d: Deliverer, *, limit: int = 500) -> int:
    """Hand every due message nobody is working on to a worker; returns how many."""
    now = d.clock.now()
    with d.messaging.transaction() as session:
        due = session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.status == "created",
                SmsMessage.due_at <= now,
                or_(
                    SmsMessage.dispatched_at.is_(None),
                    SmsMessage.dispatched_at < now - d.rules.redispatch_after,
                ),
            )
            .order_by(SmsMessage.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for sms in due:
            sms.dispatched_at = now
            d.messaging.publish(session, DELIVER_SMS, {"sms_id": sms.id})
        return len(due)


# A run of `resolve_stuck` asks the provider about one message after another, each call up
# to the HTTP timeouts: with many messages stuck it could run for minutes, and a worker that
# is asked to stop waits for the task it runs. It stops after this long and leaves the rest
# to the next run (every minute).
RESOLVE_BUDGET_SECONDS = 10.0


def resolve_stuck(
    d: Deliverer, *, limit: int = 100, budget_seconds: float = RESOLVE_BUDGET_SECONDS
) -> dict[str, int]:
    """Settle messages left in `sending` by asking their provider, never by sending blindly."""
    started = time.monotonic()
    now = d.clock.now()
    with d.db.transaction() as session:
        stuck = session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.status == "sending",
                SmsMessage.sending_at < now - d.rules.stuck_sending_after,
            )
            .order_by(SmsMessage.sending_at)
            .limit(limit)
        ).all()
    outcomes: dict[str, int] = {}
    for done, sms in enumerate(stuck):
        if time.monotonic() - started > budget_seconds:
            outcomes["left_for_next_run"] = len(stuck) - done
            break
        outcome = _settle(d, sms, now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _settle(d: Deliverer, stale: SmsMessage, now: datetime) -> str:
    provider = d.provider(stale.provider)
    assert stale.sending_at is not None
    found = (
        provider.lookup(outgoing(stale), sent_after=stale.sending_at - timedelta(minutes=1))
        if provider is not None
        else None
    )
    with d.messaging.transaction() as session:
        sms = session.get_one(SmsMessage, stale.id, with_for_update=True)
        if sms.status != "sending" or sms.sending_at != stale.sending_at:
            return "moved_on"  # a receipt or a worker settled it meanwhile
        if found is not None and found.found == "accepted":
            sms.status, sms.provider_ref = "sent", found.provider_ref
            sms.sent_at = sms.updated_at = now
            tell_intake(session, d.messaging, sms, event="sms_sent", now=now)
            return "sent"
        if found is not None and found.found == "not_found":
            sms.status, sms.sending_at, sms.due_at = "created", None, now  # safe to send
            sms.dispatched_at, sms.updated_at = None, now
            return "requeued"
        fail(
            session,
            d.messaging,
            sms,
            "the provider did not confirm this message; not sent again, to avoid a duplicate",
            now,
        )
        return "failed"
