"""The opt-out list: numbers that get nothing, filled by TD replies and by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.paging import paged
from services.notify.models import OptOut

# What residents reply to stop messages (退订 is "unsubscribe").
OPT_OUT_WORDS = frozenset({"TD", "T", "退订", "TD退订", "退"})


def is_opt_out_reply(text: str) -> bool:
    """Whether a reply asks for no more messages."""
    return "".join(text.split()).upper() in OPT_OUT_WORDS


def opted_out(session: Session, phone: str) -> bool:
    return session.get(OptOut, phone) is not None


def add(
    session: Session, *, phone: str, source: str, now: datetime, note: str | None = None
) -> bool:
    """Put `phone` on the list; False if it was there already."""
    if opted_out(session, phone):
        return False
    session.add(OptOut(phone=phone, source=source, note=note, created_at=now))
    return True


def remove(session: Session, *, phone: str) -> bool:
    """Take `phone` off the list (the resident asked staff to); False if it was not on it."""
    row = session.get(OptOut, phone)
    if row is None:
        return False
    session.delete(row)
    return True


def page(session: Session, *, offset: int, limit: int) -> tuple[list[OptOut], int]:
    """The list, newest first, one page and the total."""
    order = (OptOut.created_at.desc(), OptOut.phone)
    return paged(session, select(OptOut), order_by=order, offset=offset, limit=limit)
