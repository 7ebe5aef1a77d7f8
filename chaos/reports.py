"""The reports the campaign submits: the seed's four stories, each from a reporter of its own.

A reporter of its own, because notify sends one SMS a minute to a number (the rest wait);
a hazard at an address of its own, because a second report of the same hazard is a
duplicate that earns no claim. Either would make a report look unfinished when it is not.
"""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime
from typing import Any

from services.cli.demo import seed_stories


class ReportBodies:
    """Serialised reports, numbered across the whole campaign; safe to share between threads."""

    def __init__(self) -> None:
        self._stories = seed_stories(datetime.now(UTC))
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> bytes:
        with self._lock:
            index = next(self._counter)
        return json.dumps(self.body(index), ensure_ascii=False).encode()

    def body(self, index: int) -> dict[str, Any]:
        story = self._stories[index % len(self._stories)]
        body = {**story, "reporter": {**story["reporter"], "phone": f"+86137{index:08d}"}}
        if story["kind"] == "hazard":
            body["location"] = {**story["location"], "address": f"魏村五组出租屋 {index} 号"}
        return body
