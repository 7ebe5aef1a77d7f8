"""The ledger API's shapes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.input_fields import Text
from services.common.phones import MaskedPhone
from services.rewards.ledger.models import PayoutStatus
from services.rewards.ledger.service import MONTH
from services.rewards.ranges import TimeRange


class EntryOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    kind = Text()
    subject_kind = Text()
    subject_id = Text()
    recipient = MaskedPhone(allow_none=True)
    amount_fen = fields.Integer()
    period = Text()
    by = Text()
    note = Text(multiline=True)
    corrects = fields.Integer(allow_none=True)


class BudgetIn(Schema):
    month = Text(required=True, validate=validate.Regexp(MONTH, error="must be YYYY-MM"))
    amount_fen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=1_000_000_000)
    )
    note = Text(multiline=True, load_default="", validate=validate.Length(max=1000))


class CorrectionIn(Schema):
    amount_fen = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=-1_000_000_000, max=1_000_000_000),
    )
    note = Text(multiline=True, required=True, validate=validate.Length(1, 1000))


class PayoutQueryArgs(Schema):
    status = Text(validate=validate.OneOf([s.value for s in PayoutStatus]))
    batch = Text(validate=validate.Length(1, 40))
    from_ = fields.AwareDateTime(data_key="from")
    to = fields.AwareDateTime()


LedgerQueryArgs = TimeRange
