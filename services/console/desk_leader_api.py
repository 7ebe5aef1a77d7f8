"""Mediation's reads that the desk's week and the leader's breaches are drawn from."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import session

from services.console import runtime_of
from services.console.mediation_api import MediationApi

# flask-smorest's largest page: the pages here show at most this many cases.
PAGE_SIZE = 100


class DeskLeaderApi(MediationApi):
    def cases_where(
        self, *, page_size: int = PAGE_SIZE, **filters: str
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the cases matching `filters` (`status`, `owner`, `due_before`, …) that
        the caller may see, soonest due first, and how many match in all."""
        response = self._send("GET", "/v1/cases", params={"page_size": page_size, **filters})
        found: list[dict[str, Any]] = response.json()
        try:
            total = int(json.loads(response.headers.get("X-Pagination", "{}"))["total"])
        except (KeyError, TypeError, ValueError):
            total = len(found)
        return found, total

    def count_cases(self, **filters: str) -> int:
        """How many cases match `filters` (one small page is asked for, to read the total)."""
        return self.cases_where(page_size=1, **filters)[1]

    def villages(self) -> dict[str, str]:
        """Each village's code → its name."""
        found: list[dict[str, Any]] = self._call("GET", "/v1/villages")
        return {v["code"]: v["name"] for v in found}

    def booked_sessions(self, desk: str, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The desk's sessions starting in [start, end) with their cases (those one may see)."""
        result: list[dict[str, Any]] = self._call(
            "GET",
            f"/v1/desks/{desk}/sessions",
            params={"from": start.isoformat(), "to": end.isoformat()},
        )
        return result

    def calendar_range(self, first: date, last: date) -> list[dict[str, Any]]:
        """Each date from `first` to `last`: working or not, and why."""
        result: list[dict[str, Any]] = self._call(
            "GET", "/v1/calendar/range", params={"from": first.isoformat(), "to": last.isoformat()}
        )
        return result


def reads() -> DeskLeaderApi:
    """The API as the signed-in person (their token)."""
    return DeskLeaderApi(runtime_of().http, token=str(session["token"]))
