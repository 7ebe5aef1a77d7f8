"""The Open311 GeoReport v2 shapes (JSON format), for answers and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from services.common.input_fields import Text
from services.intake.open311 import mapping
from services.intake.schemas import KINDS

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


class Open311ErrorOut(Schema):
    code = fields.Integer(required=True, metadata={"example": 400})
    description = fields.String(
        required=True, metadata={"example": "attribute[village]: unknown village 'x'"}
    )


class Open311ServiceOut(Schema):
    service_code = fields.String(required=True, metadata={"enum": list(KINDS)})
    service_name = fields.String(required=True)
    description = fields.String()
    # `metadata` is also the name of a marshmallow field's own argument: keep them apart.
    has_metadata = fields.Boolean(required=True, data_key="metadata", attribute="metadata")
    type = fields.String(required=True, metadata={"enum": ["realtime", "batch", "blackbox"]})
    keywords = fields.String()
    group = fields.String()


class Open311ValueOut(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)


class Open311AttributeOut(Schema):
    variable = fields.Boolean(required=True)
    code = fields.String(required=True)
    datatype = fields.String(required=True, metadata={"enum": list(DATATYPES)})
    required = fields.Boolean(required=True)
    datatype_description = fields.String()
    order = fields.Integer(required=True)
    description = fields.String(required=True)
    values = fields.List(fields.Nested(Open311ValueOut))


class Open311ServiceDefinitionOut(Schema):
    service_code = fields.String(required=True)
    attributes = fields.List(fields.Nested(Open311AttributeOut), required=True)


class Open311CreatedOut(Schema):
    service_request_id = fields.String(required=True, metadata={"description": "the report id"})
    service_notice = fields.String(metadata={"example": "已受理，查询码 WC7K3M9QPD"})
    account_id = fields.String(allow_none=True)


class Open311RequestOut(Schema):
    service_request_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "closed"]})
    status_notes = fields.String()
    service_name = fields.String()
    service_code = fields.String(required=True)
    description = fields.String()
    agency_responsible = fields.String()
    service_notice = fields.String()
    requested_datetime = fields.AwareDateTime(required=True)
    updated_datetime = fields.AwareDateTime()
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    long = fields.Float(allow_none=True)
    media_url = fields.String(allow_none=True)


def _attribute_fields() -> dict[str, fields.Field[Any]]:
    """One form field per attribute code, saying which services have it."""
    return {
        f"attribute[{code}]": fields.String(metadata={"description": f"for {', '.join(kinds)}"})
        for code, kinds in mapping.every_attribute().items()
    }


# Documentation only: the form is read by `mapping.report_input`, which names problems in
# Open311 terms; attribute field names carry brackets, so the schema is built from a dict.
Open311RequestFormIn = Schema.from_dict(
    {
        "api_key": fields.String(required=True, metadata={"description": "the agency key, fq_…"}),
        "service_code": fields.String(required=True, metadata={"enum": list(KINDS)}),
        "description": fields.String(
            required=True,
            metadata={"description": "the first 200 characters are the summary"},
        ),
        "lat": fields.Float(),
        "long": fields.Float(),
        "address_string": fields.String(),
        "phone": fields.String(required=True, metadata={"description": "the reporter's mobile"}),
        "first_name": fields.String(),
        "last_name": fields.String(),
        **{
            name: fields.String(metadata={"description": "accepted, not stored"})
            for name in sorted(mapping.IGNORED_FIELDS - {"api_key"})
        },
        **_attribute_fields(),
    },
    name="Open311RequestFormIn",
)


class Open311KeyArgs(Schema):
    class Meta:
        # Unlike the form, queries tolerate extra parameters (cache busters of web clients).
        unknown = EXCLUDE

    api_key = Text(required=True, metadata={"description": "the agency key, fq_…"})
    jurisdiction_id = Text(metadata={"description": "accepted; there is one"})


class Open311RequestsArgs(Open311KeyArgs):
    service_request_id = DelimitedList(
        Text(),
        validate=validate.Length(max=mapping.MAX_REQUESTS),
        metadata={"description": "comma-separated; overrides every other filter"},
    )
    service_code = DelimitedList(Text(validate=validate.OneOf(KINDS)))
    start_date = fields.AwareDateTime(metadata={"description": "requested at or after"})
    end_date = fields.AwareDateTime(metadata={"description": "requested at or before"})
    status = DelimitedList(Text(validate=validate.OneOf(("open", "closed"))))

    @validates_schema
    def check_range(self, data: dict[str, Any], **_: Any) -> None:
        """end_date may not lie before start_date."""
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and end is not None and end < start:
            raise ValidationError("may not lie before start_date", "end_date")
