"""Rewards' staff API as the console uses it: hazard claims, nominations, the payouts export.

Over HTTP only (`http_api.py`), with the signed-in person's token: what the API hides from
their role stays hidden here, and phones come as the API gives them (masked in its lists).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.console.http_api import StaffApi

PAGE_SIZE = 100  # the most the rewards API hands out in one page


class RewardsApi(StaffApi):
    def claims(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """Hazard claims in `status` (all if None), oldest first as the API sorts them."""
        return self._list("/v1/claims", status=status)

    def claim(self, claim_id: uuid.UUID) -> dict[str, Any]:
        return self._one(f"/v1/claims/{claim_id}")

    def claim_transition(
        self, claim_id: uuid.UUID, body: dict[str, Any], *, key: str | None = None
    ) -> dict[str, Any]:
        return self._transition(f"/v1/claims/{claim_id}", body, key=key)

    def nominations(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """Nominations in `status` (all if None), soonest due first as the API sorts them."""
        return self._list("/v1/nominations", status=status)

    def nomination(self, nomination_id: uuid.UUID) -> dict[str, Any]:
        return self._one(f"/v1/nominations/{nomination_id}")

    def nomination_transition(
        self, nomination_id: uuid.UUID, body: dict[str, Any], *, key: str | None = None
    ) -> dict[str, Any]:
        return self._transition(f"/v1/nominations/{nomination_id}", body, key=key)

    def _list(self, path: str, *, status: str | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"page_size": PAGE_SIZE}
        if status:
            params["status"] = status
        result: list[dict[str, Any]] = self._call("GET", path, params=params)
        return result

    def _one(self, path: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", path)
        return result

    def payouts_csv(
        self,
        *,
        status: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> str:
        """The finance office's file exactly as the API writes it (it marks nothing exported)."""
        params: dict[str, str] = {}
        if status:
            params["status"] = status
        if start:
            params["from"] = start.isoformat()
        if end:
            params["to"] = end.isoformat()
        return self._send("GET", "/v1/payouts.csv", params=params).text
