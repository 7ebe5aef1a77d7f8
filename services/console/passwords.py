"""Staff passwords: argon2id hashes in the console's database."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from services.console.models import StaffPassword

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current defaults


def set_password(session: Session, *, staff_id: str, password: str, now: datetime) -> None:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    row = session.get(StaffPassword, staff_id)
    hashed = _hasher.hash(password)
    if row is None:
        session.add(StaffPassword(staff_id=staff_id, hash=hashed, set_at=now))
    else:
        row.hash, row.set_at = hashed, now


def check_password(session: Session, *, staff_id: str, password: str) -> bool:
    """True if `password` is the staff member's; hashes made with older parameters are renewed."""
    row = session.get(StaffPassword, staff_id)
    if row is None:
        _hasher.hash(password)  # as slow as a real check: no telling which ids have passwords
        return False
    try:
        _hasher.verify(row.hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(row.hash):
        row.hash = _hasher.hash(password)
    return True


def has_any_password(session: Session) -> bool:
    return session.query(StaffPassword.staff_id).first() is not None
