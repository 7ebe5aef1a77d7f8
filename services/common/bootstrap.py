"""Bring a service's database up: migrate to the newest schema, then seed an empty one."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.migrations import upgrade
from services.common.runtime import Runtime
from services.common.station import Station, load_station

log = logging.getLogger(__name__)

Seeder = Callable[[Session, Station], int]


@contextmanager
def exclusive(runtime: Runtime) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock so that replicas starting together migrate one by one."""
    if runtime.db.engine.dialect.name != "postgresql":
        yield  # SQLite: one machine, and `fengqiao run` bootstraps before starting anything
        return
    key = zlib.crc32(f"fengqiao-bootstrap-{runtime.service}".encode())
    with runtime.db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def bootstrap(runtime: Runtime, seed: Seeder) -> int:
    """Migrate, then let `seed` load the station's part this service owns; returns rows added."""
    station = load_station(runtime.settings.station_file)
    with exclusive(runtime):
        upgrade(runtime.service, runtime.settings.database_url)
        with runtime.db.transaction() as session:
            added = seed(session, station)
    if added:
        log.info("%s: loaded %d rows of the %s station", runtime.service, added, station.name)
    return added
