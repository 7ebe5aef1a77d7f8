"""The two ways the system runs: embedded, or on Redis and PostgreSQL made fresh for the run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
from psycopg import sql

from services.common.config import SERVICES

CONNECT_TIMEOUT_SECONDS = 5


class BackendError(Exception):
    """A backend could not be prepared."""


@dataclass(frozen=True)
class Backend:
    mode: str
    description: str
    env: dict[str, str | None]


# The benchmark measures the path, not the rules: no quiet hours whatever the hour, and an
# agency rate no load here reaches (the limiter is still consulted on every request).
RULES_OFF: dict[str, str | None] = {
    "NOTIFY_QUIET_FROM": "00:00",
    "NOTIFY_QUIET_UNTIL": "00:00",
    "INTAKE_RATE_LIMIT": "1000000/minute",
}


def _database_variables(urls: dict[str, str] | None) -> dict[str, str | None]:
    return {f"{service.upper()}_DATABASE_URL": (urls or {}).get(service) for service in SERVICES}


@contextmanager
def embedded(var_dir: Path) -> Iterator[Backend]:
    """SQLite files and the filesystem broker in `var_dir`; nothing inherited points elsewhere."""
    env: dict[str, str | None] = {
        "FENGQIAO_VAR_DIR": str(var_dir),
        "BROKER_URL": None,
        "REDIS_URL": None,
        **_database_variables(None),
        **RULES_OFF,
    }
    yield Backend("embedded", "SQLite + filesystem broker", env)


def _redis_client(url: str) -> redis.Redis:
    db = urlsplit(url).path.strip("/")
    # Flushing is only safe on a database index chosen for the benchmark, never the default.
    if not db.isdigit() or int(db) == 0:
        raise BackendError(f"--redis-url must name a Redis database other than 0, not {url!r}")
    return redis.Redis.from_url(
        url, socket_timeout=CONNECT_TIMEOUT_SECONDS, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS
    )


def _flush(url: str) -> None:
    client = _redis_client(url)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise BackendError(f"cannot flush Redis at {url}: {exc}") from exc
    finally:
        client.close()


def _admin(postgres_url: str) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(
            postgres_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
    except psycopg.Error as exc:
        raise BackendError(f"cannot connect to PostgreSQL at {postgres_url}: {exc}") from exc


def _drop(postgres_url: str, names: list[str]) -> None:
    with _admin(postgres_url) as conn:
        for name in names:
            # FORCE: a connection the run left open must not keep the database alive.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def redis_postgres(var_dir: Path, redis_url: str, postgres_url: str) -> Iterator[Backend]:
    """A flushed Redis database and one new PostgreSQL database per service, removed after."""
    _flush(redis_url)
    prefix = f"fengqiao_bench_{secrets.token_hex(4)}"
    names = {service: f"{prefix}_{service}" for service in SERVICES}
    created: list[str] = []
    try:
        with _admin(postgres_url) as conn:
            for name in names.values():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                created.append(name)
        base = urlsplit(postgres_url)
        urls = {service: base._replace(path=f"/{name}").geturl() for service, name in names.items()}
        env: dict[str, str | None] = {
            # The beat schedule file still goes to the var directory.
            "FENGQIAO_VAR_DIR": str(var_dir),
            "BROKER_URL": None,
            "REDIS_URL": redis_url,
            **_database_variables(urls),
            **RULES_OFF,
        }
        yield Backend("redis", "Redis broker + PostgreSQL", env)
    finally:
        try:
            _drop(postgres_url, created)
        finally:
            _flush(redis_url)
