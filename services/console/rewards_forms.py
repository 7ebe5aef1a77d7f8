"""From a claim's or a nomination's page to a transition body: one form per allowed action.

The field names and choices are rewards' own (STAFF-API.md, `docs/rewards.md`), so the
API's 422 names the fields the form shows. Which forms a page shows is the API's
`allowed_actions`; this module only knows how each action's form looks.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from services.console.actions import Field

SEVERITIES = ("low", "medium", "high")
# The seed's tiers (rewards' defaults); a station with other tiers has them checked by the API.
TIERS = ("commendation", "merit", "outstanding")
_NOTE = Field("note", "textarea", False)
_REASON = Field("reason", "textarea")

CLAIM_FORMS: dict[str, tuple[Field, ...]] = {
    "verify": (
        Field("confirmed", "yesno"),
        Field("severity", "choice", False, SEVERITIES),
        Field("reason", "textarea", False),
        Field("duplicate_of", "text", False),
        _NOTE,
    ),
    "decide": (Field("decision", "choice", choices=("approve", "reject")), _REASON, _NOTE),
    "pay": (_NOTE,),
}

NOMINATION_FORMS: dict[str, tuple[Field, ...]] = {
    "review": (Field("recommend", "yesno"), Field("tier", "choice", False, TIERS), _REASON, _NOTE),
    "publish_notice": (_NOTE,),
    "skip_notice": (_REASON, _NOTE),
    "object": (Field("text", "textarea"),),
    "answer_objection": (Field("objection", "objection"), Field("answer", "textarea")),
    "extend": (_REASON, _NOTE),
    "approve": (Field("tier", "choice", False, TIERS), _NOTE),
    "reject": (_REASON, _NOTE),
    "honour": (_NOTE,),
    "appeal": (Field("by", "choice", choices=("nominee", "nominator")), _REASON),
    "decide_appeal": (Field("outcome", "choice", choices=("upheld", "overturned")), _REASON),
    "pay": (_NOTE,),
}


def claim_fields(action: str) -> tuple[Field, ...]:
    return CLAIM_FORMS.get(action, (_NOTE,))


def nomination_fields(action: str) -> tuple[Field, ...]:
    return NOMINATION_FORMS.get(action, (_NOTE,))


def body_of(action: str, fields: tuple[Field, ...], form: MultiDict[str, str]) -> dict[str, Any]:
    """The transition body: yes/no as JSON booleans, an objection's number as an integer,
    empty fields left out (a required one is then named missing by the API's 422); a value
    that does not parse is sent as typed, so the 422 names it."""
    body: dict[str, Any] = {"action": action}
    for field in fields:
        value = form.get(field.name, "").strip()
        if not value:
            continue
        if field.kind == "yesno":
            body[field.name] = {"yes": True, "no": False}.get(value, value)
        elif field.kind == "objection":
            body[field.name] = int(value) if value.isdigit() else value
        else:
            body[field.name] = value
    return body
