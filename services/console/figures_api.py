"""The figures' and the SMS pages' calls: mediation's and rewards' stats, notify's ops API.

Over HTTP only, as the signed-in person (record 0023); no personal data comes back from the
stats, and notify masks every number it lists.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.console.mediation_api import MediationApi, StaffApi


def _window(since: datetime, until: datetime) -> dict[str, str]:
    return {"from": since.isoformat(), "to": until.isoformat()}


class CaseFigures(MediationApi):
    def stats(self, *, since: datetime, until: datetime) -> dict[str, Any]:
        """`GET /v1/stats`: the cases opened in [since, until), with weeks and months."""
        result: dict[str, Any] = self._call("GET", "/v1/stats", params=_window(since, until))
        return result


class RewardsFigures(StaffApi):
    def stats(self, *, since: datetime, until: datetime) -> dict[str, Any]:
        """`GET /v1/stats`: envelopes, awards and honours in [since, until), month by month."""
        result: dict[str, Any] = self._call("GET", "/v1/stats", params=_window(since, until))
        return result


@dataclass(frozen=True)
class MessagePage:
    messages: list[dict[str, Any]]
    total: int
    page: int
    last_page: int


class NotifyOps(StaffApi):
    def messages(
        self, *, status: str | None, template: str | None, page: int, page_size: int
    ) -> MessagePage:
        """`GET /v1/messages`, newest first, numbers masked; the total from `X-Pagination`."""
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if status:
            params["status"] = status
        if template:
            params["template"] = template
        response = self._send("GET", "/v1/messages", params=params)
        paging = json.loads(response.headers.get("X-Pagination", "{}"))
        return MessagePage(
            messages=list(response.json()),
            total=int(paging.get("total", 0)),
            page=int(paging.get("page", page)),
            last_page=int(paging.get("last_page", 1) or 1),
        )

    def message(self, sms_id: uuid.UUID) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/v1/messages/{sms_id}")
        return result

    def resend(self, sms_id: uuid.UUID) -> dict[str, Any]:
        """`POST /v1/messages/{id}/resend`: a new message linked to a failed one (else 409)."""
        result: dict[str, Any] = self._call("POST", f"/v1/messages/{sms_id}/resend")
        return result
