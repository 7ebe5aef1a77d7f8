"""Rate limits shared by every intake process: per agency, and on residents' lookups.

With Redis, the `limits` library's moving window (one Lua script per hit). In the embedded
default, a fixed window counted in the database, one row per subject and window. A rule may
name several windows ("5/hour;20/month"): a request must fit all of them.

`limits` is imported when a limiter is built, not with this module: the intake worker
builds its one limiter (on residents' SMS questions) on its first question, and holds
neither `limits` nor the wrapt and deprecated it brings until then (docs/capacity.md).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import delete

from services.common.db import Database, insert_on_conflict
from services.intake.models import RateLimitWindow

if TYPE_CHECKING:
    from limits import RateLimitItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until a request would be allowed again
    limit: int = 0
    # False when the count could not be read (Redis away): allowed, but unguarded.
    checked: bool = True


class RateLimiter(Protocol):
    def hit(self, subject: str, now: datetime) -> Verdict:
        """Count one request by `subject`; whether it is allowed."""
        ...

    def peek(self, subject: str, now: datetime) -> Verdict:
        """Whether one more request by `subject` would be allowed, counting nothing."""
        ...


class RedisRateLimiter:
    """A moving window in Redis, exact across processes and machines."""

    def __init__(self, rule: str, redis_url: str) -> None:
        from limits import parse
        from limits.storage import RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        self.item: RateLimitItem = parse(rule)
        # Short timeouts and no client retries: a request waits at most a second on a
        # Redis that is away, then goes through unchecked (see `hit`).
        client_options: dict[str, Any] = {
            "socket_connect_timeout": 1,
            "socket_timeout": 1,
            "retry": Retry(NoBackoff(), 0),
        }
        storage = RedisStorage(redis_url, key_prefix="fengqiao-intake", **client_options)
        self.limiter = MovingWindowRateLimiter(storage)

    def hit(self, subject: str, now: datetime) -> Verdict:
        return self._ask(self.limiter.hit, subject)

    def peek(self, subject: str, now: datetime) -> Verdict:
        return self._ask(self.limiter.test, subject)

    def _ask(self, question: Any, subject: str) -> Verdict:
        try:
            if question(self.item, subject):
                return Verdict(True, limit=self.item.amount)
            stats = self.limiter.get_window_stats(self.item, subject)
        except RedisError as exc:
            # Fail open: a report must still be accepted while Redis is away (the outbox
            # holds its messages until then); only the rate goes unchecked meanwhile.
            log.warning("rate limit not checked, Redis unreachable: %s", exc)
            return Verdict(True, limit=self.item.amount, checked=False)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return Verdict(False, retry_after=wait, limit=self.item.amount)


class DatabaseRateLimiter:
    """A fixed window counted with one upsert per request; old windows are pruned as it goes."""

    def __init__(self, rule: str, db: Database) -> None:
        from limits import parse

        self.item: RateLimitItem = parse(rule)
        self.db = db
        self.period = self.item.get_expiry()

    def _window(self, now: datetime) -> datetime:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % self.period, UTC)

    def peek(self, subject: str, now: datetime) -> Verdict:
        start = self._window(now)
        with self.db.sessions() as session:
            row = session.get(RateLimitWindow, (subject, start))
        return self._verdict(row.hits + 1 if row is not None else 1, start, now)

    def hit(self, subject: str, now: datetime) -> Verdict:
        start = self._window(now)
        upsert = (
            insert_on_conflict(self.db.engine.dialect, RateLimitWindow)
            .values(subject=subject, window_start=start, hits=1)
            .on_conflict_do_update(
                index_elements=["subject", "window_start"],
                set_={"hits": RateLimitWindow.hits + 1},
            )
            .returning(RateLimitWindow.hits)
        )
        with self.db.transaction() as session:
            hits = session.execute(upsert).scalar_one()
            if hits == 1:  # the first request of a window clears the agency's old ones
                session.execute(
                    delete(RateLimitWindow).where(
                        RateLimitWindow.subject == subject, RateLimitWindow.window_start < start
                    )
                )
        return self._verdict(hits, start, now)

    def _verdict(self, hits: int, start: datetime, now: datetime) -> Verdict:
        if hits <= self.item.amount:
            return Verdict(True, limit=self.item.amount)
        reset = start + timedelta(seconds=self.period)
        return Verdict(
            False,
            retry_after=max(1, math.ceil((reset - now).total_seconds())),
            limit=self.item.amount,
        )


class Windows:
    """Several windows over one subject ("5/hour;20/month"): allowed only if each allows.

    Each window counts under a subject of its own, so the database's rows never mix them.
    """

    def __init__(self, limiters: list[tuple[str, RateLimiter]]) -> None:
        self.limiters = limiters

    def hit(self, subject: str, now: datetime) -> Verdict:
        return self._worst([lim.hit(f"{subject}@{name}", now) for name, lim in self.limiters])

    def peek(self, subject: str, now: datetime) -> Verdict:
        return self._worst([lim.peek(f"{subject}@{name}", now) for name, lim in self.limiters])

    @staticmethod
    def _worst(verdicts: list[Verdict]) -> Verdict:
        refused = [v for v in verdicts if not v.allowed]
        if refused:
            return max(refused, key=lambda v: v.retry_after)
        return Verdict(
            True, limit=min(v.limit for v in verdicts), checked=all(v.checked for v in verdicts)
        )


class OnFirstUse:
    """A limiter built on its first hit or peek (by one thread, whichever asks first).

    For a process that limits only a rare path: it loads `limits` when that path is taken.
    A rule is then parsed, and a bad one refused, on that first use, not at start.
    """

    def __init__(self, build: Callable[[], RateLimiter]) -> None:
        self._build = build
        self._limiter: RateLimiter | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._limiter is not None

    def limiter(self) -> RateLimiter:
        """The limiter, built now if this is its first use."""
        if self._limiter is None:
            with self._lock:
                if self._limiter is None:
                    self._limiter = self._build()
        return self._limiter

    def hit(self, subject: str, now: datetime) -> Verdict:
        return self.limiter().hit(subject, now)

    def peek(self, subject: str, now: datetime) -> Verdict:
        return self.limiter().peek(subject, now)


def rate_limiter(rule: str, *, redis_url: str | None, db: Database) -> RateLimiter:
    """Redis when the system has it, else the service's database; one or several windows."""
    from limits import parse_many

    items = parse_many(rule)
    if len(items) == 1:
        return _one_window(rule, redis_url=redis_url, db=db)
    return Windows(
        [(str(item), _one_window(str(item), redis_url=redis_url, db=db)) for item in items]
    )


def _one_window(rule: str, *, redis_url: str | None, db: Database) -> RateLimiter:
    if redis_url:
        return RedisRateLimiter(rule, redis_url)
    return DatabaseRateLimiter(rule, db)
