"""The claim API's shapes: each action's fields, the claim as staff see it, list filters."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from services.common.input_fields import Text
from services.common.phones import ChineseMobile, mask_phone
from services.common.transitions import HistoryOut
from services.common.transitions import fields_by_action as describe_fields
from services.rewards.claims.workflow import Action, ClaimStatus

SEVERITIES = ("low", "medium", "high")


class _Fields(Schema):
    class Meta:
        unknown = RAISE

    note = Text(multiline=True, load_default="", validate=validate.Length(max=1000))


class StrictBoolean(fields.Boolean):
    """JSON true or false only: not "yes", not 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class VerifyFields(_Fields):
    confirmed = StrictBoolean(required=True)
    severity = Text(load_default=None, validate=validate.OneOf(SEVERITIES))
    reason = Text(multiline=True, load_default=None, validate=validate.Length(1, 1000))
    duplicate_of = fields.UUID(load_default=None)


class DecideFields(_Fields):
    decision = Text(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = Text(multiline=True, required=True, validate=validate.Length(1, 1000))


FIELDS_OF: dict[Action, type[Schema]] = {
    Action.VERIFY: VerifyFields,
    Action.DECIDE: DecideFields,
    Action.PAY: _Fields,
}


def fields_by_action() -> str:
    """Each action's fields, for the API document (required ones marked *)."""
    return describe_fields(FIELDS_OF, [a.value for a in Action])


class ClaimTransitionIn(Schema):
    """`{"action": …, …}`: the action's own fields are checked by its command."""

    class Meta:
        unknown = INCLUDE

    action = Text(required=True, validate=validate.OneOf([a.value for a in Action]))


class ClaimQueryArgs(Schema):
    status = Text(validate=validate.OneOf([s.value for s in ClaimStatus]))
    reporter = ChineseMobile()
    report_id = fields.UUID()


class ClaimListItemOut(Schema):
    id = fields.UUID()
    report_id = fields.UUID()
    tracking_code = Text()
    status = Text()
    reporter = fields.Method("_reporter")
    village = Text()
    category = Text()
    severity = Text()
    verified_severity = Text(allow_none=True)
    amount_fen = fields.Integer(allow_none=True)
    period = Text()
    test = fields.Boolean()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    def _reporter(self, claim: Any) -> dict[str, Any]:
        def get(name: str) -> Any:  # a claim, or the dict of one with its allowed actions
            return claim[name] if isinstance(claim, dict) else getattr(claim, name)

        return {"name": get("reporter_name"), "phone": mask_phone(get("reporter_phone"))}


class ClaimOut(ClaimListItemOut):
    summary = Text()
    address = Text(allow_none=True)
    reported_at = fields.AwareDateTime()
    over_limits = fields.List(Text())
    duplicate_of = fields.UUID(allow_none=True)
    payout_id = fields.UUID(allow_none=True)
    history = fields.List(fields.Nested(HistoryOut))
    allowed_actions = fields.List(Text())
