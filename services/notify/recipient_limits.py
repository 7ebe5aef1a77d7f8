"""Per-number limits (1 a minute, 5 an hour, 10 a day), shared by every notify worker.

A worker reserves a slot for a number before it calls the provider. A message over a limit
is not dropped: the limiter says how long to wait, and the message waits in the database.
With Redis, one Lua script checks every window and takes the slot atomically. Without it,
the database counts the messages handed to a provider in each window, under a lock on the
number (PostgreSQL advisory lock; SQLite has one writer at a time anyway).

Either way a message never waits for itself: a delivery that reserved and then died (a
killed worker, a failed commit) is tried again under the same id, and the slot it took is
its own. While Redis cannot be reached the database counts instead (its `sending_at` rows
are what every limiter's slots become), so a Redis restart delays no SMS; for a day after
that, the longest window, both must agree, since Redis did not see what the database let
through.
"""

from __future__ import annotations

import math
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Protocol, cast

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.common.outages import Outage
from services.notify.models import SmsMessage
from services.notify.rules import NotifyRules


def windows(rules: NotifyRules) -> list[tuple[timedelta, int]]:
    """Each window and how many messages it allows."""
    return [
        (timedelta(minutes=1), rules.per_minute),
        (timedelta(hours=1), rules.per_hour),
        (timedelta(days=1), rules.per_day),
    ]


class RecipientLimiter(Protocol):
    def reserve(
        self, session: Session, *, recipient: str, sms_id: uuid.UUID, now: datetime
    ) -> timedelta | None:
        """Take a slot for `sms_id` (None), or say how long to wait before trying again."""
        ...

    def release(self, *, recipient: str, sms_id: uuid.UUID) -> None:
        """Give back a slot taken for a message the provider did not take."""
        ...


class DatabaseRecipientLimiter:
    """Counts messages already handed to a provider, in the caller's transaction."""

    def __init__(self, rules: NotifyRules) -> None:
        self.windows = windows(rules)

    def reserve(
        self, session: Session, *, recipient: str, sms_id: uuid.UUID, now: datetime
    ) -> timedelta | None:
        if session.get_bind().dialect.name == "postgresql":
            key = zlib.crc32(f"sms-recipient:{recipient}".encode())
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        wait = timedelta(0)
        for span, limit in self.windows:
            handed = session.scalars(
                select(SmsMessage.sending_at)
                .where(
                    SmsMessage.recipient == recipient,
                    SmsMessage.sending_at > now - span,
                    SmsMessage.id != sms_id,
                )
                .order_by(SmsMessage.sending_at.desc())
                .limit(limit)
            ).all()
            if len(handed) >= limit:  # wait until the oldest of the last `limit` leaves
                oldest = cast(datetime, handed[-1])  # not null: it compared above
                wait = max(wait, oldest + span - now)
        # The caller marks the message `sending` (with `sending_at`) in this transaction:
        # that row is the slot.
        return wait if wait > timedelta(0) else None

    def release(self, *, recipient: str, sms_id: uuid.UUID) -> None:
        """Nothing to do: clearing `sending_at` on the message gives the slot back."""


# KEYS[1]: the number's sorted set of slots (score: ms). ARGV: now ms, member, then pairs of
# window ms and limit. Returns 0 when the slot is taken, else the ms to wait. The member's
# own earlier slot is given back first, so reserving again under one id is idempotent.
_RESERVE = """
redis.call('ZREM', KEYS[1], ARGV[2])
local now = tonumber(ARGV[1])
local longest = 0
local wait = 0
for i = 3, #ARGV, 2 do
  local span = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  if span > longest then longest = span end
  local inside = redis.call('ZRANGEBYSCORE', KEYS[1], now - span, '+inf', 'WITHSCORES')
  local count = #inside / 2
  if count >= limit then
    local oldest_kept = tonumber(inside[(count - limit) * 2 + 2])
    wait = math.max(wait, oldest_kept + span - now)
  end
end
if wait > 0 then return wait end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], longest)
return 0
"""


_REDIS_AWAY = (RedisConnectionError, RedisTimeout)


class RedisRecipientLimiter:
    """A sliding window per number in a Redis sorted set, checked and taken in one script.

    While Redis cannot be reached the database limiter decides, and for the longest window
    after that the database must agree too.
    """

    def __init__(self, rules: NotifyRules, redis_url: str) -> None:
        self.windows = windows(rules)
        self.client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_RESERVE)
        self.database = DatabaseRecipientLimiter(rules)
        self.outage = Outage("Redis (per-number SMS limits)")
        self._database_agrees_until: datetime | None = None

    @staticmethod
    def key(recipient: str) -> str:
        return f"fengqiao-notify:recipient:{recipient}"

    def reserve(
        self, session: Session, *, recipient: str, sms_id: uuid.UUID, now: datetime
    ) -> timedelta | None:
        args: list[str | int] = [int(now.timestamp() * 1000), str(sms_id)]
        for span, limit in self.windows:
            args += [int(span.total_seconds() * 1000), limit]
        try:
            wait_ms = int(self.script(keys=[self.key(recipient)], args=args))
        except _REDIS_AWAY as exc:
            self.outage.failed(exc, doing="reserving an SMS slot; the database counts instead")
            self._database_agrees_until = now + max(span for span, _ in self.windows)
            return self.database.reserve(session, recipient=recipient, sms_id=sms_id, now=now)
        self.outage.recovered()
        if wait_ms > 0:
            return timedelta(milliseconds=math.ceil(wait_ms))
        if self._database_agrees_until is not None and now < self._database_agrees_until:
            wait = self.database.reserve(session, recipient=recipient, sms_id=sms_id, now=now)
            if wait is not None:
                self.release(recipient=recipient, sms_id=sms_id)
            return wait
        return None

    def release(self, *, recipient: str, sms_id: uuid.UUID) -> None:
        try:
            self.client.zrem(self.key(recipient), str(sms_id))
        except _REDIS_AWAY as exc:  # the slot expires with its window; the database is right
            self.outage.failed(exc, doing="giving back an SMS slot")


def recipient_limiter(rules: NotifyRules, *, redis_url: str | None) -> RecipientLimiter:
    """Redis when the system has it, else the database."""
    if redis_url:
        return RedisRecipientLimiter(rules, redis_url)
    return DatabaseRecipientLimiter(rules)
