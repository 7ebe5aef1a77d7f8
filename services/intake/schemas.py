"""The partner contract's request and response shapes (the OpenAPI document comes from here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.input_fields import InputSchema, Text
from services.common.phones import ChineseMobile, MaskedPhone

KINDS = ("dispute", "hazard", "brave_act", "good_deed")
HAZARD_CATEGORIES = ("wiring", "charging", "fire_exit", "gas", "structure", "other")
SEVERITIES = ("low", "medium", "high")
PARTY_ROLES = ("claimant", "respondent", "other")
STATUSES = (
    "received",
    "routed",
    "in_progress",
    "resolved",
    "rewarded",
    "declined",
    "duplicate",
    "closed",
)
BRAVE_ACT_MAX_AGE = timedelta(days=365)


class LocationIn(InputSchema):
    village = Text(required=True, validate=validate.Length(1, 50))
    address = Text(validate=validate.Length(max=200))
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))


class ReporterIn(InputSchema):
    name = Text(validate=validate.Length(1, 50))
    phone = ChineseMobile(required=True, metadata={"example": "13800138000"})


class PartyIn(InputSchema):
    name = Text(required=True, validate=validate.Length(1, 50))
    phone = ChineseMobile(metadata={"example": "13900139000"})
    role = Text(required=True, validate=validate.OneOf(PARTY_ROLES))


class HazardIn(InputSchema):
    category = Text(required=True, validate=validate.OneOf(HAZARD_CATEGORIES))
    severity = Text(required=True, validate=validate.OneOf(SEVERITIES))


class NomineeIn(InputSchema):
    name = Text(required=True, validate=validate.Length(1, 50))
    phone = ChineseMobile(required=True)


class ReportIn(InputSchema):
    """A report as a partner submits it."""

    kind = Text(required=True, validate=validate.OneOf(KINDS))
    summary = Text(required=True, validate=validate.Length(1, 200))
    details = Text(multiline=True, validate=validate.Length(max=4000))
    occurred_at = fields.AwareDateTime(
        required=True, metadata={"example": "2026-11-20T09:30:00+08:00"}
    )
    location = fields.Nested(LocationIn, required=True)
    reporter = fields.Nested(ReporterIn, required=True)
    parties = fields.List(fields.Nested(PartyIn), validate=validate.Length(max=20))
    hazard = fields.Nested(HazardIn)
    nominee = fields.Nested(NomineeIn)

    @validates_schema(skip_on_field_errors=False)
    def check_rules(self, data: dict[str, Any], **_: Any) -> None:
        """Per-kind required parts, time rules and the beat map, every problem at once."""
        errors: dict[str, Any] = {}
        kind = data.get("kind")
        if kind == "dispute" and len(data.get("parties") or []) < 2:
            errors.setdefault("parties", []).append("a dispute needs at least two parties")
        if kind == "hazard" and "hazard" not in data:
            errors.setdefault("hazard", []).append("a hazard report needs category and severity")
        if kind in ("brave_act", "good_deed") and "nominee" not in data:
            errors.setdefault("nominee", []).append(f"a {kind} report needs the nominee")
        for part, kinds in (("hazard", ("hazard",)), ("nominee", ("brave_act", "good_deed"))):
            if part in data and kind in KINDS and kind not in kinds:
                errors.setdefault(part, []).append(f"not allowed for a {kind} report")
        runtime = current_app.extensions["fengqiao"]
        occurred_at = data.get("occurred_at")
        if occurred_at is not None:
            now = runtime.clock.now()
            if occurred_at > now + timedelta(minutes=5):  # five minutes for clock skew
                errors.setdefault("occurred_at", []).append("may not lie in the future")
            elif kind == "brave_act" and now - occurred_at > BRAVE_ACT_MAX_AGE:
                errors.setdefault("occurred_at", []).append(
                    "a brave act must be nominated within one year of the act"
                )
        village = (data.get("location") or {}).get("village")
        if village is not None and not runtime.beat_map.knows(village):
            errors["location"] = {"village": [f"unknown village {village!r}"]}
        if errors:
            raise ValidationError(errors)


class LinksOut(Schema):
    self = fields.String(required=True)


class AcceptedOut(Schema):
    id = fields.UUID(required=True)
    tracking_code = fields.String(required=True, metadata={"example": "WC7K3M9QPD"})
    status = fields.String(required=True)
    links = fields.Nested(LinksOut, required=True)


class LocationOut(Schema):
    village = fields.String()
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class PersonOut(Schema):
    name = fields.String(allow_none=True)
    phone = MaskedPhone(allow_none=True, metadata={"example": "138****8000"})
    role = fields.String()


class TimelineEntryOut(Schema):
    at = fields.AwareDateTime(required=True)
    event = fields.String(required=True)
    service = fields.String(required=True)
    detail = fields.String()


class ReportOut(Schema):
    """A report as its agency sees it: phones masked, with its timeline."""

    id = fields.UUID(required=True)
    tracking_code = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    summary = fields.String(required=True)
    details = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime(required=True)
    created_at = fields.AwareDateTime(required=True)
    location = fields.Nested(LocationOut)
    reporter = fields.Nested(PersonOut)
    parties = fields.List(fields.Nested(PersonOut))
    hazard = fields.Dict(allow_none=True)
    nominee = fields.Nested(PersonOut, allow_none=True)
    test = fields.Boolean(metadata={"description": "submitted with a test key"})
    duplicate_of = fields.Method(
        "dump_duplicate_of",
        metadata={"description": "tracking code of the first report of the same hazard"},
    )
    timeline = fields.List(fields.Nested(TimelineEntryOut), attribute="events")
    links = fields.Method("dump_links", metadata={"example": {"self": "/v1/reports/{id}"}})

    def dump_duplicate_of(self, report: Any) -> str | None:
        return report.duplicate_of.tracking_code if report.duplicate_of is not None else None

    def dump_links(self, report: Any) -> dict[str, str]:
        return {"self": f"/v1/reports/{report.id}"}


class ReportListItemOut(ReportOut):
    class Meta:
        exclude = ("timeline", "details")


class ReportQueryArgs(InputSchema):
    kind = Text(validate=validate.OneOf(KINDS))
    status = Text(validate=validate.OneOf(STATUSES))
    since = fields.AwareDateTime(metadata={"description": "reports received at or after this"})
