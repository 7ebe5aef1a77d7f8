"""The APIs' side of `errors`: the one error shape as Flask and flask-smorest answer it.

Apart from `errors` so that a worker, which raises domain errors but answers no request,
does not load Flask (docs/capacity.md, memory).
"""

from __future__ import annotations

import logging
from typing import Any

import flask_smorest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest.error_handler import ErrorSchema as SmorestErrorSchema
from marshmallow import fields
from werkzeug.exceptions import HTTPException

from services.common.errors import VALIDATION_MESSAGE, DomainError, error_body, phrase

log = logging.getLogger(__name__)


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
        return jsonify(error.body()), error.status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):  # handled by flask-smorest's handler
            return error
        log.exception("unhandled error")
        return jsonify(error_body(500, "internal error")), 500
