"""The station definition (beat map, officers, desks) read from a TOML file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Station:
    name: str
    sms_signature: str
    raw: dict[str, Any]

    @property
    def village_codes(self) -> list[str]:
        """Every village on the beat map."""
        return [v["code"] for v in self.raw.get("villages", [])]

    def section(self, key: str) -> Any:
        """One top-level section of the file, or an empty list when absent."""
        return self.raw.get(key, [])


def load_station(path: Path) -> Station:
    """Parse a station file."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    meta = raw.get("station", {})
    return Station(name=meta["name"], sms_signature=meta["sms_signature"], raw=raw)
