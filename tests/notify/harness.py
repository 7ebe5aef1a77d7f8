"""Driving notify in tests: a scripted provider, a deliverer around it, fresh numbers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.common.contracts import SEND_SMS
from services.notify import delivery, service
from services.notify.delivery import Deliverer
from services.notify.failover import ProviderRouter
from services.notify.models import SmsMessage
from services.notify.providers.base import Accepted, Lookup, OutgoingSms, SmsProvider
from services.notify.recipient_limits import DatabaseRecipientLimiter, RecipientLimiter
from services.notify.rules import NotifyRules
from services.notify.runtime import NotifyRuntime
from tests import messages
from tests.factories import fresh_number


class ScriptedProvider(SmsProvider):
    """Answers each send with the next scripted outcome (an exception to raise, or ok)."""

    def __init__(self, name: str = "scripted", script: list[Exception | None] | None = None):
        self.name = name
        self.script: Iterator[Exception | None] = iter(script or [])
        self.sent: list[OutgoingSms] = []
        self.calls = 0
        self.lookups: dict[uuid.UUID, Lookup] = {}

    def send(self, sms: OutgoingSms) -> Accepted:
        self.calls += 1
        outcome = next(self.script, None)
        if outcome is not None:
            raise outcome
        self.sent.append(sms)
        return Accepted(provider_ref=f"{self.name}-{sms.id}")

    def lookup(self, sms: OutgoingSms, *, sent_after: datetime) -> Lookup:
        return self.lookups.get(sms.id, Lookup("unknown"))


def deliverer(
    runtime: NotifyRuntime,
    *providers: SmsProvider,
    rules: NotifyRules | None = None,
    limiter: RecipientLimiter | None = None,
) -> Deliverer:
    rules = rules or runtime.rules
    return replace(
        runtime.deliverer,
        router=ProviderRouter([(p, 1) for p in providers]),
        limiter=limiter or DatabaseRecipientLimiter(rules),
        rules=rules,
    )


def request(**overrides: Any) -> dict[str, Any]:
    return messages.send_sms(**{"recipient": fresh_number(), **overrides})


def accept(
    runtime: NotifyRuntime, message: dict[str, Any], rules: NotifyRules | None = None
) -> bool:
    return runtime.messaging.handle_once(
        SEND_SMS,
        message,
        lambda session, msg: service.accept_request(
            session,
            request=msg,
            signature=runtime.signature,
            messaging=runtime.messaging,
            rules=rules or runtime.rules,
            now=runtime.clock.now(),
        ),
        claim_at_commit=True,  # as notify's consumer (services/notify/tasks.py)
    )


def send(d: Deliverer, sms_id: uuid.UUID) -> str:
    return delivery.deliver(d, sms_id)


def row(runtime: NotifyRuntime, sms_id: uuid.UUID) -> SmsMessage:
    with runtime.db.sessions() as session:
        return session.get_one(SmsMessage, sms_id)


def rows_to(runtime: NotifyRuntime, recipient: str) -> list[SmsMessage]:
    with runtime.db.sessions() as session:
        return list(
            session.scalars(
                select(SmsMessage)
                .where(SmsMessage.recipient == recipient)
                .order_by(SmsMessage.created_at, SmsMessage.id)
            )
        )
