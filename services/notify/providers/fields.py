"""Reading the providers' webhook bodies: both send text fields and Beijing-time stamps."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.common.clock import STATION_TZ


def text(item: Mapping[str, Any], key: str) -> str:
    """A text field; ValueError if it is missing or not text."""
    value = item.get(key)
    if not isinstance(value, str):
        raise ValueError(f"missing or non-text {key!r}")
    return value


def station_time(stamp: str) -> datetime:
    """A "yyyy-MM-dd HH:mm:ss" in Beijing time, as an aware UTC datetime."""
    local = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=STATION_TZ)
    return local.astimezone(UTC)
