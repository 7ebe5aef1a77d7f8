"""Words for what the APIs name: statuses, actions, fields, and every error they answer."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.console.mediation_api import ApiError

STATUSES = {
    "awaiting_acceptance": _l("Awaiting acceptance"),
    "local_mediation": _l("Local mediation"),
    "session_scheduled": _l("Session scheduled"),
    "joint_meeting": _l("Joint meeting"),
    "resolved": _l("Resolved"),
    "declined": _l("Declined"),
    "closed": _l("Closed"),
}

ACTIONS = {
    "accept": _l("Accept"),
    "reassign": _l("Reassign"),
    "record_session": _l("Record a session"),
    "escalate": _l("Escalate to a desk"),
    "reschedule": _l("Reschedule"),
    "decline": _l("Decline"),
    "follow_up": _l("Record the follow-up"),
    "change_risk_grade": _l("Change the risk grade"),
    "close": _l("Close"),
}

FIELDS = {
    "risk_grade": _l("Risk grade"),
    "note": _l("Note"),
    "officer": _l("Officer (staff id)"),
    "outcome": _l("Outcome"),
    "agreement_terms": _l("Agreement terms"),
    "agreement_perform_by": _l("Agreement to be performed by"),
    "agreement.terms": _l("Agreement terms"),
    "agreement.perform_by": _l("Agreement to be performed by"),
    "desk": _l("Desk"),
    "starts_at": _l("Starts at (leave empty for the next free slot)"),
    "party": _l("Party who declines"),
    "reason": _l("Reason"),
    "kind": _l("Kind"),
    "result": _l("Result"),
}

CHOICES = {
    "resolved": _l("Resolved"),
    "failed": _l("Failed"),
    "visit": _l("Visit"),
    "phone": _l("Phone call"),
    "stable": _l("Stable"),
    "rebounded": _l("Rebounded"),
}

DUE_KINDS = {
    "acceptance": _l("acceptance"),
    "local_mediation": _l("local mediation"),
    "session": _l("session"),
    "second_session": _l("second session"),
    "follow_up": _l("follow-up"),
}


def status_label(status: str | None) -> str:
    return str(STATUSES.get(status or "", status or "—"))


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def field_label(name: str) -> str:
    return str(FIELDS.get(name, name))


def choice_label(value: str) -> str:
    return str(CHOICES.get(value, value))


def due_kind_label(kind: str | None) -> str:
    return str(DUE_KINDS.get(kind or "", kind or ""))


def api_error_message(error: ApiError) -> str:
    """A sentence for a refused call, saying what the person can do about it."""
    body = error.body
    if error.status == 409 and body.get("code") == "illegal_transition":
        allowed = ", ".join(action_label(a) for a in body.get("allowed", [])) or _("none")
        return str(
            _(
                "This case is now “%(status)s”, so “%(action)s” is not possible any more"
                " (possible now: %(allowed)s). The page shows the case as it is now.",
                status=status_label(body.get("status")),
                action=action_label(str(body.get("action", ""))),
                allowed=allowed,
            )
        )
    common = refusal_of(error, label=field_label)
    if common is not None:
        return common
    if error.status == 404:
        return str(_("There is no such case, or it is not one of yours."))
    detail = body.get("message") or ""
    message = _(
        "The mediation service refused (%(status)d). %(detail)s", status=error.status, detail=detail
    )
    return str(message)


def refusal_of(error: ApiError, *, label: Callable[[str], str]) -> str | None:
    """The sentence for a refusal that reads the same from every API (422, 403, 429), with the
    fields of a 422 named by `label`; None for the others."""
    if error.status == 422:
        parts = [
            f"{label(name)}: {' '.join(messages)}" for name, messages in error.field_errors.items()
        ]
        return str(_("Please correct the form: %(problems)s", problems="; ".join(parts) or "?"))
    if error.status == 403:
        return str(_("Your role may not do this: %(reason)s", reason=error.body.get("message", "")))
    if error.status == 429:
        return str(_("Too many requests for now. Please wait a moment and try again."))
    return None
