"""One page of a query and the total, as every list endpoint answers."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def paged(
    session: Session, query: Select[T], *, order_by: Any, offset: int, limit: int
) -> tuple[list[T], int]:
    """The rows at `offset` (at most `limit`) in `order_by` order, and how many there are."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if offset >= total:  # also keeps an absurd page number from reaching the database
        return [], total
    rows = session.scalars(query.order_by(*order_by).offset(offset).limit(limit)).all()
    return list(rows), total
