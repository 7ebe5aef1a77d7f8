"""What the console's API clients share: one staff member's calls over HTTP, with timeouts.

Every call carries the signed-in staff member's token. An answer that is not a success
becomes an `ApiError` holding the status and the body, which the views turn into a message
the person can act on (a 409 names the thing's status now).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


class StaffApi:
    """One service's staff API, called as one signed-in staff member."""

    def __init__(self, client: httpx.Client, *, token: str) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    def _send(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The answer when it is a success; else `ApiError` (or `Unreachable`)."""
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

    def _call(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self._send(method, path, headers=headers, **kwargs).json()

    def _transition(
        self, path: str, body: dict[str, Any], *, key: str | None = None
    ) -> dict[str, Any]:
        """`POST {path}/transitions` (the staff contract's one endpoint per state machine)."""
        headers = {"Idempotency-Key": key} if key else {}
        result: dict[str, Any] = self._call(
            "POST", f"{path}/transitions", json=body, headers=headers
        )
        return result
