"""Ops: the SMS that failed or were never confirmed delivered, and sending a failed one again.

Over notify's ops API (the ops role only): numbers arrive masked and stay so. A resend is
asked for on a page of its own that says what will be sent to whom, and is a POST with the
form's CSRF token; notify's refusal (only a failed message can be resent) is shown as it is.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.console import runtime_of
from services.console.figures_api import NotifyOps
from services.console.mediation_api import ApiError, Unreachable
from services.console.pages_for import OPS_ROLES, api_refused
from services.console.roles import for_roles

blp = Blueprint("ops", __name__, url_prefix="/ops")

PAGE_SIZE = 50
MAX_TEMPLATE = 50  # notify's own limit on the filter
# Notify's statuses; "sent" is the undelivered one: handed to a provider, no receipt yet.
SMS_STATUSES = {
    "failed": _l("Failed to send"),
    "sent": _l("Sent, delivery not confirmed"),
    "sending": _l("Sending"),
    "created": _l("Waiting to be sent"),
    "delivered": _l("Delivered"),
}


def sms_status_label(status: str | None) -> str:
    return str(SMS_STATUSES.get(status or "", status or "—"))


@blp.context_processor
def _labels() -> dict[str, object]:
    return {"sms_status_label": sms_status_label}


def notify() -> NotifyOps:
    return NotifyOps(runtime_of().notify_http, token=str(session["token"]))


def _filters() -> tuple[str, str]:
    """`?status=` (default failed, `all` for any) and `?template=`, as asked."""
    status = request.args.get("status", "failed").strip()
    template = request.args.get("template", "").strip()
    return status, template


@blp.get("/messages")
@for_roles(*OPS_ROLES)
def messages() -> ResponseReturnValue:
    status, template = _filters()
    context = {"status": status, "template": template, "statuses": SMS_STATUSES}
    problem = None
    if status != "all" and status not in SMS_STATUSES:
        problem = _("There is no SMS status “%(status)s”.", status=status)
    elif len(template) > MAX_TEMPLATE:
        problem = _("A template name has at most %(n)d characters.", n=MAX_TEMPLATE)
    page_asked = request.args.get("page", "1")
    page = int(page_asked) if page_asked.isdigit() and int(page_asked) > 0 else 1
    if problem:
        return render_template("ops_messages.html", error=problem, found=None, **context), 400
    try:
        found = notify().messages(
            status=None if status == "all" else status,
            template=template or None,
            page=page,
            page_size=PAGE_SIZE,
        )
    except (ApiError, Unreachable) as error:
        return api_refused(error, _("notify"))
    return render_template("ops_messages.html", found=found, **context)


def _back() -> ResponseReturnValue:
    """To the list, with the filters the person came from."""
    status = request.form.get("status") or request.args.get("status") or "failed"
    template = request.form.get("template") or request.args.get("template") or None
    return redirect(url_for(".messages", status=status, template=template))


@blp.get("/messages/<uuid:sms_id>/resend")
@for_roles(*OPS_ROLES)
def confirm_resend(sms_id: uuid.UUID) -> ResponseReturnValue:
    try:
        message = notify().message(sms_id)
    except (ApiError, Unreachable) as error:
        if isinstance(error, ApiError) and error.status == 404:
            flash(_("There is no such message."), "error")
            return _back()
        return api_refused(error, _("notify"))
    status, template = _filters()
    return render_template("ops_resend.html", message=message, status=status, template=template)


@blp.post("/messages/<uuid:sms_id>/resend")
@for_roles(*OPS_ROLES)
def resend(sms_id: uuid.UUID) -> ResponseReturnValue:
    api = notify()
    try:
        new = api.resend(sms_id)
    except Unreachable as error:
        return api_refused(error, _("notify"))
    except ApiError as error:
        if error.status == 401:
            return api_refused(error, _("notify"))
        flash(_refusal(api, sms_id, error), "error")
        return _back()
    flash(
        _(
            "Sent again to %(recipient)s as a new message (now: %(status)s).",
            recipient=new.get("recipient", ""),
            status=sms_status_label(new.get("status")),
        )
    )
    return _back()


def _refusal(api: NotifyOps, sms_id: uuid.UUID, error: ApiError) -> str:
    """Notify's refusal as a sentence; a 409 says what the message's status is now."""
    if error.status == 404:
        return str(_("There is no such message."))
    if error.status == 409:
        try:
            now = sms_status_label(api.message(sms_id).get("status"))
        except (ApiError, Unreachable):
            now = str(error.body.get("message", ""))
        return str(
            _(
                "Notify did not resend it: only a failed SMS can be resent,"
                " and this one is now “%(status)s”.",
                status=now,
            )
        )
    return str(
        _(
            "Notify refused to resend it (%(status)d). %(detail)s",
            status=error.status,
            detail=str(error.body.get("message") or ""),
        )
    )
