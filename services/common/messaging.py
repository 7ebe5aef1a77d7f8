"""Transactional outbox and idempotent consumers.

A service that changes its database and must tell another service writes the message to
its `outbox` table in the same transaction (`Messaging.publish`). After the commit the
rows are handed to the broker at once; a periodic relay picks up anything the broker did
not take (it was down, the process died), so an accepted change is never lost. Delivery
is at least once: every consumer records the `message_id` it handled in
`processed_messages`, in the transaction of its own effects, and does nothing the second time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from celery import Celery, Task
from kombu.exceptions import OperationalError as BrokerError
from marshmallow import ValidationError
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.clock import Clock
from services.common.contracts import Contract
from services.common.db import Database
from services.common.outages import BROKER

log = logging.getLogger(__name__)

_PENDING_KEY = "outbox_pending"
# After the broker refuses a message, the fast path stands aside this long and leaves the
# rows to the periodic relay, so that requests do not each wait for a dead broker.
FAST_PATH_PAUSE_SECONDS = 10.0


class OutboxMixin:
    """Columns of a service's outbox table."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)


class ProcessedMessageMixin:
    """Columns of a service's record of messages it has already handled."""

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime]


Handler = Callable[[Session, dict[str, Any]], object]


class Messaging:
    """One service's side of the broker: outbox writes, relay, and consumers."""

    def __init__(
        self,
        *,
        service: str,
        db: Database,
        celery: Celery,
        clock: Clock,
        outbox: type[OutboxMixin],
        processed: type[ProcessedMessageMixin],
    ) -> None:
        self.service = service
        self.db = db
        self.celery = celery
        self.clock = clock
        self.outbox = outbox
        self.processed = processed
        self._fast_path_paused_until = 0.0

    # -- writing -----------------------------------------------------------------------

    def publish(self, session: Session, contract: Contract, payload: dict[str, Any]) -> uuid.UUID:
        """Write a message to the outbox in the caller's transaction; returns its id."""
        message_id = uuid.uuid4()
        now = self.clock.now()
        body = contract.dump(
            {**payload, "message_id": message_id, "version": contract.version, "sent_at": now}
        )
        session.add(
            self.outbox(id=message_id, task=contract.task, payload=body, created_at=now)  # type: ignore[call-arg]
        )
        session.info.setdefault(_PENDING_KEY, []).append(message_id)
        return message_id

    @contextmanager
    def transaction(
        self, *, defer: Callable[[Callable[[], object]], None] | None = None
    ) -> Iterator[Session]:
        """A transaction whose outbox messages are handed to the broker right after commit.

        `defer` postpones that hand-over, e.g. until an HTTP response has been sent.
        """
        with self.db.transaction() as session:
            yield session
            pending: list[uuid.UUID] = list(session.info.pop(_PENDING_KEY, []))
        if pending and time.monotonic() >= self._fast_path_paused_until:
            if defer is None:
                self.relay(ids=pending)
            else:
                defer(lambda: self.relay(ids=pending))

    # -- relaying ----------------------------------------------------------------------

    def relay(self, *, ids: list[uuid.UUID] | None = None, limit: int = 200) -> int:
        """Publish unpublished outbox rows (only `ids` if given); returns how many went out.

        Rows are locked while they are published (SKIP LOCKED where the database has it),
        so two relays do not normally publish the same row; if one ever does, the
        receiver's record of processed messages makes the copy harmless.
        """
        outbox = self.outbox
        query = (
            select(outbox)
            .where(outbox.published_at.is_(None))
            .order_by(outbox.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if ids is not None:
            query = query.where(outbox.id.in_(ids))
        sent = 0
        with self.db.transaction() as session:
            for row in session.scalars(query):
                row.attempts += 1
                try:
                    self.celery.send_task(
                        row.task,
                        kwargs={"message": row.payload},
                        task_id=str(row.id),
                        retry=ids is None,
                    )
                except (BrokerError, OSError) as exc:
                    BROKER.failed(exc, doing=f"publishing {row.task}")  # once an outage
                    if ids is not None:
                        self._fast_path_paused_until = time.monotonic() + FAST_PATH_PAUSE_SECONDS
                    break
                BROKER.recovered()
                row.published_at = self.clock.now()
                sent += 1
        return sent

    # -- consuming ---------------------------------------------------------------------

    def consumer(self, contract: Contract) -> Callable[[Handler], Task[Any, Any]]:
        """Register `handler(session, message)` as the Celery task of `contract`.

        The handler runs inside one transaction with the record that the message was
        handled, so it runs to completion exactly once per message id however often the
        broker delivers it. Malformed messages are logged and dropped (retrying cannot fix
        them); anything else is retried with backoff.
        """

        def register(handler: Handler) -> Task[Any, Any]:
            def run(task: Task[Any, Any], message: dict[str, Any]) -> None:
                try:
                    loaded = contract.load(message)
                except ValidationError as exc:
                    log.error("dropping malformed %s message: %s", contract.task, exc.messages)
                    return
                self.handle_once(contract, loaded, handler)

            run.__name__ = handler.__name__
            run.__doc__ = handler.__doc__
            # shared=False: Celery would otherwise add the task to every app in the
            # process, bound to this service's database.
            task: Task[Any, Any] = self.celery.task(
                shared=False,
                name=contract.task,
                bind=True,
                autoretry_for=(Exception,),
                dont_autoretry_for=(ValidationError,),
                retry_backoff=True,
                retry_backoff_max=300,
                retry_jitter=True,
                max_retries=12,
            )(run)
            return task

        return register

    def handle_once(self, contract: Contract, message: dict[str, Any], handler: Handler) -> bool:
        """Run `handler` for `message` unless it already ran; True if it ran now."""
        message_id: uuid.UUID = message["message_id"]
        try:
            with self.transaction() as session:
                if session.get(self.processed, message_id) is not None:
                    return False
                session.add(
                    self.processed(  # type: ignore[call-arg]
                        message_id=message_id, task=contract.task, processed_at=self.clock.now()
                    )
                )
                session.flush()  # a concurrent twin fails here, before any effect
                handler(session, message)
        except IntegrityError:
            with self.db.transaction() as session:
                if session.get(self.processed, message_id) is not None:
                    log.info("%s %s was handled by another worker", contract.task, message_id)
                    return False
            raise
        return True
