"""What every staff API's views share: the role guard and the Idempotency-Key header."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from flask import g, request
from flask_smorest import abort

from services.common.staff_auth import Role, require_staff

MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_DOC: dict[str, Any] = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
    "description": "Repeat a step safely: the same key and body answer the first step again.",
}


def role_guard(
    endpoints: Mapping[tuple[str, str], StrEnum],
    roles_for: Mapping[Any, frozenset[Role]],
) -> Callable[[], None]:
    """A `before_request` hook: a staff token (401), then a role the access table admits for
    the view and method (403), before the body is even read."""
    authenticate = require_staff()

    def check() -> None:
        authenticate()
        if request.method == "OPTIONS":
            return
        method = "GET" if request.method == "HEAD" else request.method
        endpoint = endpoints.get((request.endpoint or "", method))
        if endpoint is None or g.staff.role not in roles_for[endpoint]:
            abort(403, message=f"the role {g.staff.role} may not use {endpoint or 'this'}")

    return check


def idempotency_key() -> str | None:
    """The request's Idempotency-Key, if any (400 when it is empty or too long)."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        abort(400, message=f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    return key


def fingerprint(body: Any) -> str:
    """A digest of a request body, to tell a repeat from a different request under one key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
