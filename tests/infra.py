"""Real PostgreSQL and Redis for tests: fresh databases, a private Redis, settings to match.

Outside CI a missing server skips the tests that need it; with CI=true it fails them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import MetaData, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.common.bootstrap import Seeder
from services.common.config import SERVICES, Settings, load_settings
from services.common.db import make_engine
from services.common.station import Station

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(what: str) -> None:
    """Fail under CI, skip elsewhere: tests of the broker and database never pass on mocks."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(f"{what} is not reachable")


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def redis_reachable(url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=3).ping())
    except redis.RedisError:
        return False


def _admin(sql: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.encode())


def create_database(prefix: str) -> str:
    """A new, empty PostgreSQL database; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_databases(prefix: str) -> Iterator[dict[str, str]]:
    """One fresh database per service, dropped afterwards."""
    urls: dict[str, str] = {}
    try:
        for service in SERVICES:
            urls[service] = create_database(f"{prefix}_{service}")
        yield urls
    finally:
        for url in urls.values():
            drop_database(url)


class ServiceDatabases:
    """Migrated service databases that are emptied and re-seeded between tests, fast.

    Emptying is one round trip per database: a DELETE of every table but alembic's (children
    before parents), and every sequence restarted, then the station's seed as `bootstrap`
    loads it, all in one transaction. DELETE rather than TRUNCATE: on tables of a few rows
    TRUNCATE (a new file per table) took about 300 ms a database, DELETE under 10 ms.
    Rows that a migration (not the seeder) wrote would not come back: keep such data in the
    seeder (tests/test_isolation.py fails otherwise).
    """

    LOCK_TIMEOUT = "10s"

    def __init__(
        self,
        urls: dict[str, str],
        *,
        seeders: dict[str, Seeder],
        station: Station,
    ) -> None:
        self.urls = urls
        self._seeders = seeders
        self._station = station
        self._engines = {
            service: make_engine(url, pool_size=1, max_overflow=0) for service, url in urls.items()
        }
        self._emptying: dict[str, str] = {}
        self.bootstrapped: dict[str, dict[str, int]] = {}  # rows per table, as bootstrap left them
        for service in urls:
            self._inspect(service)

    def _inspect(self, service: str) -> None:
        tables = MetaData()
        with self._engines[service].connect() as conn:
            tables.reflect(conn, only=lambda name, _: not name.startswith("alembic_version"))
            self.bootstrapped[service] = {
                table.name: conn.scalar(select(func.count()).select_from(table)) or 0
                for table in tables.sorted_tables
            }
        deletes = [f'DELETE FROM "{table.name}";' for table in reversed(tables.sorted_tables)]
        restarts = (
            "SELECT setval(c.oid, 1, false) FROM pg_class c"
            " WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
        )
        self._emptying[service] = "".join(deletes) + restarts

    def reset(self, service: str) -> int:
        """Empty one service's database and seed the station again; returns the rows seeded."""
        try:
            with self._engines[service].begin() as conn:
                # A transaction the test left open could make this wait for ever: fail
                # instead, naming the cause. The rows are thrown away by the next reset,
                # so the commit need not wait for the disk.
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{self.LOCK_TIMEOUT}'")
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                conn.exec_driver_sql(self._emptying[service])
                with Session(bind=conn) as session:
                    seeded = self._seeders[service](session, self._station)
                    session.flush()
        except OperationalError as exc:
            raise RuntimeError(
                f"could not empty the {service} database after the test: a connection still"
                f" holds a lock (a session or transaction left open?): {exc.orig}"
            ) from exc
        return seeded

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()


def settings_for(service: str, *, database_url: str, broker_url: str, var_dir: Path) -> Settings:
    """A service's settings pointing at the given database and broker."""
    env = {
        "FENGQIAO_VAR_DIR": str(var_dir),
        f"{service.upper()}_DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings(service)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, which the test may stop and start again."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server")
            return
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not redis_reachable(self.url):
            if time.monotonic() > deadline:
                raise RuntimeError("private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
