"""`Idempotency-Key` as the IETF draft (httpapi-idempotency-key-header) describes it.

- A key is scoped to the agency. The first request that uses it locks it (`locked_at`),
  in a transaction of its own, before any work.
- The answer is stored with the report, in one transaction: either both exist or neither.
- The same key and the same body again: the stored answer. The same key with another
  body: 422. The same key while the first request is in flight: 409. A lock older than the
  lease belongs to a request that died; the next request takes it over.
- A request that fails before storing an answer releases the key, so it can be retried.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import Database
from services.common.errors import DomainError
from services.intake.models import IdempotencyKey
from services.intake.rules import IntakeRules

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
    """Store the answer, in the transaction that made it."""
    row = _find(session, agency_id, key)
    if row is None:  # expired and purged while the request ran: keep the answer anyway
        raise KeyInFlight("the Idempotency-Key expired while the request ran")
    row.response_status, row.response_body = answer.status, answer.body
    row.response_headers, row.locked_at = answer.headers, None


def release(db: Database, *, agency_id: uuid.UUID, key: str) -> None:
    """Forget a key whose request failed before answering, so the client may retry."""
    with db.transaction() as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.agency_id == agency_id,
                IdempotencyKey.key == key,
                IdempotencyKey.response_status.is_(None),
            )
        )


def purge_expired(db: Database, *, now: datetime) -> int:
    """Delete keys past their time; returns how many."""
    with db.transaction() as session:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]
