"""Database plumbing: engines, UTC timestamps, and one transaction helper.

Data-access functions take a session and never commit; the caller owns the transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Uuid,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

from services.common.outages import DATABASE

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ServiceBase(DeclarativeBase):
    """Shared type map; each service subclasses it with its own MetaData."""

    __abstract__ = True
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def service_metadata() -> MetaData:
    """A fresh MetaData with stable constraint names (so migrations name them the same)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def insert_on_conflict(dialect: Dialect, table: Any) -> PostgresInsert | SqliteInsert:
    """`INSERT … ON CONFLICT` into `table`, in the dialect of the database in use.

    Each dialect's module is imported on the first such insert into its kind of database:
    a process on PostgreSQL never loads SQLAlchemy's SQLite dialect, nor one on the
    embedded SQLite default the PostgreSQL one (about 0.5 MB each; docs/capacity.md, memory).
    """
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for the backend: WAL and a busy timeout for SQLite, pre-ping elsewhere
    (of connections that sat idle: `_ping_when_idle`).

    SQL parameters never reach an error message or a log line (`hide_parameters`): they
    hold phones and names, and SQLAlchemy shortens long values in its messages, which would
    cut a phone to a few digits that no masking recognises.
    """
    kwargs.setdefault("hide_parameters", True)
    engine = _create(url, **kwargs)
    # A new connection means the database answers again: end a logged outage.
    event.listen(engine, "connect", lambda _conn, _record: DATABASE.recovered())
    return engine


def _create(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            # SQLite creates the file but not its folder ("unable to open database file").
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL loses no committed transaction when a process crashes, only
            # (on power loss) the last ones; the embedded default is for development.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


# A pooled connection back in use within this many seconds is not pinged first: it has
# just worked. Under load that is nearly every checkout, and the ping was a round trip on
# each (three a report); one idle longer (the server may have gone since) is pinged, and
# replaced if it does not answer. Decision record 0026.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Pre-ping connections that sat idle in the pool; skip those used a moment ago.

    A connection that did die within the second (a server restart under load) fails its
    first statement instead: SQLAlchemy sees the disconnect, throws the pool's older
    connections away, and the request is a 503 like every other one during the outage.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # A new connection has no mark (`info` is cleared when one is replaced).
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards the connection and checks out another (SQLAlchemy's
            # pessimistic disconnect handling).
            raise DisconnectionError() from exc


_LAST_STATEMENTS = "last_statements"


def at_commit(session: Session, statement: Callable[[Session], object]) -> None:
    """Run `statement` as the transaction's last, after its final flush, just before COMMIT.

    For a row every request of its kind waits for (a month's budget): locked by the last
    statement, it is held for the commit's round trip only. What `statement` raises rolls
    the transaction back. Sessions of `Database.sessions` only.
    """
    session.info.setdefault(_LAST_STATEMENTS, []).append(statement)


def _run_last_statements(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint's release: not yet the end
        return
    statements = session.info.pop(_LAST_STATEMENTS, None)
    if statements:
        session.flush()
        for statement in statements:
            statement(session)


def _forget_last_statements(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction rolled back, or committed: done
        session.info.pop(_LAST_STATEMENTS, None)


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection on which each statement is its own transaction: no BEGIN, COMMIT or
    ROLLBACK round trips, and no ORM session (for one statement on a hot path)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


class Database:
    """One engine and one sessionmaker per service process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessions, "before_commit", _run_last_statements)
        event.listen(self.sessions, "after_transaction_end", _forget_last_statements)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def autocommit(self) -> AbstractContextManager[Connection]:
        """A connection on which each statement is its own transaction (`autocommit`)."""
        return autocommit(self.engine)

    @contextmanager
    def reads(self) -> Iterator[Session]:
        """A session for reads that need no transaction of their own (one statement, say).

        Its connection is in autocommit mode, so no BEGIN or ROLLBACK goes to the database
        around the statements: on a hot path those are two of three round trips.
        """
        with self.autocommit() as conn, Session(bind=conn, expire_on_commit=False) as session:
            yield session

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
