"""Mediation's staff API as the console uses it: over HTTP only, with timeouts
(`http_api.py` holds the calling and the errors every client shares)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.console.http_api import ApiError, StaffApi, Unreachable

__all__ = ["ApiError", "MediationApi", "StaffApi", "Unreachable"]


class MediationApi(StaffApi):
    def cases(self, *, page_size: int = 100) -> list[dict[str, Any]]:
        """The cases the caller may see, soonest due first (as the API sorts them)."""
        result: list[dict[str, Any]] = self._call(
            "GET", "/v1/cases", params={"page_size": page_size}
        )
        return result

    def case(self, case_id: uuid.UUID) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/v1/cases/{case_id}")
        return result

    def transition(
        self, case_id: uuid.UUID, body: dict[str, Any], *, key: str | None = None
    ) -> dict[str, Any]:
        return self._transition(f"/v1/cases/{case_id}", body, key=key)

    def desks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/v1/desks")
        return result

    def free_slots(self, desk: str, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call(
            "GET",
            f"/v1/desks/{desk}/slots",
            params={"from": start.isoformat(), "to": end.isoformat()},
        )
        return result
