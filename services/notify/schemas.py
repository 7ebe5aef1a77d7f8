"""The notify staff API's shapes: numbers are always masked on the way out."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.input_fields import InputSchema, Text
from services.common.phones import ChineseMobile, MaskedPhone
from services.notify.models import SMS_STATUSES
from services.notify.templates import MAX_LENGTH, TEMPLATES, TemplateError, param_problems, render


class MessageIn(InputSchema):
    recipient = ChineseMobile(required=True, metadata={"example": "13800138000"})
    template = Text(required=True, validate=validate.OneOf(sorted(TEMPLATES)))
    params = fields.Dict(
        keys=Text(validate=validate.Length(1, 50)),
        values=Text(validate=validate.Length(max=MAX_LENGTH)),
        load_default=dict,
        metadata={
            "description": "exactly the template's parameters",
            "example": {"tracking_code": "WC7K3M9QPD"},
        },
    )
    priority = Text(load_default="normal", validate=validate.OneOf(["normal", "urgent"]))
    idempotency_key = Text(required=True, validate=validate.Length(1, 255))

    @validates_schema
    def check_params(self, data: dict[str, Any], **_: Any) -> None:
        """The template's parameters, all of them and no others, giving a text that can be sent."""
        template = TEMPLATES[data["template"]]
        problems = param_problems(template, data["params"])
        if problems:
            raise ValidationError({"params": problems})
        signature = current_app.extensions["fengqiao"].signature
        try:
            render(signature=signature, template_name=template.name, params=data["params"])
        except TemplateError as exc:
            raise ValidationError({"params": [str(exc)]}) from exc


class MessageOut(Schema):
    id = fields.UUID(required=True)
    recipient = MaskedPhone(required=True, metadata={"example": "138****8000"})
    template = fields.String(required=True)
    template_version = fields.Integer()
    body = fields.String(metadata={"description": "the text as sent, signature first"})
    segments = fields.Integer()
    priority = fields.String()
    status = fields.String(required=True, metadata={"enum": list(SMS_STATUSES)})
    failure = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    attempts = fields.Integer()
    test = fields.Boolean()
    report_id = fields.UUID(allow_none=True)
    resend_of_id = fields.UUID(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)


class MessageQueryArgs(InputSchema):
    status = Text(validate=validate.OneOf(SMS_STATUSES))
    template = Text(validate=validate.Length(max=50))
    recipient = ChineseMobile()
    since = fields.AwareDateTime()


class StatsQueryArgs(InputSchema):
    since = fields.AwareDateTime()


class StatsOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class OptOutOut(Schema):
    phone = MaskedPhone(required=True)
    source = fields.String(required=True)
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class OptOutIn(InputSchema):
    note = Text(multiline=True, validate=validate.Length(max=200))


class WebhookArgs(Schema):
    token = Text(required=True)
