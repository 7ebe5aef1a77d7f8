"""Slowing down guessing: too many refused sign-ins for an account or from an address.

Both are counted over a sliding window in the console's database, so every worker process
sees the same count. Over the limit, the sign-in is refused without checking the password
until the oldest failure in the window has aged out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.console.models import FailedSignIn


@dataclass(frozen=True)
class ThrottleRules:
    window: timedelta = timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 20


def keys(*, staff_id: str, address: str) -> dict[str, str]:
    return {"account": f"account:{staff_id}", "address": f"address:{address}"}


def wait_before_next(
    session: Session, *, staff_id: str, address: str, now: datetime, rules: ThrottleRules
) -> timedelta | None:
    """How long this account or address must wait, or None if it may try now."""
    since = now - rules.window
    limits = {"account": rules.per_account, "address": rules.per_address}
    waits: list[timedelta] = []
    for kind, key in keys(staff_id=staff_id, address=address).items():
        count, oldest = session.execute(
            select(func.count(), func.min(FailedSignIn.at)).where(
                FailedSignIn.key == key, FailedSignIn.at > since
            )
        ).one()
        if count >= limits[kind] and oldest is not None:
            waits.append(oldest + rules.window - now)
    return max(waits) if waits else None


def record_failure(session: Session, *, staff_id: str, address: str, now: datetime) -> None:
    for key in keys(staff_id=staff_id, address=address).values():
        session.add(FailedSignIn(key=key, at=now))


def forget_account(session: Session, *, staff_id: str) -> None:
    """A good sign-in clears the account's count (the address keeps its own)."""
    session.execute(delete(FailedSignIn).where(FailedSignIn.key == f"account:{staff_id}"))


def prune(session: Session, *, now: datetime, rules: ThrottleRules) -> None:
    session.execute(delete(FailedSignIn).where(FailedSignIn.at <= now - rules.window))
