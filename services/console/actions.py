"""From a case page's form to a transition body: one form per action the API allows.

Each action names the fields its form shows; the names and choices are mediation's
(STAFF-API.md), so the API's 422 names the same fields the form shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from services.common.clock import STATION_TZ


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "choice", "text", "textarea", "date", "datetime", "desk"
    required: bool = True
    choices: tuple[str, ...] = ()


RISK_GRADES = ("A", "B", "C", "D")

FORMS: dict[str, tuple[Field, ...]] = {
    "accept": (
        Field("risk_grade", "choice", choices=RISK_GRADES),
        Field("note", "textarea", False),
    ),
    "reassign": (Field("officer", "text"), Field("note", "textarea", False)),
    "record_session": (
        Field("outcome", "choice", choices=("resolved", "failed")),
        Field("note", "textarea"),
        Field("agreement_terms", "textarea", False),
        Field("agreement_perform_by", "date", False),
    ),
    "escalate": (
        Field("desk", "desk"),
        Field("starts_at", "datetime", False),
        Field("note", "textarea", False),
    ),
    "reschedule": (Field("starts_at", "datetime", False), Field("note", "textarea", False)),
    "decline": (Field("party", "text"), Field("reason", "textarea")),
    "follow_up": (
        Field("kind", "choice", choices=("visit", "phone")),
        Field("result", "choice", choices=("stable", "rebounded")),
        Field("note", "textarea"),
    ),
    "change_risk_grade": (
        Field("risk_grade", "choice", choices=RISK_GRADES),
        Field("reason", "textarea"),
    ),
    "close": (Field("note", "textarea", False),),
}


def fields_of(action: str) -> tuple[Field, ...]:
    """The fields of an action's form (an action the console does not know has a note only)."""
    return FORMS.get(action, (Field("note", "textarea", False),))


def body_of(action: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """The transition body for a submitted form: empty optional fields are left out."""
    body: dict[str, Any] = {"action": action}
    terms = form.get("agreement_terms", "").strip()
    perform_by = form.get("agreement_perform_by", "").strip()
    for field in fields_of(action):
        value = form.get(field.name, "").strip()
        if field.name.startswith("agreement_") or (not value and not field.required):
            continue
        if field.kind == "datetime" and value:
            value = local_to_utc(value)
        body[field.name] = value
    if action == "record_session" and (terms or perform_by):
        body["agreement"] = {"terms": terms, "perform_by": perform_by}
    return body


def local_to_utc(value: str) -> str:
    """A `datetime-local` input (station time) as an aware ISO instant; left as is if malformed,
    so the API's 422 names it."""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value
    if naive.tzinfo is not None:
        return naive.isoformat()
    return naive.replace(tzinfo=STATION_TZ).isoformat()
