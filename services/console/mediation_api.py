"""Mediation's staff API as the console uses it: over HTTP only, with timeouts.

Every call carries the signed-in staff member's token. An answer that is not a success
becomes an `ApiError` holding the status and the body, which the views turn into a message
the person can act on (a 409 names the case's status now).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx


@dataclass
class ApiError(Exception):
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def field_errors(self) -> dict[str, list[str]]:
        """`{"field": ["..."]}` of a 422, flattened one level for nested fields."""
        found = self.body.get("errors", {}).get("json", {})
        flat: dict[str, list[str]] = {}
        for name, messages in found.items() if isinstance(found, dict) else []:
            if isinstance(messages, dict):
                for sub, inner in messages.items():
                    flat[f"{name}.{sub}"] = [str(m) for m in inner]
            else:
                flat[name] = [str(m) for m in messages]
        return flat


class Unreachable(Exception):
    """The API did not answer in time, or not at all."""


class MediationApi:
    def __init__(self, client: httpx.Client, *, token: str) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    def _call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self._send(method, path, headers=headers, **kwargs).json()

    def _send(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A successful answer (its headers too, e.g. `X-Pagination`), else `ApiError`."""
        try:
            response = self._client.request(
                method, path, headers=self._headers | (headers or {}), **kwargs
            )
        except httpx.HTTPError as error:
            raise Unreachable(str(error)) from error
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        raise ApiError(response.status_code, body if isinstance(body, dict) else {})

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
        headers = {"Idempotency-Key": key} if key else {}
        result: dict[str, Any] = self._call(
            "POST", f"/v1/cases/{case_id}/transitions", json=body, headers=headers
        )
        return result

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
