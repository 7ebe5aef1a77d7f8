"""Domain errors that carry their HTTP status, and JSON answers for every error."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused the request; `status` is what the client gets."""

    status = 409

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


def register_error_handlers(app: Flask) -> None:
    """Answer domain errors with their status, and unexpected ones with a JSON 500."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> ResponseReturnValue:
        return jsonify(code=error.status, status=type(error).__name__, message=error.message), (
            error.status
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):  # handled by flask-smorest's handler
            return error
        log.exception("unhandled error")
        return jsonify(code=500, status="Internal Server Error", message="internal error"), 500
