"""Domain errors that carry their HTTP status, and one JSON shape for every error.

Every error answers `{"code": <status>, "status": "<HTTP reason phrase>", "message": "…"}`,
with `errors` naming each bad field where there are some (flask-smorest's shape) and, for a
domain rule's refusal, `reason`: a stable machine-readable name (`key_reused`).

The errors are plain Python, for workers too; the APIs answer them with `http_errors`.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

VALIDATION_MESSAGE = "the request has errors; `errors` names each one"


def phrase(status: int) -> str:
    """The HTTP reason phrase of a status ("Unprocessable Entity")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """The one shape of every error answer."""
    return {"code": status, "status": phrase(status), "message": message, **extra}


class DomainError(Exception):
    """A rule of the domain refused the request; `status` is what the client gets.

    `reason` names the rule for programs; it defaults to the class name in snake case.
    """

    status = 409
    reason = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("reason"):
            cls.reason = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        """The answer's JSON; a refusal with more to say (a workflow's 409) overrides it."""
        return error_body(self.status, self.message, reason=self.reason)


class NotFound(DomainError):
    status = 404
