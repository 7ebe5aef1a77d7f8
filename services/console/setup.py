"""Bringing the console's database up, and the demo station's first passwords."""

from __future__ import annotations

import secrets
from datetime import datetime

from services.common.config import DEFAULT_STATION_FILE
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.staff_auth import roster
from services.common.station import load_station
from services.console.passwords import has_any_password, set_password
from services.console.settings import ConsoleSettings


def migrate(settings: ConsoleSettings) -> None:
    upgrade("console", settings.database_url)


def demo_passwords(settings: ConsoleSettings, *, now: datetime) -> dict[str, str]:
    """On the demo station's first start, a random password for each of its staff.

    They are returned to be printed once (only their hashes are kept). A real station
    (its own `STATION_FILE`) gets none: each person's is set with `fengqiao staff password`.
    """
    if settings.station_file.resolve() != DEFAULT_STATION_FILE.resolve():
        return {}
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            if has_any_password(session):
                return {}
            made: dict[str, str] = {}
            for member in roster(load_station(settings.station_file)):
                made[member.id] = secrets.token_urlsafe(9)
                set_password(session, staff_id=member.id, password=made[member.id], now=now)
            return made
    finally:
        db.dispose()
