"""Catching a worker mid-task, provably: it waits, inside its transaction, on a lock we hold.

Tasks take milliseconds, so a kill sent "under load" usually finds the worker between
tasks and proves little. Instead the campaign takes a SHARE lock on a table the task
writes; the next such task blocks on its INSERT or UPDATE with its transaction open and
its message unacknowledged. PostgreSQL names the waiting connection's client port, and
/proc names the process that owns that port: that process is mid-task.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from chaos import procfs

POLL_SECONDS = 0.1


class NotCaught(Exception):
    """No worker process came to wait on the lock in time."""


def wait_dead(pids: list[int], timeout: float) -> bool:
    """Wait until none of `pids` runs (a zombie counts as dead); False on timeout."""
    deadline = time.monotonic() + timeout
    while any(procfs.alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


WAITING = """
SELECT client_port FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND client_port IS NOT NULL
"""


@contextmanager
def caught_mid_task(
    *,
    database_url: str,
    server_port: int,
    table: str,
    candidates: Callable[[], list[int]],
    timeout: float,
) -> Iterator[int]:
    """Yields the pid (one of `candidates()`) of a process blocked mid-task on `table`.

    The lock is held while the block runs and released when it ends: a block that kills
    should wait there until its victims are dead, or the task could still finish.
    """
    with (
        psycopg.connect(database_url, connect_timeout=5) as holder,
        psycopg.connect(database_url, autocommit=True, connect_timeout=5) as watcher,
    ):
        # The holder's transaction stays open until the connection closes (rolled back).
        holder.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))
        deadline = time.monotonic() + timeout
        while True:
            ports = [int(str(row[0])) for row in watcher.execute(WAITING)]
            pids = candidates()
            victim = next(
                (
                    pid
                    for port in ports
                    if (pid := procfs.owner_of_connection(port, server_port, pids))
                ),
                None,
            )
            if victim is not None:
                break
            if time.monotonic() > deadline:
                raise NotCaught(f"no worker waited on {table} within {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        try:
            yield victim
        finally:
            holder.rollback()
