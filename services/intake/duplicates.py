"""The duplicate rule: the same hazard category at the same place within 30 days.

"The same place" is the same village and address, or within 50 m when both reports carry
coordinates. The first report earns the reward; later ones are linked to it.
"""

from __future__ import annotations

import math
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select, text
from sqlalchemy.orm import Session

from services.intake.models import Report
from services.intake.rules import IntakeRules

EARTH_RADIUS_M = 6_371_000.0
_DEGREE_M = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _address_key(address: str | None) -> str:
    return "".join((address or "").split()).lower()


class Place(Protocol):
    village: str
    address: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Original:
    """The earlier report a duplicate is linked to."""

    id: uuid.UUID
    tracking_code: str


def _same_place(earlier: Place, location: dict[str, Any], radius_m: float) -> bool:
    lat, lon = location.get("lat"), location.get("lon")
    if None not in (lat, lon, earlier.lat, earlier.lon):
        return distance_m(earlier.lat, earlier.lon, lat, lon) <= radius_m  # type: ignore[arg-type]
    address = _address_key(location.get("address"))
    return (
        bool(address)
        and earlier.village == location["village"]
        and (_address_key(earlier.address) == address)
    )


_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_category(session: Session, category: str) -> None:
    """Serialise duplicate checks of one category, so two reports cannot both be first.

    A statement of its own, before the check's: under READ COMMITTED each statement reads
    from a snapshot taken when it starts, so the check must start after the lock is held
    to see the report the lock's last holder committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"hazard:{category}".encode())
        session.connection().execute(_LOCK, {"key": key})
    # SQLite takes one writer at a time already.


def _candidates(
    *, near: bool
) -> Select[uuid.UUID, str, str, str | None, float | None, float | None]:
    """Earlier reports the check compares, by village or (`near`) also by a box around
    the coordinates; built once for each (parameters: category, since, test, village,
    and the box's edges)."""
    place: ColumnElement[bool] = Report.village == bindparam("village")
    if near:
        place = or_(
            place,
            and_(
                Report.lat.between(bindparam("lat_min"), bindparam("lat_max")),
                Report.lon.between(bindparam("lon_min"), bindparam("lon_max")),
            ),
        )
    # Only the columns the comparison needs, as rows: at a busy place there are many
    # earlier reports, and loading each as an object (JSON columns and all) cost more
    # than the rest of the request.
    return (
        select(
            Report.id, Report.tracking_code, Report.village, Report.address, Report.lat, Report.lon
        )
        .where(
            Report.hazard_category == bindparam("category"),
            Report.created_at >= bindparam("since"),
            Report.duplicate_of_id.is_(None),
            Report.test == bindparam("test"),
            place,
        )
        .order_by(Report.created_at)
    )


_BY_VILLAGE = _candidates(near=False)
_BY_VILLAGE_OR_NEAR = _candidates(near=True)


def find_original(
    session: Session,
    *,
    category: str,
    location: dict[str, Any],
    test: bool,
    rules: IntakeRules,
    now: datetime,
) -> Original | None:
    """The first report of this hazard at this place within the window, if there is one."""
    params: dict[str, Any] = {
        "category": category,
        "since": now - rules.duplicate_window,
        "test": test,
        "village": location["village"],
    }
    lat, lon = location.get("lat"), location.get("lon")
    statement = _BY_VILLAGE
    if lat is not None and lon is not None:
        dlat = rules.duplicate_radius_m / _DEGREE_M
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        params |= {
            "lat_min": lat - dlat,
            "lat_max": lat + dlat,
            "lon_min": lon - dlon,
            "lon_max": lon + dlon,
        }
        statement = _BY_VILLAGE_OR_NEAR
    # Through the connection: the ORM adds nothing to a query of columns.
    candidates = session.connection().execute(statement, params)
    for row in candidates:
        if _same_place(row, location, rules.duplicate_radius_m):
            return Original(id=row.id, tracking_code=row.tracking_code)
    return None
