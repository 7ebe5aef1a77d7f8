"""What every service's transition commands share: the problems of one request, the refusal
that answers 409 / 403 / 422 in the staff contract's shapes, and small field helpers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields

from services.common.errors import DomainError

MAX_KEY_LENGTH = 255
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
    "description": "Repeat a step safely: the same key and body answer the first step again.",
}


@dataclass
class Problems:
    """Everything wrong with one request, by kind."""

    state: list[str] = field(default_factory=list)
    access: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def field(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.state or self.access or self.fields)


def unprocessable(fields: dict[str, list[str]]) -> dict[str, Any]:
    """flask-smorest's 422 body, naming each bad field."""
    return {"code": 422, "status": "Unprocessable Entity", "errors": {"json": fields}}


class FieldsRefused(DomainError):
    """Fields a schema accepted but a rule refuses (a date too old, a village not yours)."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(
            "; ".join(f"{n}: {'; '.join(m)}" for n, m in problems.fields.items()), status=422
        )
        self.problems = problems

    def body(self) -> dict[str, Any]:
        return unprocessable(self.problems.fields)


class TransitionRefused(DomainError):
    """The step may not be taken; carries every problem and answers 409, 403 or 422."""

    def __init__(self, *, status: str, action: str, allowed: list[str], problems: Problems) -> None:
        kind = 409 if problems.state else 403 if problems.access else 422
        reasons = (
            problems.state
            + problems.access
            + [f"{name}: {'; '.join(msgs)}" for name, msgs in problems.fields.items()]
        )
        super().__init__("; ".join(reasons), status=kind)
        self.current, self.action, self.allowed, self.problems = status, action, allowed, problems

    def body(self) -> dict[str, Any]:
        """The answer's JSON: the staff contract's 409 shape, flask-smorest's for 403/422."""
        if self.status == 409:
            return {
                "code": "illegal_transition",
                "status": self.current,
                "action": self.action,
                "allowed": self.allowed,
                "message": self.message,
            }
        if self.status == 403:
            return {"code": 403, "status": "Forbidden", "message": self.message}
        return unprocessable(self.problems.fields)


def flat_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as `{"agreement.terms": [...]}`."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(flat_messages(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """An action's fields as JSON for a history row (dates and ids as strings)."""
    out: dict[str, Any] = json.loads(json.dumps(data, default=_as_text))
    return out


def _as_text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def fingerprint(body: dict[str, Any]) -> str:
    """A digest of a request body, to tell a repeat from a different request under one key."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_key() -> str | None:
    """The request's `Idempotency-Key`, if any; a 400 if it is empty or too long."""
    from flask import request  # here: the commands run in workers too, without Flask
    from flask_smorest import abort

    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        abort(400, message=f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    return key


class HistoryOut(Schema):
    """One step of a thing's history: `{at, by, action, from, to, note, detail}`."""

    at = fields.AwareDateTime()
    by = fields.String()
    action = fields.String()
    from_ = fields.String(attribute="from_status", data_key="from")
    to = fields.String(attribute="to_status")
    note = fields.String()
    detail = fields.Dict()


class IllegalTransitionOut(Schema):
    code = fields.String()
    status = fields.String()
    action = fields.String()
    allowed = fields.List(fields.String())
    errors = fields.Dict()


def fields_by_action(fields_of: Mapping[Any, type[Schema]], actions: Iterable[str]) -> str:
    """Each action's fields, for the API document (required ones marked *)."""
    lines = []
    for action in actions:
        schema = fields_of[action]()  # StrEnum keys answer to their strings
        names = [f"{n}{'*' if f.required else ''}" for n, f in schema.fields.items()]
        lines.append(f"- `{action}`: {', '.join(names)}")
    return "\n".join(lines)
