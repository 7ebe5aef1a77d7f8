"""Outages of the database or the broker: one log line when one starts, one when it ends.

An API whose database is away answers `503` with `Retry-After` (`register_outage_handler`),
never a `500`: the client did nothing wrong and may simply try again.

A periodic job runs every second or so; while the broker or the database is away each run
fails the same way, and a traceback per run buries everything else in the log. `Outage`
remembers that a dependency is down, so a process says so once and says once that it is
back. `run_quietly` runs a periodic job so that those failures end the run with
that one warning instead of a traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

if TYPE_CHECKING:  # the handler is an API's; workers record outages without Flask
    from flask import Flask
    from flask.typing import ResponseReturnValue

# How long a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5

T = TypeVar("T")


def is_database_outage(error: BaseException) -> bool:
    """The database cannot be reached or dropped the connection (not a bad statement)."""
    if isinstance(error, OperationalError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def is_broker_outage(error: BaseException) -> bool:
    """The broker cannot be reached (kombu wraps connection errors, redis-py has its own)."""
    return isinstance(
        error, BrokerError | RedisConnectionError | RedisTimeout | ConnectionError | TimeoutError
    )


class Outage:
    """Whether one dependency of this process is down, logged only when that changes."""

    def __init__(self, what: str, *, log: logging.Logger | None = None) -> None:
        self.what = what
        self.log = log or logging.getLogger(__name__)
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def failed(self, error: BaseException, *, doing: str = "") -> None:
        """The dependency failed: a warning if it was up until now, else nothing."""
        with self._lock:
            was_down, self._down = self._down, True
        if not was_down:
            while_ = f" while {doing}" if doing else ""
            self.log.warning(
                "%s unreachable%s: %s: %s; retrying quietly until it is back",
                self.what,
                while_,
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )

    def recovered(self) -> None:
        """The dependency answered: one line if it had been down."""
        if not self._down:  # the common case, on every new connection: no lock needed
            return
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            self.log.warning("%s is back", self.what)


# One per process and dependency, shared by every job of the process.
BROKER = Outage("broker")
DATABASE = Outage("database")


def run_quietly(job: Callable[[], T], *, name: str) -> T | None:
    """Run a periodic job; while the database or broker is away, log once and return None.

    Beat sends the job again on its next tick, so nothing is lost by ending this run.
    """
    try:
        result = job()
    except Exception as error:
        if is_database_outage(error):
            DATABASE.failed(error, doing=name)
            return None
        if is_broker_outage(error):
            BROKER.failed(error, doing=name)
            return None
        raise
    DATABASE.recovered()
    return result


def register_outage_handler(app: Flask) -> None:
    """Answer `503` with `Retry-After` while the database is away, logging once per outage."""
    from flask import jsonify

    def database_away(error: Exception) -> ResponseReturnValue:
        DATABASE.failed(error, doing="answering a request")
        body = jsonify(
            code=503,
            status="Service Unavailable",
            message="the database is unreachable for a moment; try again shortly",
        )
        return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    # More specific than the catch-all `Exception` handler, so Flask chooses these. A
    # dropped connection is an OperationalError too (psycopg's AdminShutdown, "server
    # closed the connection"); a bad statement is another DBAPIError and stays a 500.
    for error_class in (OperationalError, PoolTimeout):
        app.register_error_handler(error_class, database_away)
