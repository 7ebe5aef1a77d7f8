"""Domain errors that carry their HTTP status, and one JSON shape for every error.

Every error answers `{"code": <status>, "status": "<HTTP reason phrase>", "message": "…"}`,
with `errors` naming each bad field where there are some (flask-smorest's shape) and, for a
domain rule's refusal, `reason`: a stable machine-readable name (`key_reused`).
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

import flask_smorest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest.error_handler import ErrorSchema as SmorestErrorSchema
from marshmallow import fields
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

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


class NotFound(DomainError):
    status = 404


class ErrorSchema(SmorestErrorSchema):  # type: ignore[misc]
    """The error shape as the OpenAPI documents show it."""

    reason = fields.String(
        metadata={"description": "A domain rule's refusal: its stable name (key_reused)"}
    )


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api, whose error answers always carry a `message`."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        payload, status, headers = super().handle_http_exception(error)
        if "message" not in payload:
            payload["message"] = VALIDATION_MESSAGE if "errors" in payload else error.description
        payload["status"] = phrase(status)
        return payload, status, headers


def register_error_handlers(app: Flask) -> None:
    """Answer domain errors with their status, and unexpected ones with a JSON 500."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> ResponseReturnValue:
        return jsonify(error_body(error.status, error.message, reason=error.reason)), error.status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):  # handled by flask-smorest's handler
            return error
        log.exception("unhandled error")
        return jsonify(error_body(500, "internal error")), 500
