"""The console's pages: sign-in and sign-out, the case list, a case and its action forms."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from services.common.clock import STATION_TZ
from services.common.staff_auth import ROLES, Role, issue
from services.console import runtime_of, throttle
from services.console.actions import body_of as action_body
from services.console.actions import fields_of
from services.console.mediation_api import ApiError, MediationApi, Unreachable
from services.console.messages import (
    action_label,
    api_error_message,
    choice_label,
    due_kind_label,
    field_label,
    status_label,
)
from services.console.passwords import check_password

blp = Blueprint("console", __name__)
View = TypeVar("View", bound=Callable[..., ResponseReturnValue])


def signed_in(view: View) -> View:
    """Pages for a signed-in person whose token has not expired; else to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not session.get("token") or session.get("expires", 0) <= time_now().timestamp():
            session.pop("token", None)
            return redirect(url_for("console.sign_in", next=request.path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def time_now() -> datetime:
    return runtime_of().clock.now()


def api() -> MediationApi:
    return MediationApi(runtime_of().http, token=str(session["token"]))


@blp.app_template_filter("local_time")
def local_time(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(STATION_TZ).strftime("%Y-%m-%d %H:%M")


@blp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "get_locale": get_locale,
        "status_label": status_label,
        "action_label": action_label,
        "field_label": field_label,
        "choice_label": choice_label,
        "due_kind_label": due_kind_label,
        "fields_of": fields_of,
        # A fresh key per rendered form: a double-submitted form takes its step once.
        "idempotency_key": lambda: uuid.uuid4().hex,
    }


@blp.app_errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    message = _("The form had expired or did not come from this console. Please try again.")
    return render_template("error.html", message=message), 400


@blp.get("/sign-in")
def sign_in() -> ResponseReturnValue:
    return render_template("sign_in.html", next=request.args.get("next", ""))


def _safe_next(target: str) -> str:
    # Only a path on this console: never an open redirect to another site.
    safe = target.startswith("/") and not target.startswith("//")
    return target if safe else url_for("home.home")  # each role's first page


@blp.post("/sign-in")
def sign_in_submit() -> ResponseReturnValue:
    rt = runtime_of()
    staff_id = request.form.get("staff_id", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    now = time_now()
    with rt.db.transaction() as db:
        wait = throttle.wait_before_next(
            db, staff_id=staff_id, address=address, now=now, rules=rt.throttle
        )
        if wait is not None:
            minutes = max(1, int(wait.total_seconds() // 60) + 1)
            error = _(
                "Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=minutes
            )
            return render_template("sign_in.html", error=error, staff_id=staff_id), 429
        member = rt.directory.lookup(staff_id)
        good = check_password(db, staff_id=staff_id, password=password) and member is not None
        if not good:
            throttle.record_failure(db, staff_id=staff_id, address=address, now=now)
            throttle.prune(db, now=now, rules=rt.throttle)
        else:
            throttle.forget_account(db, staff_id=staff_id)
    if not good or member is None:
        error = _("The staff id or the password is wrong.")
        return render_template("sign_in.html", error=error, staff_id=staff_id), 401
    role = next(r for r in ROLES if Role(r) in member.roles) if member.roles else None
    if role is None:
        error = _("%(name)s holds no role at the station.", name=member.name)
        return render_template("sign_in.html", error=error, staff_id=staff_id), 403
    lifetime: timedelta = rt.settings.session_lifetime
    lang = session.get("lang")
    session.clear()  # a new session for a new sign-in (no fixation)
    if lang:
        session["lang"] = lang
    session.permanent = True
    session.update(
        token=issue(rt.staff_secret, staff_id=member.id, role=role, now=now, valid_for=lifetime),
        expires=(now + lifetime).timestamp(),
        staff_id=member.id,
        name=member.name,
        role=role,
    )
    return redirect(_safe_next(request.form.get("next", "")))


@blp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."))
    return redirect(url_for(".sign_in"))


@blp.post("/language")
def language() -> ResponseReturnValue:
    chosen = request.form.get("lang", "")
    if chosen in ("zh", "en"):
        session["lang"] = chosen
    return redirect(_safe_next(request.form.get("next", "")))


def _api_failure(error: ApiError | Unreachable) -> ResponseReturnValue:
    if isinstance(error, Unreachable):
        message = _("The mediation service did not answer. Please try again in a moment.")
        return render_template("error.html", message=message), 503
    if error.status == 401:  # the token expired or the person left the station
        session.pop("token", None)
        return redirect(url_for(".sign_in", next=request.path))
    return render_template("error.html", message=api_error_message(error)), error.status


@blp.get("/cases")
@signed_in
def cases() -> ResponseReturnValue:
    try:
        found = api().cases()
    except (ApiError, Unreachable) as error:
        return _api_failure(error)
    now = time_now()
    overdue = [c for c in found if c.get("due_at") and datetime.fromisoformat(c["due_at"]) < now]
    rest = [c for c in found if c not in overdue]
    return render_template("cases.html", overdue=overdue, upcoming=rest, now=now)


def _desks_and_slots() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any] | None]]:
    """The desks with each one's next free slot in the coming fortnight."""
    desks = api().desks()
    start = time_now()
    next_free: dict[str, dict[str, Any] | None] = {}
    for desk in desks:
        slots = api().free_slots(desk["code"], start=start, end=start + timedelta(days=14))
        next_free[desk["code"]] = next((s for s in slots if s.get("remaining", 0) > 0), None)
    return desks, next_free


@blp.get("/cases/<uuid:case_id>")
@signed_in
def case(case_id: uuid.UUID) -> ResponseReturnValue:
    try:
        found = api().case(case_id)
        needs_desks = "escalate" in found.get("allowed_actions", [])
        desks, next_free = _desks_and_slots() if needs_desks else ([], {})
    except (ApiError, Unreachable) as error:
        return _api_failure(error)
    errors = session.pop("form_errors", None)
    return render_template(
        "case.html", case=found, desks=desks, next_free=next_free, form_errors=errors or {}
    )


@blp.post("/cases/<uuid:case_id>/actions/<action>")
@signed_in
def act(case_id: uuid.UUID, action: str) -> ResponseReturnValue:
    if not action.replace("_", "").isalnum():
        abort(404)
    body = action_body(action, request.form)
    key = request.form.get("idempotency_key") or None
    try:
        api().transition(case_id, body, key=key)
    except Unreachable as error:
        return _api_failure(error)
    except ApiError as error:
        if error.status in (404, 401):
            return _api_failure(error)
        flash(api_error_message(error), "error")
        if error.field_errors:
            session["form_errors"] = {"action": action, "fields": error.field_errors}
        return redirect(url_for(".case", case_id=case_id, _anchor=f"form-{action}"))
    flash(_("Done: %(action)s.", action=action_label(action)))
    return redirect(url_for(".case", case_id=case_id))
