"""Agency API keys: `fq_<key id>_<secret>`, the secret stored only as a SHA-256 hash.

The key id finds the row with an index; the hash is compared in constant time. Keys are
long random strings, so a fast hash is enough (a slow one only guards guessable passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from services.intake.models import Agency, ApiKey

KEY_PREFIX = "fq_"


KEY_KINDS = ("live", "test")


@dataclass(frozen=True)
class Caller:
    agency_id: uuid.UUID
    agency_name: str
    key_id: str
    test: bool = False  # called with a test key


# One round trip: the key's columns and its agency's name (not the ORM objects, whose lazy
# load of the agency would be a second query on every request). Built once and run on the
# connection: on every request, building it and the ORM's handling cost more than the query.
_KEY_AND_AGENCY = (
    select(ApiKey.secret_hash, ApiKey.revoked_at, ApiKey.kind, ApiKey.agency_id, Agency.name)
    .join(Agency, Agency.id == ApiKey.agency_id)
    .where(ApiKey.id == bindparam("key_id"))
)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session, *, agency: Agency, now: datetime, kind: str = "live", label: str | None = None
) -> str:
    """Create a key for `agency` and return it in full; only its hash is kept."""
    if kind not in KEY_KINDS:
        raise ValueError(f"a key is {' or '.join(KEY_KINDS)}")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            agency=agency,
            kind=kind,
            label=label,
            secret_hash=_hash(secret),
            created_at=now,
        )
    )
    return f"{KEY_PREFIX}{key_id}_{secret}"


def key_id_of(key: str) -> str:
    """The public id of a key (what `revoke-key` takes); the key itself works too."""
    return key.removeprefix(KEY_PREFIX).partition("_")[0]


def revoke_key(session: Session, *, key_id: str, now: datetime) -> ApiKey:
    """Revoke a key at once; raises LookupError if there is no such live key."""
    key = session.get(ApiKey, key_id_of(key_id))
    if key is None or key.revoked_at is not None:
        raise LookupError("no such live key")
    key.revoked_at = now
    return key


def authenticate(connection: Connection, authorization: str | None) -> Caller | None:
    """The caller an `Authorization: Bearer …` header proves, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
        return None
    key_id, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
    # Key ids are hex: anything else (a NUL from a form, say) cannot name a row.
    if not key_id or not secret or len(key_id) > 32 or not (key_id.isascii() and key_id.isalnum()):
        return None
    row = connection.execute(_KEY_AND_AGENCY, {"key_id": key_id}).one_or_none()
    if row is None:
        _hash(secret)  # spend the same time as a real comparison
        return None
    secret_hash, revoked_at, kind, agency_id, agency_name = row
    if not hmac.compare_digest(secret_hash, _hash(secret)) or revoked_at is not None:
        return None
    return Caller(agency_id=agency_id, agency_name=agency_name, key_id=key_id, test=kind == "test")
