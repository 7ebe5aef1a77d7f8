"""The case API's shapes: each action's fields, the case as staff see it, list filters."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from services.common.input_fields import Text
from services.common.phones import mask_phone
from services.common.transitions import HistoryOut
from services.common.transitions import fields_by_action as describe_fields
from services.mediation.cases.workflow import Action, CaseStatus, DueKind

RISK_GRADES = ("A", "B", "C", "D")


class _Fields(Schema):
    class Meta:
        unknown = RAISE

    note = Text(multiline=True, load_default="", validate=validate.Length(max=1000))


class AcceptFields(_Fields):
    risk_grade = Text(required=True, validate=validate.OneOf(RISK_GRADES))


class ReassignFields(_Fields):
    officer = Text(required=True, validate=validate.Length(1, 50))


class Agreement(Schema):
    """调解协议书: what the parties agreed and by when they perform it."""

    class Meta:
        unknown = RAISE

    parties = fields.List(
        Text(validate=validate.Length(1, 50)), load_default=None, validate=validate.Length(1, 20)
    )  # the names of the parties who agreed; all the case's parties when left out
    facts = Text(multiline=True, load_default="", validate=validate.Length(max=2000))
    terms = Text(multiline=True, required=True, validate=validate.Length(1, 2000))
    perform_by = fields.Date(required=True)


class RecordSessionFields(_Fields):
    outcome = Text(required=True, validate=validate.OneOf(["resolved", "failed"]))
    note = Text(multiline=True, required=True, validate=validate.Length(1, 1000))
    agreement = fields.Nested(Agreement, load_default=None, allow_none=True)


class EscalateFields(_Fields):
    desk = Text(required=True, validate=validate.Length(1, 50))
    starts_at = fields.AwareDateTime(load_default=None, allow_none=True)


class RescheduleFields(_Fields):
    starts_at = fields.AwareDateTime(load_default=None, allow_none=True)


class DeclineFields(_Fields):
    party = Text(required=True, validate=validate.Length(1, 50))
    reason = Text(multiline=True, required=True, validate=validate.Length(1, 1000))


class FollowUpFields(_Fields):
    kind = Text(required=True, validate=validate.OneOf(["visit", "phone"]))
    result = Text(required=True, validate=validate.OneOf(["stable", "rebounded"]))
    note = Text(multiline=True, required=True, validate=validate.Length(1, 1000))


class ChangeRiskGradeFields(_Fields):
    risk_grade = Text(required=True, validate=validate.OneOf(RISK_GRADES))
    reason = Text(multiline=True, required=True, validate=validate.Length(1, 1000))


FIELDS_OF: dict[Action, type[Schema]] = {
    Action.ACCEPT: AcceptFields,
    Action.REASSIGN: ReassignFields,
    Action.RECORD_SESSION: RecordSessionFields,
    Action.ESCALATE: EscalateFields,
    Action.RESCHEDULE: RescheduleFields,
    Action.DECLINE: DeclineFields,
    Action.FOLLOW_UP: FollowUpFields,
    Action.CLOSE: _Fields,
    Action.CHANGE_RISK_GRADE: ChangeRiskGradeFields,
    Action.TAKE_OVER: _Fields,
}
STAFF_ACTIONS = [a.value for a in Action if a != Action.TAKE_OVER]


def fields_by_action() -> str:
    """Each staff action's fields, for the API document (required ones marked *)."""
    return describe_fields(FIELDS_OF, STAFF_ACTIONS)


class CaseTransitionIn(Schema):
    """`{"action": …, …}`: the action's own fields are checked by its command."""

    class Meta:
        unknown = INCLUDE

    action = Text(required=True, validate=validate.OneOf(STAFF_ACTIONS))


class CaseQueryArgs(Schema):
    status = Text(validate=validate.OneOf([s.value for s in CaseStatus]))
    village = Text()
    owner = Text()
    desk = Text()
    due_before = fields.AwareDateTime()
    report_id = fields.UUID()
    tracking_code = Text()


class PartyOut(Schema):
    name = fields.String()
    role = fields.String()
    phone = fields.Function(lambda p: mask_phone(p.phone) if p.phone else None)


class SessionOut(Schema):
    id = fields.UUID()
    desk = fields.String(attribute="desk_code")
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    outcome = fields.String(allow_none=True)
    cancelled = fields.Function(lambda s: s.cancelled_at is not None)


class CaseListItemOut(Schema):
    id = fields.UUID()
    report_id = fields.UUID()
    tracking_code = fields.String()
    status = fields.String()
    village = fields.String()
    owner = fields.String(attribute="owner_id")
    risk_grade = fields.String(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    due_kind = fields.String(allow_none=True, validate=validate.OneOf([k.value for k in DueKind]))
    summary = fields.String()
    rebound_of = fields.UUID(allow_none=True)
    parties = fields.List(fields.Nested(PartyOut))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CaseOut(CaseListItemOut):
    details = fields.String(allow_none=True)
    reporter = fields.Method("_reporter")
    sessions = fields.List(fields.Nested(SessionOut))
    history = fields.List(fields.Nested(HistoryOut))
    allowed_actions = fields.List(fields.String())

    def _reporter(self, case: Any) -> dict[str, Any]:
        phone = case.reporter.get("phone")
        return {"name": case.reporter.get("name"), "phone": mask_phone(phone) if phone else None}


class StatsQueryArgs(Schema):
    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)


class StatsPeriodOut(Schema):
    period = fields.String(metadata={"description": "`2025-W03` (ISO week) or `2025-03`"})
    cases = fields.Integer(metadata={"description": "cases opened in the period"})
    resolved = fields.Integer(metadata={"description": "of those, resolved (at any time)"})
    rebounded = fields.Integer(metadata={"description": "of those resolved, rebounded"})
    resolution_rate = fields.Float(allow_none=True)
    rebound_rate = fields.Float(allow_none=True)


class StatsOut(Schema):
    from_ = fields.AwareDateTime(attribute="from", data_key="from")
    to = fields.AwareDateTime()
    cases = fields.Integer()
    resolved = fields.Integer()
    rebounded = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    sessions_by_desk = fields.Dict(keys=fields.String(), values=fields.Integer())
    cases_by_desk = fields.Dict(keys=fields.String(), values=fields.Integer())
    rebounds_by_desk = fields.Dict(keys=fields.String(), values=fields.Integer())
    resolution_rate = fields.Float(allow_none=True)
    rebound_rate = fields.Float(allow_none=True)
    median_days_to_resolution = fields.Float(allow_none=True)
    deadlines_breached = fields.Integer()
    weeks = fields.List(fields.Nested(StatsPeriodOut), metadata={"description": "station time"})
    months = fields.List(fields.Nested(StatsPeriodOut), metadata={"description": "station time"})
