"""The roster API's shapes: officers (and other staff) and villages."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.phones import ChineseMobile, mask_phone
from services.common.staff_auth import ROLES

STAFF_ID = validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,49}$", error="lower-case letters, digits, -")


class StaffIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(1, 50))
    phone = ChineseMobile()
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1)
    )
    desk = fields.String(attribute="desk_code", allow_none=True)
    active = fields.Boolean()


class NewStaffIn(StaffIn):
    id = fields.String(required=True, validate=STAFF_ID)
    name = fields.String(required=True, validate=validate.Length(1, 50))
    phone = ChineseMobile(required=True)
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        required=True,
        validate=validate.Length(min=1),
    )


class StaffOut(Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.Function(lambda s: mask_phone(s.phone))
    roles = fields.List(fields.String())
    desk = fields.String(attribute="desk_code", allow_none=True)
    on_duty = fields.Boolean()
    active = fields.Boolean()
    villages = fields.List(fields.String())


class VillageIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(1, 100))
    officer = fields.String(validate=validate.Length(1, 50))


class NewVillageIn(VillageIn):
    code = fields.String(required=True, validate=STAFF_ID)
    name = fields.String(required=True, validate=validate.Length(1, 100))
    officer = fields.String(required=True, validate=validate.Length(1, 50))


class VillageOut(Schema):
    code = fields.String()
    name = fields.String()
    officer = fields.String(attribute="officer_id")
