"""The ledger API's shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.phones import MaskedPhone
from services.rewards.ledger.models import PayoutStatus
from services.rewards.ledger.service import MONTH
from services.rewards.ranges import TimeRange


class EntryOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    kind = fields.String()
    subject_kind = fields.String()
    subject_id = fields.String()
    recipient = MaskedPhone(allow_none=True)
    amount_fen = fields.Integer()
    period = fields.String()
    by = fields.String()
    note = fields.String()
    corrects = fields.Integer(allow_none=True)


class BudgetIn(Schema):
    month = fields.String(required=True, validate=validate.Regexp(MONTH, error="must be YYYY-MM"))
    amount_fen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=1_000_000_000)
    )
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class CorrectionIn(Schema):
    amount_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=-1_000_000_000, max=1_000_000_000),
    )
    note = fields.String(required=True, validate=validate.Length(1, 1000))


class PayoutQueryArgs(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in PayoutStatus]))
    batch = fields.String(validate=validate.Length(1, 40))
    from_ = fields.AwareDateTime(data_key="from")
    to = fields.AwareDateTime()


LedgerQueryArgs = TimeRange
