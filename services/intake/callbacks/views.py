"""The partner API: `/v1/callback`. HTTP only; the work is in `service.py`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from services.common.blueprint import Blueprint
from services.common.input_fields import InputSchema, Url
from services.intake.callbacks import destinations, service
from services.intake.models import AgencyCallback
from services.intake.runtime import IntakeRuntime
from services.intake.views import require_agency_key

MAX_URL_LENGTH = 500  # the width of `AgencyCallback.url`

blp = Blueprint(
    "callback",
    __name__,
    url_prefix="/v1/callback",
    description="Have each status change of your reports POSTed to your URL, signed",
)
# The same key check and rate limit as /v1/reports.
blp.before_request(require_agency_key)


class CallbackIn(InputSchema):
    url = Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=MAX_URL_LENGTH),
        error_messages={"invalid": "must be an http or https URL with a host"},
        metadata={"example": "https://partner.example/fengqiao/status"},
    )


class CallbackOut(Schema):
    url = fields.String(required=True)


class CallbackRegisteredOut(CallbackOut):
    signing_secret = fields.String(
        required=True,
        metadata={"description": "Signs each callback; shown only in this answer. Keep it."},
    )


def _runtime() -> IntakeRuntime:
    runtime: IntakeRuntime = current_app.extensions["fengqiao"]
    return runtime


def _agency_id() -> uuid.UUID:
    agency_id: uuid.UUID = g.caller.agency_id
    return agency_id


@blp.route("")
class Callback(MethodView):
    @blp.arguments(CallbackIn)
    @blp.response(200, CallbackRegisteredOut)
    def put(self, data: dict[str, Any]) -> AgencyCallback:
        """Register or replace your callback URL; each call issues a new signing secret.

        Every status change of your reports is then POSTed to the URL as JSON, signed in
        `X-Fengqiao-Signature: t=<unix seconds>,v1=<hex>` where `v1` is the HMAC-SHA256,
        keyed with the signing secret, of `<t>.<raw body>`. Failed deliveries are retried
        with backoff for about four hours; `X-Fengqiao-Delivery` names each one.
        """
        runtime = _runtime()
        try:
            destinations.check(data["url"], allow_private=runtime.rules.callbacks_allow_private)
        except destinations.ForbiddenDestination as exc:
            abort(422, errors={"json": {"url": [str(exc)]}})
        with runtime.db.transaction() as session:
            return service.register_callback(
                session, agency_id=_agency_id(), url=data["url"], now=runtime.clock.now()
            )

    @blp.response(200, CallbackOut)
    @blp.alt_response(404, description="No callback is registered")
    def get(self) -> AgencyCallback:
        """Your callback URL (never its signing secret)."""
        with _runtime().db.sessions() as session:
            return service.get_callback(session, agency_id=_agency_id())

    @blp.response(204)
    def delete(self) -> None:
        """Stop callbacks; deliveries not yet made are dropped."""
        with _runtime().db.transaction() as session:
            service.delete_callback(session, agency_id=_agency_id())
