"""What every staff workflow answers when a step may not be taken (the staff contract).

A command gathers every problem of a request before refusing it: the status (409), the
caller's role or identity (403), the fields (422). `TransitionRefused.body()` is the
contract's JSON for each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.common.errors import DomainError


@dataclass
class Problems:
    """Everything wrong with one request, by kind."""

    state: list[str] = field(default_factory=list)
    access: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def field(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def add_messages(self, messages: Any, prefix: str = "") -> None:
        """marshmallow's (nested) messages, as `{"nominee.phone": [...]}`."""
        if isinstance(messages, list):
            for message in messages:
                self.field(prefix or "_schema", str(message))
            return
        for key, value in messages.items():
            self.add_messages(value, f"{prefix}.{key}" if prefix else str(key))

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
