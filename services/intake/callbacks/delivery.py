"""Sending one queued callback: sign it, POST it, and record what came of it.

Nothing here knows Celery: `deliver` makes one attempt and says whether, and after how
long, to make another; the task in `tasks.py` schedules it. No transaction is open while
the partner is called, so a slow partner holds no lock. A worker that dies between the
POST and recording its outcome sends the delivery again: delivery is at least once, and
partners deduplicate on `X-Fengqiao-Delivery`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.common.clock import Clock
from services.common.db import Database
from services.common.messaging import Messaging
from services.intake.callbacks import destinations
from services.intake.callbacks.service import DELIVER_CALLBACK, signature_header
from services.intake.models import AgencyCallback, CallbackDelivery

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
USER_AGENT = "fengqiao-intake"
MAX_ATTEMPTS = 11  # the first POST and ten retries
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
RETRYABLE_STATUSES = frozenset({408, 429})
_ERROR_LENGTH = 300  # the width of `CallbackDelivery.last_error`

Outcome = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True)
class Attempt:
    """What one POST came to, and the error to record if it was not delivered."""

    outcome: Outcome
    error: str | None = None


@dataclass(frozen=True)
class Result:
    """A delivery's status after `deliver`; `retry_in` is set when it should be tried again."""

    status: str  # pending, delivered, failed; skipped (not pending) or not_due (not yet)
    retry_in: int | None = None


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed POST: 30 s, doubling, at most an hour."""
    return int(min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


def encode_body(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for a stored body."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(
    delivery_id: uuid.UUID, body: bytes, *, secret: str, timestamp: int
) -> dict[str, str]:
    """The request headers of one attempt, its signature among them."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Fengqiao-Delivery": str(delivery_id),
        "X-Fengqiao-Signature": signature_header(secret, body, timestamp),
    }


def classify(status_code: int) -> Attempt:
    """What an answer means: 2xx delivered; 408, 429 and 5xx worth retrying; the rest failed."""
    if 200 <= status_code < 300:
        return Attempt("delivered")
    error = f"HTTP {status_code}"
    if status_code in RETRYABLE_STATUSES or status_code >= 500:
        return Attempt("retry", error)
    if 300 <= status_code < 400:
        error += ": redirects are not followed, register the final URL"
    return Attempt("failed", error)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_LENGTH]


def post(
    url: str, body: bytes, headers: Mapping[str, str], *, timeout: float = TIMEOUT_SECONDS
) -> Attempt:
    """POST `body` to `url` once, following no redirect, and classify the outcome."""
    # Imported on the first callback: a station whose agencies ask for none never loads an
    # HTTP client into its intake workers (docs/capacity.md, memory).
    import httpx

    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=dict(headers)) as response,
        ):
            # The answer's body is never read: a partner cannot make a worker download much.
            return classify(response.status_code)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return Attempt("failed", _describe(exc))
    except httpx.TransportError as exc:  # refused, reset, timed out: the partner may recover
        return Attempt("retry", _describe(exc))


def _prepare(
    session: Session, delivery_id: uuid.UUID, now: datetime
) -> tuple[str, str, bytes] | Result:
    """(url, secret, body) of a pending delivery, or the Result if there is nothing to send."""
    row = session.get(CallbackDelivery, delivery_id)
    if row is None or row.status != "pending":
        return Result("skipped")
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return Result("not_due")
    # The registration as it is now: a changed URL or a rotated secret applies at once.
    callback = session.get(AgencyCallback, row.agency_id)
    if callback is None:
        row.status, row.last_error = "failed", "the agency removed its callback"
        return Result("failed")
    return callback.url, callback.signing_secret, encode_body(row.body)


def _record(session: Session, delivery_id: uuid.UUID, attempt: Attempt, clock: Clock) -> Result:
    """Count the attempt and move the delivery on; a twin that finished first wins."""
    row = session.get_one(CallbackDelivery, delivery_id, with_for_update=True)
    if row.status != "pending":
        return Result(row.status)
    row.attempts += 1
    row.next_attempt_at = row.dispatched_at = None
    if attempt.outcome == "delivered":
        row.status, row.delivered_at = "delivered", clock.now()
        return Result("delivered")
    row.last_error = (attempt.error or "")[:_ERROR_LENGTH]
    if attempt.outcome == "retry" and row.attempts < MAX_ATTEMPTS:
        wait = retry_delay(row.attempts)
        row.next_attempt_at = clock.now() + timedelta(seconds=wait)  # `dispatch_due` sends it
        return Result("pending", retry_in=wait)
    row.status = "failed"
    log.warning("callback delivery %s failed: %s", delivery_id, row.last_error)
    return Result("failed")


def deliver(
    *,
    db: Database,
    clock: Clock,
    delivery_id: uuid.UUID,
    allow_private: bool = False,
    timeout: float = TIMEOUT_SECONDS,
) -> Result:
    """Make one attempt at a pending delivery and record it; anything else is left alone."""
    with db.transaction() as session:
        prepared = _prepare(session, delivery_id, clock.now())
    if isinstance(prepared, Result):
        return prepared
    url, secret, body = prepared
    headers = headers_for(delivery_id, body, secret=secret, timestamp=int(clock.now().timestamp()))
    try:
        destinations.check(url, allow_private=allow_private)
    except destinations.ForbiddenDestination as exc:
        attempt = Attempt("failed", str(exc))
    else:
        attempt = post(url, body, headers, timeout=timeout)
    with db.transaction() as session:
        return _record(session, delivery_id, attempt, clock)


def dispatch_due(
    *, messaging: Messaging, clock: Clock, redispatch_after: timedelta, limit: int = 200
) -> int:
    """Queue every pending delivery whose attempt is due and that no worker holds."""
    now = clock.now()
    with messaging.transaction() as session:
        due = session.scalars(
            select(CallbackDelivery)
            .where(
                CallbackDelivery.status == "pending",
                CallbackDelivery.next_attempt_at <= now,
                or_(
                    CallbackDelivery.dispatched_at.is_(None),
                    CallbackDelivery.dispatched_at < now - redispatch_after,
                ),
            )
            .order_by(CallbackDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in due:
            row.dispatched_at = now
            messaging.publish(session, DELIVER_CALLBACK, {"delivery_id": row.id})
        return len(due)
