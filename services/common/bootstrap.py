"""Bring a service's database up: migrate to the newest schema, then seed an empty one."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from services.common.migrations import upgrade
from services.common.runtime import Runtime
from services.common.station import Station, load_station

log = logging.getLogger(__name__)

Seeder = Callable[[Session, Station], int]


def bootstrap(runtime: Runtime, seed: Seeder) -> int:
    """Migrate, then let `seed` load the station's part this service owns; returns rows added."""
    upgrade(runtime.service, runtime.settings.database_url)
    station = load_station(runtime.settings.station_file)
    with runtime.db.transaction() as session:
        added = seed(session, station)
    if added:
        log.info("%s: loaded %d rows of the %s station", runtime.service, added, station.name)
    return added
