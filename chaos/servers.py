"""The Redis and PostgreSQL the campaign starts for itself, so that it may stop and kill them.

Each listens on a spare loopback port and keeps its files in the campaign's work directory.
PostgreSQL refuses to run as root, so as root its programs run as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import psycopg
import redis
from psycopg import sql

HOST = "127.0.0.1"
READY_SECONDS = 30.0
STOP_SECONDS = 20.0
POLL_SECONDS = 0.1


class ServerError(Exception):
    """A server could not be prepared, started or stopped."""


class _Server:
    """A server process in its own session, its output appended to a log file."""

    name = "server"

    def __init__(self, *, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.log_path = folder / f"{self.name}.log"
        self._popen: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _popen_options(self) -> dict[str, Any]:
        return {}

    def answers(self) -> bool:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        if self.running:
            return
        self._log = self.log_path.open("ab")
        # The argv is built here from fixed options and paths this module chose.
        self._popen = subprocess.Popen(  # noqa: S603
            self._argv(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self._popen_options(),
        )
        deadline = time.monotonic() + READY_SECONDS
        while not self.answers():
            if self._popen.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with {self._popen.returncode}: {self.tail()}"
                )
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} did not answer within {READY_SECONDS:.0f} s")
            time.sleep(POLL_SECONDS)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Send `signum` and wait for the server to exit (SIGKILL after a grace period)."""
        popen = self._popen
        if popen is not None and popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                popen.send_signal(signum)
            try:
                popen.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait(timeout=STOP_SECONDS)
        self._popen = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class OwnRedis(_Server):
    """redis-server with the append-only file on, as production runs it."""

    name = "redis"

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def _argv(self) -> list[str]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerError("redis-server is not installed")
        return [
            binary,
            *("--port", str(self.port), "--bind", HOST, "--dir", str(self.folder)),
            *("--appendonly", "yes", "--save", ""),
            *("--maxmemory-policy", "noeviction"),
        ]

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url(), socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries: Debian's layout, else whatever is on PATH."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if debian:
        return Path(debian[-1]).parent
    found = shutil.which("postgres")
    if found is None:
        raise ServerError("no PostgreSQL server binaries (postgres, initdb) were found")
    return Path(found).parent


def _as_postgres_user() -> dict[str, Any]:
    """Popen options that drop root to the `postgres` user; nothing when not root."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServerError("running as root needs a `postgres` user for PostgreSQL") from exc
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


class OwnPostgres(_Server):
    """A PostgreSQL cluster of the campaign's own (trust auth, loopback only).

    Its folder is a temporary directory of its own: the server's user must be able to reach
    it, which it cannot inside a directory private to root. `remove()` deletes it, keeping
    the server's log in `log_folder`.
    """

    name = "postgres"
    ROLE = "postgres"

    def __init__(self, *, port: int, log_folder: Path) -> None:
        super().__init__(port=port, folder=Path(tempfile.mkdtemp(prefix="fengqiao-chaos-pg-")))
        self.log_folder = log_folder
        self.bindir = postgres_bindir()
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.ROLE}@{HOST}:{self.port}/{database}"

    def init(self) -> None:
        """Create the cluster (`initdb`) in a folder the server's user owns."""
        options = _as_postgres_user()
        self.sockets.mkdir(parents=True, exist_ok=True)
        if "user" in options:
            for path in (self.folder, self.sockets):
                os.chown(path, options["user"], options["group"])
        done = subprocess.run(  # noqa: S603
            [
                str(self.bindir / "initdb"),
                *("-D", str(self.data), "-U", self.ROLE, "--auth=trust"),
                *("--encoding=UTF8", "--no-locale", "--no-sync"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.folder,
            **options,
        )
        if done.returncode != 0:
            raise ServerError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")

    def _argv(self) -> list[str]:
        return [
            str(self.bindir / "postgres"),
            *("-D", str(self.data), "-p", str(self.port), "-k", str(self.sockets)),
            *("-c", f"listen_addresses={HOST}", "-c", "max_connections=200"),
        ]

    def _popen_options(self) -> dict[str, Any]:
        return {"cwd": self.folder, **_as_postgres_user()}

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def stop(self, signum: int = signal.SIGINT) -> None:
        """SIGINT is PostgreSQL's fast shutdown: clients are cut off, work in flight rolled back."""
        super().stop(signum)

    def remove(self) -> None:
        """Stop the server and delete its folder, keeping its log."""
        self.stop()
        with contextlib.suppress(OSError):
            shutil.copy(self.log_path, self.log_folder / self.log_path.name)
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_databases(self, names: list[str]) -> None:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as conn:
            for name in names:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
