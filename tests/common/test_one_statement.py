"""Rows gathered with a transaction's outbox rows and written as one statement."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select
from sqlalchemy.exc import IntegrityError

from services.common.contracts import SEND_SMS
from services.common.messaging import insert_at_commit
from services.common.one_statement import GatheredInserts
from services.intake.models import OutboxMessage, ReportEvent
from services.intake.runtime import IntakeRuntime
from tests.common.test_messaging import outbox_row, sms_request
from tests.conftest import NOW

TIMELINE = cast(Table, ReportEvent.__table__)


class Statements:
    """What an engine sent: each statement and whether its connection was in autocommit."""

    def __init__(self, engine: Any) -> None:
        self.sent: list[tuple[str, bool]] = []
        self.engine = engine

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._one)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._one)

    def _one(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        self.sent.append((statement.split()[0], autocommit))


def timeline_row(report_id: uuid.UUID) -> dict[str, Any]:
    return {
        "message_id": uuid.uuid4(),
        "report_id": report_id,
        "at": NOW,
        "event": "received",
        "service": "intake",
        "detail": "",
    }


def test_a_transaction_of_gathered_rows_only_is_one_statement_without_begin(
    intake: IntakeRuntime,
) -> None:
    with Statements(intake.db.engine) as statements:
        with intake.messaging.transaction() as session:
            first = intake.messaging.publish(session, SEND_SMS, sms_request())
            second = intake.messaging.publish(session, SEND_SMS, sms_request())
        sent_then = list(statements.sent)

    # The two outbox rows in one autocommit statement; the marks come later, on their own.
    assert [s for s in sent_then if s[0] != "UPDATE"] == [("INSERT", True)]
    assert outbox_row(intake, first) is not None and outbox_row(intake, second) is not None


def test_gathered_rows_after_a_read_go_inside_the_transaction(intake: IntakeRuntime) -> None:
    with Statements(intake.db.engine) as statements:
        with intake.messaging.transaction() as session:
            session.execute(select(OutboxMessage.id).limit(1)).all()
            intake.messaging.publish(session, SEND_SMS, sms_request())
        sent = [s for s in statements.sent if s[0] != "UPDATE"]

    assert sent == [("SELECT", False), ("INSERT", False)]  # one row: a plain INSERT


def test_one_part_refused_writes_none_of_them(intake: IntakeRuntime) -> None:
    written: list[uuid.UUID] = []

    def gather_a_bad_row() -> None:
        with intake.messaging.transaction() as session:
            written.append(intake.messaging.publish(session, SEND_SMS, sms_request()))
            # A timeline row of a report that does not exist: its foreign key refuses it.
            insert_at_commit(session, TIMELINE, [timeline_row(uuid.uuid4())])

    with pytest.raises(IntegrityError):
        gather_a_bad_row()

    [message_id] = written
    assert outbox_row(intake, message_id) is None


def test_rows_cannot_be_gathered_outside_a_messaging_transaction(intake: IntakeRuntime) -> None:
    with (
        pytest.raises(RuntimeError, match=r"Messaging\.transaction"),
        intake.db.transaction() as session,
    ):
        insert_at_commit(session, TIMELINE, [timeline_row(uuid.uuid4())])


def test_on_sqlite_the_parts_run_one_by_one_and_roll_back_together(tmp_path: Path) -> None:
    metadata = MetaData()
    people = Table(
        "people", metadata, Column("id", Integer, primary_key=True), Column("name", String)
    )
    notes = Table(
        "notes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("text", String, nullable=False),
        Column("kind", String, default="plain"),
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'one.db'}")
    metadata.create_all(engine)

    gathered = GatheredInserts()
    gathered.add(people, [{"id": 1, "name": "陈先生"}, {"id": 2, "name": "王女士"}])
    gathered.add(notes, [{"id": 1, "text": "first"}])
    with engine.begin() as conn:
        gathered.execute(conn)
    with engine.connect() as conn:
        assert conn.execute(select(people.c.name).order_by(people.c.id)).scalars().all() == [
            "陈先生",
            "王女士",
        ]
        # A column's constant default is filled in, as a plain INSERT would.
        assert conn.execute(select(notes.c.text, notes.c.kind)).all() == [("first", "plain")]

    refused = GatheredInserts()
    refused.add(people, [{"id": 3, "name": "李先生"}])
    refused.add(notes, [{"id": 2, "text": None}])  # NOT NULL
    with pytest.raises(IntegrityError), engine.begin() as conn:
        refused.execute(conn)
    with engine.connect() as conn:
        assert conn.execute(select(people.c.id).where(people.c.id == 3)).first() is None
    engine.dispose()
