"""Bring intake's database up: migrate, then load the station's beat map if empty."""

from __future__ import annotations

import logging

from services.common.migrations import upgrade
from services.common.station import load_station
from services.intake import service
from services.intake.runtime import IntakeRuntime

log = logging.getLogger(__name__)


def bootstrap(runtime: IntakeRuntime) -> None:
    """Migrate intake's database and seed the demo station on an empty one."""
    upgrade("intake", runtime.settings.database_url)
    station = load_station(runtime.settings.station_file)
    with runtime.db.transaction() as session:
        added = service.seed_station(session, station=station)
    if added:
        log.info("loaded %d villages of %s", added, station.name)
