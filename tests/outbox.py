"""Reading what a service wrote to its outbox, for assertions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.common.runtime import Runtime


def outbox_where(runtime: Runtime, *path: str, equals: str) -> list[tuple[str, dict[str, Any]]]:
    """(task, message) of each outbox row whose JSON at `path` equals `equals`, oldest first."""
    outbox = runtime.messaging.outbox
    value = outbox.payload[path[0] if len(path) == 1 else path].as_string()
    with runtime.db.sessions() as session:
        rows = session.scalars(
            select(outbox).where(value == equals).order_by(outbox.created_at)
        ).all()
        return [(row.task, row.payload) for row in rows]
