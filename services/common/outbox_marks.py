"""Outbox rows the fast path handed to the broker, marked sent shortly after, many at once.

After its commit a transaction hands its rows to the broker and they must be marked sent,
or the periodic relay sends them again once they are older than the fast path's grace.
Marking each transaction's rows at once cost a round trip and an UPDATE on every request
and every consumed message. Here the ids wait `delay` (tens of milliseconds, far below
the grace) and go in one UPDATE with every other id that came meanwhile: under load a
few statements a second for the whole process, instead of one per transaction.

A mark that never happens (the process is killed, the database is away) only means the
relay sends the row again after the grace, and the consumer's record of processed
messages drops the copy: what a lost mark always meant (decision record 0032). Marks still
waiting when a process exits normally are written first.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable

from celery.signals import worker_process_shutdown

log = logging.getLogger(__name__)

DEFAULT_DELAY_SECONDS = 0.05

_ALL: weakref.WeakSet[WriteBehindMarks] = weakref.WeakSet()


class WriteBehindMarks:
    """Ids gathered from any thread of this process and marked by one thread, in batches."""

    def __init__(self, mark: Callable[[list[uuid.UUID]], None], *, delay: float) -> None:
        self._mark = mark
        self._delay = delay
        self._lock = threading.Lock()
        self._pending: list[uuid.UUID] = []
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        _ALL.add(self)

    def add(self, ids: list[uuid.UUID]) -> None:
        """Mark `ids` within `delay`; a marking thread is started if none is running."""
        with self._lock:
            self._pending.extend(ids)
            # A thread does not survive a fork: a worker forked from this process starts
            # its own.
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="outbox-marks", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Mark what is waiting now, in the calling thread."""
        with self._lock:
            ids, self._pending = self._pending, []
        if ids:
            self._mark(ids)

    def _run(self) -> None:
        # Waits, marks what came meanwhile, and stops after a wait in which nothing came:
        # an idle process keeps no thread.
        while True:
            time.sleep(self._delay)
            with self._lock:
                ids, self._pending = self._pending, []
                if not ids:
                    self._thread = None
                    return
            try:
                self._mark(ids)
            except Exception:  # the thread must go on; the relay covers these rows
                log.exception("marking %d outbox rows sent failed", len(ids))


def flush_all() -> None:
    """Write every waiting mark of this process (at its exit)."""
    for marks in list(_ALL):
        try:
            marks.flush()
        except Exception:  # exiting: the relay covers these rows
            log.exception("marking outbox rows sent at exit failed")


def _flush_at_pool_exit(**_kwargs: object) -> None:
    flush_all()


atexit.register(flush_all)
# A prefork pool's processes leave without running atexit handlers.
worker_process_shutdown.connect(_flush_at_pool_exit, weak=False)
