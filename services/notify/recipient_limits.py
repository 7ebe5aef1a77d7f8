"""Per-number limits (1 a minute, 5 an hour, 10 a day), shared by every notify worker.

A worker reserves a slot for a number before it calls the provider. A message over a limit
is not dropped: the limiter says how long to wait, and the message waits in the database.
With Redis, one Lua script checks every window and takes the slot atomically. Without it,
the database counts the messages handed to a provider in each window, under a lock on the
number (PostgreSQL advisory lock; SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import math
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Protocol, cast

import redis
from sqlalchemy import select, text
from sqlalchemy.orm import Session

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
# window ms and limit. Returns 0 when the slot is taken, else the ms to wait.
_RESERVE = """
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


class RedisRecipientLimiter:
    """A sliding window per number in a Redis sorted set, checked and taken in one script."""

    def __init__(self, rules: NotifyRules, redis_url: str) -> None:
        self.windows = windows(rules)
        self.client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_RESERVE)

    @staticmethod
    def key(recipient: str) -> str:
        return f"fengqiao-notify:recipient:{recipient}"

    def reserve(
        self, session: Session, *, recipient: str, sms_id: uuid.UUID, now: datetime
    ) -> timedelta | None:
        args: list[str | int] = [int(now.timestamp() * 1000), str(sms_id)]
        for span, limit in self.windows:
            args += [int(span.total_seconds() * 1000), limit]
        wait_ms = int(self.script(keys=[self.key(recipient)], args=args))
        return timedelta(milliseconds=math.ceil(wait_ms)) if wait_ms > 0 else None

    def release(self, *, recipient: str, sms_id: uuid.UUID) -> None:
        self.client.zrem(self.key(recipient), str(sms_id))


def recipient_limiter(rules: NotifyRules, *, redis_url: str | None) -> RecipientLimiter:
    """Redis when the system has it, else the database."""
    if redis_url:
        return RedisRecipientLimiter(rules, redis_url)
    return DatabaseRecipientLimiter(rules)
