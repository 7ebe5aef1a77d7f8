"""Transactional outbox and idempotent consumers.

A service that changes its database and must tell another service writes the message to
its `outbox` table in the same transaction (`Messaging.publish`). After the commit the
rows are handed to the broker at once; a periodic relay picks up anything the broker did
not take (it was down, the process died), so an accepted change is never lost. Delivery
is at least once: every consumer records the `message_id` it handled in
`processed_messages`, in the transaction of its own effects, and does nothing the second time.

A consumer whose handler fails acknowledges the message and writes it to its own outbox
with a `due_at` (the backoff) and the tries so far; the relay sends it again when it is
due. No worker holds a message while it waits, so the broker's visibility timeout is only
as long as a task may run, and a message whose worker died is redelivered within minutes.

No message is dropped. One that fails its contract, or whose handler keeps failing, is
parked in the consumer's `dead_letters` table, from where `fengqiao messages replay` sends
it again. Published outbox rows and processed ids are pruned once no redelivery can come.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from celery import Celery, Task
from celery.utils.time import get_exponential_backoff_interval
from kombu import Producer
from kombu.exceptions import BatchPublishError  # type: ignore[attr-defined]  # kombu 5.7; the stubs are older
from kombu.exceptions import OperationalError as BrokerError
from marshmallow import ValidationError
from sqlalchemy import (
    Engine,
    Executable,
    Row,
    String,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common import outbox_marks
from services.common.celery_app import (
    DATABASE_AWAY_RETRY_SECONDS,
    LONGEST_REDELIVERY_SECONDS,
    RETRY_BACKOFF_MAX_SECONDS,
)
from services.common.clock import Clock
from services.common.contracts import Contract
from services.common.db import Database, autocommit, insert_on_conflict
from services.common.logging import mask_personal_data
from services.common.one_statement import GatheredInserts
from services.common.outages import BROKER, DATABASE, is_database_outage

log = logging.getLogger(__name__)

_PENDING_KEY = "outbox_pending"
_BATCHED_KEY = "outbox_batched"  # in `Messaging.transaction`: rows are inserted at its end
_GATHERED_KEY = "inserts_at_commit"  # `insert_at_commit`'s rows
_CONNECTED_KEY = "transaction_connected"  # the transaction has sent something
# After the broker refuses a message, the fast path stands aside this long and leaves the
# rows to the periodic relay, so that requests do not each wait for a dead broker.
FAST_PATH_PAUSE_SECONDS = 10.0
# The periodic relay leaves a new row this long to the fast path of the transaction that
# wrote it, which hands it over right after the commit without locking it. A row older
# than this, or one the fast path tried and the broker refused, is the relay's.
FAST_PATH_GRACE = timedelta(seconds=5)
# Errors that trying again cannot fix: the message is parked at once. A contract's
# ValidationError covers a newer version than the consumer knows (NewerVersion).
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (ValidationError, DataError)
DEFAULT_MAX_RETRIES = 12
DEFAULT_RETENTION = timedelta(days=7)
_ERROR_CHARS = 2000
# Dead letters are keyed by message id; a message too malformed to have one gets an id
# derived from its content, so parking it twice still finds one row.
_UNNAMED_MESSAGES = uuid.UUID("6f1d7e0a-3c57-4a8e-9a57-1b0c2b7e5d10")


@dataclass(frozen=True)
class _Written:
    """An outbox row written in the current transaction, kept to hand over after its commit."""

    id: uuid.UUID
    task: str
    payload: dict[str, Any]
    created_at: datetime


def _outbox_row(row: _Written) -> dict[str, Any]:
    # Rows, not objects: the unit of work cost more than the insert.
    return {"id": row.id, "task": row.task, "payload": row.payload, "created_at": row.created_at}


def insert_at_commit(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` with the outbox rows of this `Messaging.transaction`, at its end.

    In one statement with them (`one_statement`), so nothing in the transaction reads
    them back. Outside `Messaging.transaction` nothing would write them, so that is an
    error, not a silent loss.
    """
    if not session.info.get(_BATCHED_KEY):
        raise RuntimeError("insert_at_commit needs a session of Messaging.transaction")
    gathered = session.info.get(_GATHERED_KEY)
    if gathered is None:
        gathered = session.info[_GATHERED_KEY] = GatheredInserts()
    gathered.add(table, rows)


def read_committed(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The rows of a plain read (no lock) in a `Messaging.transaction`, of what is committed.

    Before the transaction has sent anything, on PostgreSQL, it goes on an autocommit
    connection of its own, so no BEGIN goes out for it: a transaction that then writes
    only its gathered rows (`insert_at_commit`, `Messaging.publish`) stays that one
    statement. A read at the start of a READ COMMITTED transaction sees the same. Later,
    or on SQLite, it is a read of the transaction. It never sees what the session holds
    unflushed.
    """
    bind = session.get_bind()
    if not _connected(session) and isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        with autocommit(bind) as conn:
            return conn.execute(statement, params).all()
    return session.execute(statement, params).all()


def _connected(session: Session) -> bool:
    """Whether the session's transaction has sent anything to the database yet."""
    return bool(session.info.get(_CONNECTED_KEY))


def _note_connected(session: Session, _transaction: object, _connection: object) -> None:
    session.info[_CONNECTED_KEY] = True


class OutboxMixin:
    """Columns of a service's outbox table."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # A consumer's retry of a message it failed: not sent before `due_at`, and how many
    # tries the consumer has made (handed to it again with the message).
    due_at: Mapped[datetime | None]
    tries: Mapped[int] = mapped_column(default=0, server_default="0")


class ProcessedMessageMixin:
    """Columns of a service's record of messages it has already handled."""

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime] = mapped_column(index=True)


class DeadLetterMixin:
    """Columns of a service's parked messages: ones it could not handle, kept to replay."""

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), index=True)  # "waiting" or "replayed"
    replayed_at: Mapped[datetime | None]


def dead_letter_key(message: object, task_id: str | None) -> uuid.UUID:
    """The id a message is parked under: its message id, its task id, or one from its content."""
    for candidate in (message.get("message_id") if isinstance(message, dict) else None, task_id):
        try:
            return uuid.UUID(str(candidate))
        except ValueError:
            continue
    return uuid.uuid5(_UNNAMED_MESSAGES, json.dumps(message, sort_keys=True, default=str))


def describe(error: BaseException) -> str:
    """An error as stored with a dead letter: its kind and text, personal data masked."""
    text = error.messages if isinstance(error, ValidationError) else error
    return mask_personal_data(f"{type(error).__name__}: {text}")[:_ERROR_CHARS]


Handler = Callable[[Session, dict[str, Any]], object]
KWARGS_REPR = "{'message': ...}"


def lazy_commit(session: Session) -> None:
    """Let this transaction's commit return before its WAL record is on disk (PostgreSQL).

    Only for writes whose loss in a database crash repeats work that is safe to repeat:
    a relay's `published_at` marks (lost, the row is sent again and the consumer's record
    of processed messages drops the copy). Never for a report, a case or a processed id.
    The commit still happens in order and atomically; only the wait for the disk goes.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO off"))


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
        dead_letters: type[DeadLetterMixin],
        max_retries: int = DEFAULT_MAX_RETRIES,
        retention: timedelta = DEFAULT_RETENTION,
        mark_delay: float = outbox_marks.DEFAULT_DELAY_SECONDS,
    ) -> None:
        if retention.total_seconds() <= LONGEST_REDELIVERY_SECONDS:
            raise ValueError(
                f"messages must be kept longer than a redelivery can take"
                f" ({LONGEST_REDELIVERY_SECONDS} s); {retention} is too short"
            )
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative")
        self.service = service
        self.db = db
        self.celery = celery
        self.clock = clock
        self.outbox = outbox
        self.processed = processed
        self.dead_letters = dead_letters
        self.max_retries = max_retries
        self.retention = retention
        self.retry_backoff_max = RETRY_BACKOFF_MAX_SECONDS
        self._fast_path_paused_until = 0.0
        self._outbox_table = cast(Table, outbox.__table__)  # type: ignore[attr-defined]
        self._processed_table = cast(Table, processed.__table__)  # type: ignore[attr-defined]
        # Tells `transaction` whether anything else was sent in it (SQLAlchemy's own
        # record of a session's connections is private).
        if not event.contains(db.sessions, "after_begin", _note_connected):
            event.listen(db.sessions, "after_begin", _note_connected)
        # Built once: on the hot path, building the statement cost as much as running it.
        self._mark_sent = self._marking(sent=True)
        self._mark_tried = self._marking(sent=False)
        processed = self.processed
        self._claim = (
            insert_on_conflict(db.engine.dialect, processed)
            .values(
                message_id=bindparam("message_id"),
                task=bindparam("task"),
                processed_at=bindparam("at"),
            )
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(processed.message_id)
        )
        self._sent_marks = outbox_marks.WriteBehindMarks(self._mark_published, delay=mark_delay)

    # -- writing -----------------------------------------------------------------------

    def publish(self, session: Session, contract: Contract, payload: dict[str, Any]) -> uuid.UUID:
        """Write a message to the outbox in the caller's transaction; returns its id."""
        message_id = uuid.uuid4()
        now = self.clock.now()
        body = contract.dump(
            {**payload, "message_id": message_id, "version": contract.version, "sent_at": now}
        )
        self._write_outbox(session, outbox_id=message_id, task=contract.task, payload=body)
        return message_id

    def _write_outbox(
        self, session: Session, *, outbox_id: uuid.UUID, task: str, payload: dict[str, Any]
    ) -> None:
        row = _Written(outbox_id, task, payload, self.clock.now())
        session.info.setdefault(_PENDING_KEY, []).append(row)
        if not session.info.get(_BATCHED_KEY):
            # Not in `transaction()`: nothing would write the batch, so the row goes now.
            self._insert(session, [row])

    def _insert(self, session: Session, rows: list[_Written]) -> None:
        """The outbox rows in one statement, through the session's connection, so that
        writing them flushes nothing else of the caller's."""
        session.connection().execute(insert(self._outbox_table), [_outbox_row(r) for r in rows])

    @contextmanager
    def transaction(
        self, *, defer: Callable[[Callable[[], object]], None] | None = None
    ) -> Iterator[Session]:
        """A transaction whose outbox messages are handed to the broker right after commit.

        Its messages, and the rows given to `insert_at_commit`, are written together just
        before the commit, in one statement where the database allows it. A transaction
        that did nothing else on PostgreSQL is that one statement alone, with no BEGIN and
        COMMIT around it. `defer` postpones the hand-over, e.g. until an HTTP response has
        been sent.
        """
        with self.db.transaction() as session:
            session.info[_BATCHED_KEY] = True
            yield session
            written: list[_Written] = list(session.info.pop(_PENDING_KEY, []))
            gathered: GatheredInserts = session.info.pop(_GATHERED_KEY, None) or GatheredInserts()
            gathered.add(self._outbox_table, [_outbox_row(row) for row in written])
            if gathered:
                self._write_gathered(session, gathered)
        if written and time.monotonic() >= self._fast_path_paused_until:
            if defer is None:
                self.hand_over(written)
            else:
                defer(lambda: self.hand_over(written))

    def _write_gathered(self, session: Session, gathered: GatheredInserts) -> None:
        """The transaction's gathered rows: alone on an autocommit connection if nothing
        else was sent in it (PostgreSQL: one statement is atomic), else inside it."""
        alone = (
            self.db.engine.dialect.name == "postgresql"
            and not _connected(session)
            and not (session.new or session.dirty or session.deleted)
        )
        if alone:
            with self.db.autocommit() as conn:
                gathered.execute(conn)
        else:
            gathered.execute(session.connection())

    # -- relaying ----------------------------------------------------------------------

    def hand_over(self, written: list[_Written]) -> int:
        """The fast path: publish rows just committed, then mark them in one statement.

        The rows are in memory, so nothing is read back and no transaction is opened; the
        sent ones are marked a moment later with other transactions' (`outbox_marks`), in
        one UPDATE committed without waiting for the disk. The periodic relay leaves rows
        this young alone (FAST_PATH_GRACE), so the two do not normally both send one; a
        row that is not handed over here (broker refused, process died) it sends after
        that. Returns how many went out.
        """
        if len(written) > 1:
            return self._hand_over_together(written)
        (row,) = written
        if not self._send(row.id, row.task, row.payload, tries=0, retry=False):
            self._refused([row.id])
            return 0
        self._sent_marks.add([row.id])
        return 1

    def _hand_over_together(self, written: list[_Written]) -> int:
        """Several rows of one transaction in one round trip to the broker.

        Kombu's publish batch (`Producer.batch`) buffers the messages in one Redis pipeline
        and sends them at the end of the block; a transport without batches sends each at
        once. A failed batch may have delivered some of its messages, so every row counts
        as tried, not sent: the periodic relay sends them all again and the consumers drop
        the copies. One round trip in place of one a message, and one Redis client in
        place of one a message (kombu builds a client for every unbatched put).
        """
        ids = [row.id for row in written]
        try:
            with self.celery.producer_or_acquire() as producer, producer.batch():
                for row in written:
                    self._publish(
                        row.id, row.task, row.payload, tries=0, retry=False, producer=producer
                    )
        except (BrokerError, BatchPublishError, OSError) as exc:
            BROKER.failed(exc, doing=f"publishing {len(written)} messages")  # once an outage
            self._refused(ids)
            return 0
        BROKER.recovered()
        self._sent_marks.add(ids)
        return len(ids)

    def _refused(self, ids: list[uuid.UUID]) -> None:
        """The broker refused the fast path: it stands aside for a while, and the rows count
        an attempt (rare, so a statement of their own) and are left to the relay."""
        self._fast_path_paused_until = time.monotonic() + FAST_PATH_PAUSE_SECONDS
        self._mark(ids, sent=False)

    def _send(
        self, row_id: uuid.UUID, task: str, payload: dict[str, Any], *, tries: int, retry: bool
    ) -> bool:
        """Hand one row's message to the broker; False if the broker refused it."""
        try:
            self._publish(row_id, task, payload, tries=tries, retry=retry)
        except (BrokerError, OSError) as exc:
            BROKER.failed(exc, doing=f"publishing {task}")  # once an outage
            return False
        BROKER.recovered()
        return True

    def _publish(
        self,
        row_id: uuid.UUID,
        task: str,
        payload: dict[str, Any],
        *,
        tries: int,
        retry: bool,
        producer: Producer | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"message": payload}
        if tries:
            kwargs["tries"] = tries
        self.celery.send_task(
            task,
            kwargs=kwargs,
            task_id=str(row_id),
            retry=retry,
            producer=producer,
            # What Celery logs and shows of the arguments: not the payload, which holds
            # phones and names (and whose repr costs more than the rest of the send).
            argsrepr="()",
            kwargsrepr=KWARGS_REPR,
        )

    def _marking(self, *, sent: bool) -> Update:
        """The statement of `_mark`, taking `ids` and `now`."""
        outbox = self.outbox
        values: dict[str, Any] = {"attempts": outbox.attempts + 1}
        if sent:
            values["published_at"] = bindparam("now")
        statement = (
            update(outbox)
            .where(outbox.id.in_(bindparam("ids", expanding=True)), outbox.published_at.is_(None))
            .values(values)
        )
        if self.db.engine.dialect.name == "postgresql":
            # An uncorrelated subquery runs once, at the start (a one-time filter).
            setting = func.set_config("synchronous_commit", "off", True)
            statement = statement.where(select(setting).scalar_subquery().is_not(None))
        return statement

    def flush_marks(self) -> None:
        """Mark the rows handed over so far now, not a moment later (tests, shutdown)."""
        self._sent_marks.flush()

    def _mark_published(self, ids: list[uuid.UUID]) -> None:
        self._mark(ids, sent=True)

    def _mark(self, ids: list[uuid.UUID], *, sent: bool) -> None:
        """An attempt on rows the fast path tried, and `published_at` if `sent`: one
        autocommit statement.

        On PostgreSQL it commits without waiting for the disk (the statement sets
        `synchronous_commit` for its own transaction, `lazy_commit`'s reasoning). A mark
        lost to a crash or an outage means the periodic relay sends the row again, and
        the consumer's record of processed messages drops the copy.
        """
        statement = self._mark_sent if sent else self._mark_tried
        try:
            with self.db.autocommit() as conn:
                conn.execute(statement, {"ids": ids, "now": self.clock.now()})
        except SQLAlchemyError as exc:
            if not is_database_outage(exc):
                raise
            DATABASE.failed(exc, doing=f"marking {len(ids)} {self.service} messages tried")

    def relay(self, *, ids: list[uuid.UUID] | None = None, limit: int = 200) -> int:
        """Publish unpublished outbox rows (only `ids` if given); returns how many went out.

        Rows are locked while they are published (SKIP LOCKED where the database has it),
        so two relays do not normally publish the same row; if one ever does, the
        receiver's record of processed messages makes the copy harmless. Without `ids`
        (the periodic relay), rows written in the last FAST_PATH_GRACE and not yet tried
        are left to the fast path of the transaction that wrote them.
        """
        outbox, now = self.outbox, self.clock.now()
        # Columns, not ORM objects, and one UPDATE for the lot: the unit of work cost more
        # than the statements.
        query = (
            select(outbox.id, outbox.task, outbox.payload, outbox.tries)
            .where(outbox.published_at.is_(None))
            .order_by(outbox.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if ids is not None:
            query = query.where(outbox.id.in_(ids)).where(
                or_(outbox.due_at.is_(None), outbox.due_at <= now)
            )
        else:
            query = query.where(
                or_(
                    # Not yet tried, and young: its fast path may be sending it right now.
                    and_(
                        outbox.due_at.is_(None),
                        or_(outbox.attempts > 0, outbox.created_at <= now - FAST_PATH_GRACE),
                    ),
                    outbox.due_at <= now,
                )
            )
        published: list[uuid.UUID] = []
        tried: list[uuid.UUID] = []  # sent, or refused by the broker: an attempt either way
        with self.db.transaction() as session:
            lazy_commit(session)
            for row_id, task, payload, tries in session.execute(query).all():
                tried.append(row_id)
                if not self._send(row_id, task, payload, tries=tries, retry=ids is None):
                    if ids is not None:
                        self._fast_path_paused_until = time.monotonic() + FAST_PATH_PAUSE_SECONDS
                    break
                published.append(row_id)
            if published:
                session.execute(
                    update(outbox)
                    .where(outbox.id.in_(published))
                    .values(published_at=self.clock.now(), attempts=outbox.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
            refused = [row_id for row_id in tried if row_id not in published]
            if refused:
                session.execute(
                    update(outbox)
                    .where(outbox.id.in_(refused))
                    .values(attempts=outbox.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
        return len(published)

    # -- consuming ---------------------------------------------------------------------

    def consumer(
        self, contract: Contract, *, claim_at_commit: bool = False
    ) -> Callable[[Handler], Task[Any, Any]]:
        """Register `handler(session, message)` as the Celery task of `contract`.

        The handler runs inside one transaction with the record that the message was
        handled, so it runs to completion exactly once per message id however often the
        broker delivers it (`handle_once`, whose `claim_at_commit` this passes on). A failure
        is tried again after a backoff, `max_retries` times, the wait stored in this
        service's outbox (`retry_later`); then, or at once for an error that retrying
        cannot fix (PERMANENT_ERRORS: a message that fails its contract, a value the
        database refuses), the message is parked.
        """

        def register(handler: Handler) -> Task[Any, Any]:
            def run(task: Task[Any, Any], message: dict[str, Any], tries: int = 0) -> None:
                # A message retried by Celery (before retries waited in the database, or
                # while the database was away) counts those tries too.
                tries += task.request.retries or 0
                try:
                    self.handle_once(
                        contract, contract.load(message), handler, claim_at_commit=claim_at_commit
                    )
                except PERMANENT_ERRORS as exc:
                    self._settle_failure(task, message, exc, tries=tries, permanent=True)
                except Exception as exc:
                    self._settle_failure(task, message, exc, tries=tries, permanent=False)

            run.__name__ = handler.__name__
            run.__doc__ = handler.__doc__
            # shared=False: Celery would otherwise add the task to every app in the
            # process, bound to this service's database. Retries are counted above, so
            # Celery's own limit is off (it would drop the message at its limit).
            task: Task[Any, Any] = self.celery.task(
                shared=False, name=contract.task, bind=True, max_retries=None
            )(run)
            return task

        return register

    def retry_delay(self, retries: int) -> int:
        """Seconds before the next try: exponential with full jitter, at most the maximum."""
        return get_exponential_backoff_interval(
            factor=1, retries=retries, maximum=self.retry_backoff_max, full_jitter=True
        )

    def retry_later(self, *, task: str, message: dict[str, Any], tries: int) -> datetime:
        """Store a failed message to be sent again after its backoff; returns when it is due.

        It goes to this service's own outbox as a new row (the message keeps its id), in a
        transaction of its own, and the relay hands it out once `due_at` has passed.
        """
        now = self.clock.now()
        due_at = now + timedelta(seconds=self.retry_delay(tries - 1))
        with self.db.transaction() as session:
            session.add(
                self.outbox(  # type: ignore[call-arg]
                    id=uuid.uuid4(),
                    task=task,
                    payload=message,
                    created_at=now,
                    due_at=due_at,
                    tries=tries,
                )
            )
        return due_at

    def _settle_failure(
        self,
        task: Task[Any, Any],
        message: Any,
        error: BaseException,
        *,
        tries: int,
        permanent: bool,
    ) -> None:
        """A failed try: stored to be tried again, or parked (at once, or at the limit)."""
        tried, parking = tries + 1, permanent or tries >= self.max_retries
        try:
            if parking:
                self.park(
                    task=task.name,
                    message=message,
                    error=error,
                    attempts=tried,
                    task_id=task.request.id,
                )
            else:
                due_at = self.retry_later(task=task.name, message=message, tries=tried)
        except Exception as exc:
            # Both need the database; while it cannot be reached the message stays on the
            # broker for a short while, to be tried (and stored) again.
            log.error(
                "could not store the failure of %s %s: %s",
                task.name,
                task.request.id,
                describe(exc),
            )
            raise task.retry(exc=exc, countdown=DATABASE_AWAY_RETRY_SECONDS) from exc
        if not parking:
            log.warning(
                "%s %s failed (try %d of %d), tried again after %s: %s",
                task.name,
                task.request.id,
                tried,
                self.max_retries + 1,
                due_at.isoformat(timespec="seconds"),
                describe(error),
            )
            return
        log.error(
            "parked %s %s after %d %s: %s; %d dead letters of %s wait",
            task.name,
            task.request.id,
            tried,
            "try (cannot succeed)" if permanent else "tries",
            describe(error),
            self.waiting_dead_letters(),
            self.service,
        )

    # -- dead letters ------------------------------------------------------------------

    def park(
        self,
        *,
        task: str,
        message: Any,
        error: BaseException,
        attempts: int,
        task_id: str | None = None,
    ) -> uuid.UUID:
        """Keep a message that could not be handled, in a transaction of its own.

        The same message parked again is the same row: its tries are added and the newest
        error kept, and it waits again if it had been replayed.
        """
        key = dead_letter_key(message, task_id)
        payload = message if isinstance(message, dict) else {"unreadable": message}
        text = describe(error)
        for last in (False, True):
            now = self.clock.now()
            try:
                with self.db.transaction() as session:
                    row = session.get(self.dead_letters, key, with_for_update=True)
                    if row is None:
                        session.add(
                            self.dead_letters(  # type: ignore[call-arg]
                                message_id=key,
                                task=task,
                                payload=payload,
                                error=text,
                                attempts=attempts,
                                first_failed_at=now,
                                last_failed_at=now,
                                status="waiting",
                            )
                        )
                    else:
                        row.attempts += attempts
                        row.error, row.last_failed_at, row.status = text, now, "waiting"
                        row.replayed_at = None
                break
            except IntegrityError:
                if last:
                    raise
                # A twin delivery parked it first: update that row instead.
        return key

    def waiting_dead_letters(self) -> int:
        """How many parked messages wait to be replayed."""
        dead = self.dead_letters
        with self.db.sessions() as session:
            count = session.scalar(
                select(func.count()).select_from(dead).where(dead.status == "waiting")
            )
        return int(count or 0)

    def parked(self, *, include_replayed: bool = False) -> list[DeadLetterMixin]:
        """Parked messages, oldest failure first; only those waiting unless asked."""
        dead = self.dead_letters
        query = select(dead).order_by(dead.first_failed_at, dead.message_id)
        if not include_replayed:
            query = query.where(dead.status == "waiting")
        with self.db.sessions() as session:
            return list(session.scalars(query))

    def replay(self, *, message_ids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
        """Send parked messages again through the outbox (all waiting ones if no ids given).

        The message keeps its id, so a replay that reaches a consumer which has meanwhile
        handled it does nothing; it leaves as a new outbox row, and is marked replayed.
        """
        dead = self.dead_letters
        query = select(dead).where(dead.status == "waiting").order_by(dead.first_failed_at)
        if message_ids is not None:
            query = query.where(dead.message_id.in_(message_ids))
        replayed: list[uuid.UUID] = []
        with self.transaction() as session:
            for row in session.scalars(query.with_for_update(skip_locked=True)):
                self._write_outbox(
                    session, outbox_id=uuid.uuid4(), task=row.task, payload=row.payload
                )
                row.status, row.replayed_at = "replayed", self.clock.now()
                replayed.append(row.message_id)
        if replayed:
            log.warning("replayed %d dead letters of %s", len(replayed), self.service)
        return replayed

    # -- pruning -----------------------------------------------------------------------

    def prune(self) -> dict[str, int]:
        """Forget published outbox rows and processed message ids older than `retention`."""
        cutoff = self.clock.now() - self.retention
        outbox, processed = self.outbox, self.processed
        with self.db.transaction() as session:
            published = session.execute(delete(outbox).where(outbox.published_at < cutoff))
            handled = session.execute(delete(processed).where(processed.processed_at < cutoff))
        pruned = {"outbox": published.rowcount, "processed": handled.rowcount}  # type: ignore[attr-defined]
        waiting = self.waiting_dead_letters()
        if waiting:
            log.warning(
                "%d dead letters of %s wait: `fengqiao messages dead %s` lists them",
                waiting,
                self.service,
                self.service,
            )
        return pruned

    def handle_once(
        self,
        contract: Contract,
        message: dict[str, Any],
        handler: Handler,
        *,
        claim_at_commit: bool = False,
    ) -> bool:
        """Run `handler` for `message` unless it already ran; True if it ran now.

        A conflict with a twin that committed first is handled here: the same message id
        means the work is done; another id (the same report sent twice) gets one more run,
        in which the handler finds the twin's row by its natural key.

        The message's id is claimed first, before the handler runs, unless
        `claim_at_commit`: then the claim is a plain INSERT among the rows written at the
        commit (`insert_at_commit`), and a twin fails there, as a conflict, with nothing of
        its run kept. That is one round trip less, and a handler that only reads
        (`read_committed`) and gathers its rows makes its whole transaction one statement.
        Only for a handler whose every effect is in this transaction: a twin runs it to
        the end before it finds out.
        """
        message_id: uuid.UUID = message["message_id"]
        conflicts = 0
        while True:
            try:
                return self._handle(contract, message, handler, claim_at_commit=claim_at_commit)
            except IntegrityError:
                with self.db.sessions() as session:
                    if session.get(self.processed, message_id) is not None:
                        log.info("%s %s was handled by another worker", contract.task, message_id)
                        return False
                conflicts += 1
                if conflicts > 1:
                    raise

    def _handle(
        self,
        contract: Contract,
        message: dict[str, Any],
        handler: Handler,
        *,
        claim_at_commit: bool,
    ) -> bool:
        message_id: uuid.UUID = message["message_id"]
        with self.transaction() as session:
            if claim_at_commit:
                insert_at_commit(
                    session,
                    self._processed_table,
                    [
                        {
                            "message_id": message_id,
                            "task": contract.task,
                            "processed_at": self.clock.now(),
                        }
                    ],
                )
                handler(session, message)
                return True
            # Claim the id and learn whether it was new in one statement. A concurrent twin
            # makes this wait for its commit, then find the id taken: before any effect.
            claimed = session.execute(
                self._claim,
                {"message_id": message_id, "task": contract.task, "at": self.clock.now()},
            ).first()
            if claimed is None:
                return False
            handler(session, message)
        return True
