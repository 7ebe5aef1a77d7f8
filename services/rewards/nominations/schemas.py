"""The nomination API's shapes: each action's fields, a staff nomination, what staff see."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from services.common.input_fields import Text
from services.common.phones import ChineseMobile, mask_phone
from services.common.transitions import HistoryOut
from services.rewards.nominations.workflow import Action, DueKind, Kind, NominationStatus

RELATIONS = ("actor", "witness", "agency")  # who may nominate a brave act


class _Fields(Schema):
    class Meta:
        unknown = RAISE

    note = Text(multiline=True, load_default="", validate=validate.Length(max=1000))


class _Reason(_Fields):
    reason = Text(multiline=True, required=True, validate=validate.Length(1, 1000))


class ReviewFields(_Reason):
    recommend = fields.Boolean(required=True)
    tier = Text(load_default=None, allow_none=True)  # checked against the rules


class ObjectFields(_Fields):
    text = Text(multiline=True, required=True, validate=validate.Length(1, 2000))


class AnswerObjectionFields(_Fields):
    objection = fields.Integer(required=True)
    answer = Text(multiline=True, required=True, validate=validate.Length(1, 2000))


class ApproveFields(_Fields):
    tier = Text(load_default=None, allow_none=True)  # the review's tier by default


class AppealFields(_Reason):
    by = Text(
        load_default="nominee", validate=validate.OneOf(["nominee", "nominator"])
    )  # who asked for 复核


class DecideAppealFields(_Reason):
    outcome = Text(required=True, validate=validate.OneOf(["upheld", "overturned"]))


FIELDS_OF: dict[Action, type[Schema]] = {
    Action.REVIEW: ReviewFields,
    Action.PUBLISH_NOTICE: _Fields,
    Action.SKIP_NOTICE: _Reason,
    Action.OBJECT: ObjectFields,
    Action.ANSWER_OBJECTION: AnswerObjectionFields,
    Action.END_NOTICE: _Fields,
    Action.EXTEND: _Reason,
    Action.APPROVE: ApproveFields,
    Action.REJECT: _Reason,
    Action.HONOUR: _Fields,
    Action.APPEAL: AppealFields,
    Action.DECIDE_APPEAL: DecideAppealFields,
    Action.PAY: _Fields,
}
STAFF_ACTIONS = [a.value for a in Action if a != Action.END_NOTICE]


class NominationTransitionIn(Schema):
    """`{"action": …, …}`: the action's own fields are checked by its command."""

    class Meta:
        unknown = INCLUDE

    action = Text(required=True, validate=validate.OneOf(STAFF_ACTIONS))


class PersonIn(Schema):
    class Meta:
        unknown = RAISE

    name = Text(required=True, validate=validate.Length(1, 50))
    phone = ChineseMobile(load_default=None, allow_none=True)


class NominatorIn(PersonIn):
    relation = Text(required=True, validate=validate.OneOf(RELATIONS))


class NominationIn(Schema):
    """A nomination staff put forward themselves (a resident at the counter, an agency's letter)."""

    class Meta:
        unknown = RAISE

    kind = Text(required=True, validate=validate.OneOf([k.value for k in Kind]))
    summary = Text(required=True, validate=validate.Length(1, 200))
    details = Text(
        multiline=True, load_default=None, allow_none=True, validate=validate.Length(max=5000)
    )
    village = Text(required=True, validate=validate.Length(1, 50))
    act_at = fields.AwareDateTime(required=True)
    nominee = fields.Nested(PersonIn, required=True)
    nominator = fields.Nested(NominatorIn, required=True)


class NominationQueryArgs(Schema):
    status = Text(validate=validate.OneOf([s.value for s in NominationStatus]))
    kind = Text(validate=validate.OneOf([k.value for k in Kind]))
    village = Text()
    due_before = fields.AwareDateTime()
    report_id = fields.UUID()
    tracking_code = Text()


class HonoursQueryArgs(Schema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))


def _person(person: dict[str, Any], **extra: Any) -> dict[str, Any]:
    phone = person.get("phone")
    return {"name": person.get("name"), "phone": mask_phone(phone) if phone else None, **extra}


class ObjectionOut(Schema):
    id = fields.Integer()
    text = Text(multiline=True)
    filed_by = Text()
    filed_at = fields.AwareDateTime()
    answer = Text(multiline=True, allow_none=True)
    answered_by = Text(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)


class NominationListItemOut(Schema):
    id = fields.UUID()
    report_id = fields.UUID(allow_none=True)
    tracking_code = Text()
    kind = Text()
    status = Text()
    village = Text()
    summary = Text()
    act_at = fields.AwareDateTime()
    nominee = fields.Function(lambda n: _person(n.nominee))
    nominator = fields.Function(lambda n: _person(n.nominator, relation=n.nominator_relation))
    tier = Text(allow_none=True)
    amount_fen = fields.Integer(allow_none=True)
    decide_by = fields.AwareDateTime()
    due_at = fields.AwareDateTime(allow_none=True)
    due_kind = Text(allow_none=True, validate=validate.OneOf([k.value for k in DueKind]))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class NominationOut(NominationListItemOut):
    details = Text(multiline=True, allow_none=True)
    recommended = fields.Boolean(allow_none=True)
    reviewer = Text(attribute="reviewer_id", allow_none=True)
    decided_by = Text(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    extended = fields.Boolean()
    notice_ends_at = fields.AwareDateTime(allow_none=True)
    notice_skipped = fields.Boolean()
    appealed_at = fields.AwareDateTime(allow_none=True)
    honoured_at = fields.AwareDateTime(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    objections = fields.List(fields.Nested(ObjectionOut))
    history = fields.List(fields.Nested(HistoryOut))
    allowed_actions = fields.List(Text())


class HonourOut(Schema):
    """One name on the year's roll of good neighbours (魏村好人)."""

    id = fields.UUID()
    name = fields.Function(lambda n: n.nominee.get("name"))
    village = Text()
    summary = Text()
    act_at = fields.AwareDateTime()
    honoured_at = fields.AwareDateTime()


class HonoursOut(Schema):
    year = fields.Integer()
    honours = fields.List(fields.Nested(HonourOut))
