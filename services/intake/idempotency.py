"""`Idempotency-Key` as the IETF draft (httpapi-idempotency-key-header) describes it.

- A key is scoped to the agency. The first request that uses it locks it (`locked_at`),
  committed before any work: for a new key, one `INSERT … ON CONFLICT DO NOTHING`.
- The answer is stored with the report, in one transaction: either both exist or neither.
- The same key and the same body again: the stored answer. The same key with another
  body: 422. The same key while the first request is in flight: 409.
- The lease is short (5 s) and renewed while the request runs (`kept`), so a live request
  never loses its key however long it takes, and the key of a request cut off by a crash
  is free again within seconds: a lock older than the lease belongs to a request that
  died, and the next request takes it over.
- A request that fails before storing an answer releases the key at once, so it can be
  retried; if it cannot (the database went away), the lease runs out instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.clock import Clock
from services.common.db import Database, insert_on_conflict
from services.common.errors import DomainError
from services.intake.models import IdempotencyKey
from services.intake.rules import IntakeRules

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255


class KeyReused(DomainError):
    status = 422


class KeyInFlight(DomainError):
    status = 409


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def fingerprint(body: Any) -> str:
    """The same JSON, whatever its key order or spacing, gives the same fingerprint."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(session: Session, agency_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.agency_id == agency_id, IdempotencyKey.key == key)
        .with_for_update()
    )


def _take_new(
    db: Database,
    *,
    agency_id: uuid.UUID,
    key: str,
    body_fingerprint: str,
    rules: IntakeRules,
    now: datetime,
) -> bool:
    """Take a key nobody has used, in one statement; False if it exists (in any state).

    Nearly every key is new, so this is the whole of `begin` for nearly every request:
    one autocommit `INSERT … ON CONFLICT DO NOTHING` instead of a transaction that looks
    for the row first. The lock must be committed before the work starts (a twin has to
    see it), so this statement, unlike the outbox's marks, waits for the disk.
    """
    with db.autocommit() as conn:
        taken = conn.execute(
            insert_on_conflict(conn.dialect, IdempotencyKey)
            .values(
                agency_id=agency_id,
                key=key,
                fingerprint=body_fingerprint,
                locked_at=now,
                created_at=now,
                expires_at=now + rules.idempotency_ttl,
            )
            .on_conflict_do_nothing(index_elements=["agency_id", "key"])
            .returning(IdempotencyKey.id)
        ).first()
    return taken is not None


def begin(
    db: Database,
    *,
    agency_id: uuid.UUID,
    key: str,
    body_fingerprint: str,
    rules: IntakeRules,
    now: datetime,
) -> StoredAnswer | None:
    """Lock `key` for this request (None), or return the first request's stored answer."""
    if _take_new(
        db, agency_id=agency_id, key=key, body_fingerprint=body_fingerprint, rules=rules, now=now
    ):
        return None
    for _ in range(2):  # a second pass only after losing an insert race
        try:
            with db.transaction() as session:
                row = _find(session, agency_id, key)
                if row is not None and row.expires_at <= now:
                    session.delete(row)
                    session.flush()
                    row = None
                if row is None:
                    session.add(
                        IdempotencyKey(
                            agency_id=agency_id,
                            key=key,
                            fingerprint=body_fingerprint,
                            locked_at=now,
                            created_at=now,
                            expires_at=now + rules.idempotency_ttl,
                        )
                    )
                    return None
                if row.fingerprint != body_fingerprint:
                    raise KeyReused("this Idempotency-Key was used with a different body")
                if row.response_status is not None:
                    return StoredAnswer(
                        row.response_status, row.response_body or {}, row.response_headers or {}
                    )
                if row.locked_at is not None and now - row.locked_at < rules.idempotency_lease:
                    raise KeyInFlight("a request with this Idempotency-Key is still in flight")
                row.locked_at = now  # its first request died: this one takes over
                return None
        except IntegrityError:
            continue  # another request inserted the key first: look again
    raise KeyInFlight("a request with this Idempotency-Key is still in flight")


def complete(session: Session, *, agency_id: uuid.UUID, key: str, answer: StoredAnswer) -> None:
    """Store the answer, in the transaction that made it (one UPDATE)."""
    stored = session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.agency_id == agency_id, IdempotencyKey.key == key)
        .values(
            response_status=answer.status,
            response_body=answer.body,
            response_headers=answer.headers,
            locked_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not stored.rowcount:  # type: ignore[attr-defined]
        # Expired and purged while the request ran: the report is rolled back with it.
        raise KeyInFlight("the Idempotency-Key expired while the request ran")


def _where_unanswered(agency_id: uuid.UUID, key: str) -> list[Any]:
    return [
        IdempotencyKey.agency_id == agency_id,
        IdempotencyKey.key == key,
        IdempotencyKey.response_status.is_(None),
    ]


def renew(db: Database, *, agency_id: uuid.UUID, key: str, now: datetime) -> None:
    """Move the lock of a key still in flight to `now`, so it is not taken over."""
    with db.transaction() as session:
        session.execute(
            update(IdempotencyKey).where(*_where_unanswered(agency_id, key)).values(locked_at=now)
        )


@contextmanager
def kept(
    db: Database, *, agency_id: uuid.UUID, key: str, lease: timedelta, clock: Clock
) -> Iterator[None]:
    """Renew the key's lock three times a lease while the block runs."""
    done = threading.Event()

    def keep() -> None:
        while not done.wait(lease.total_seconds() / 3):
            try:
                renew(db, agency_id=agency_id, key=key, now=clock.now())
            except Exception as exc:  # the request meets the same failure and answers it
                log.debug("could not renew Idempotency-Key lease: %s", exc)

    # Not joined on the way out: a renewal after the answer or the release changes nothing.
    threading.Thread(target=keep, name="idempotency-lease", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def release(db: Database, *, agency_id: uuid.UUID, key: str) -> None:
    """Forget a key whose request failed before answering, so the client may retry."""
    with db.transaction() as session:
        session.execute(delete(IdempotencyKey).where(*_where_unanswered(agency_id, key)))


def purge_expired(db: Database, *, now: datetime) -> int:
    """Delete keys past their time; returns how many."""
    with db.transaction() as session:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]
