"""Child processes: each in its own session, stopped by its id, never left running."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx

KILL_WAIT_SECONDS = 5.0
READY_POLL_SECONDS = 0.25
FAILURE = re.compile(r"CRITICAL|Unrecoverable error|exited with|Error:")


class ProcessError(Exception):
    """A child process died or never became ready."""


class Child:
    """One process the benchmark started, with its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise ProcessError(f"{self.name} was never started")
        return self._popen.pid

    def start(self) -> None:
        """Start the process with this process's environment, its output to the log file."""
        self._log = self.log_path.open("ab")
        # Own session: a Ctrl-C in the terminal reaches only the benchmark, which then stops
        # its children in order; it also makes the child's process group ours to kill.
        # The argv is built here from plan() and this package's modules, never from input.
        self._popen = subprocess.Popen(  # noqa: S603
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def check_alive(self) -> None:
        """Raise, with the end of its log, if the process has exited."""
        if self._popen is not None and self._popen.poll() is not None:
            raise ProcessError(
                f"{self.name} exited with {self._popen.returncode}; its log ends:\n"
                + self.log_tail()
            )

    def stop(self, grace_seconds: float) -> bool:
        """SIGTERM, then SIGKILL to its process group after `grace_seconds`; True if graceful."""
        popen = self._popen
        if popen is None:
            return True
        graceful = True
        if popen.poll() is None:
            # Only the main process: gunicorn's master and Celery's worker stop their own
            # children gracefully, and `fengqiao run` stops the whole system.
            with contextlib.suppress(ProcessLookupError):
                popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                graceful = False
                kill_group(popen.pid)
                popen.wait(timeout=KILL_WAIT_SECONDS)
        if self._log is not None:
            self._log.close()
            self._log = None
        return graceful

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def failure(self) -> str:
        """The log lines that say why the process (or one it ran) stopped."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        lines = [line for line in text.splitlines() if FAILURE.search(line)]
        return "\n".join(lines[:6]) or self.log_tail()

    def started_pids(self) -> list[int]:
        """The pids `fengqiao run` reported starting ("started <name> (pid <n>)")."""
        return [pid for _name, pid in self._started()]

    def running_children(self) -> dict[str, int]:
        """Each process `fengqiao run` started, by name: the pid of its latest start."""
        return dict(self._started())

    def _started(self) -> list[tuple[str, int]]:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        found = re.findall(r"^started (\S+) \(pid (\d+)\)$", text, re.M)
        return [(name, int(pid)) for name, pid in found]


@contextlib.contextmanager
def paused(pgids: list[int]) -> Iterator[None]:
    """The process groups stopped (SIGSTOP) for the block, then continued however it ends.

    A stopped worker takes no CPU and no message; what is sent meanwhile waits on the
    broker, well within its visibility timeout for a pause of seconds.
    """
    stopped = []
    try:
        for pgid in pgids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGSTOP)
                stopped.append(pgid)
        yield
    finally:
        for pgid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGCONT)


def kill_group(pgid: int) -> None:
    """SIGKILL a process group this benchmark created (its leader was started in a new session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def wait_ready(urls: list[str], children: list[Child], timeout: float) -> float:
    """Wait until every URL answers 200 (the children still alive); returns the seconds taken."""
    started = time.monotonic()
    deadline = started + timeout
    pending = list(urls)
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for child in children:
                child.check_alive()
            still = []
            for url in pending:
                try:
                    ok = client.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if not ok:
                    still.append(url)
            pending = still
            if pending and time.monotonic() > deadline:
                raise ProcessError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            if pending:
                time.sleep(READY_POLL_SECONDS)
    return time.monotonic() - started
