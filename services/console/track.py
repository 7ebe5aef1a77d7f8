"""The residents' page: where a report stands, by its tracking code (查询码).

Public, no sign-in, and readable with no script at all: a plain form that posts (with a
CSRF token) the code and the last four digits of the phone, and a page rendered on the
server with the answer. The code may come prefilled from the link in the SMS
(`/track?code=WC…`); the digits only ever travel in the form's body, so they are in no URL
and no log. Intake decides what is a good pair and how often one may ask; this page only
says, in the resident's words, what intake answered.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from babel.dates import format_datetime
from flask import Blueprint, Response, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from services.common.clock import STATION_TZ
from services.console import runtime_of
from services.console.intake_api import (
    BadInput,
    IntakeLookup,
    LookupUnavailable,
    NoSuchReport,
    Standing,
    TooManyLookups,
)

blp = Blueprint("track", __name__)

# What each field must hold, said for a resident (intake's own messages are for programs).
FIELD_HINTS = {
    "tracking_code": _l(
        "The tracking code is WC followed by 8 letters or digits, as in the SMS you received."
    ),
    "phone_last4": _l("Enter the last four digits of the phone number you gave, e.g. 5678."),
}


@blp.after_request
def _private(response: Response) -> Response:
    # The page names a report: no cache keeps it, and no link out carries its address
    # (with the code in it) to another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def station_time(at: datetime) -> str:
    """An instant in the station's time, written as the reader's language writes dates."""
    # The pattern is in the catalogue: 2026年12月3日 周四 09:00 in Chinese.
    return format_datetime(
        at, str(_("EEE d MMM y, HH:mm")), tzinfo=STATION_TZ, locale=str(get_locale())
    )


def _page(status: int = 200, **context: object) -> Response:
    context.setdefault("code", "")
    station = runtime_of().station.name
    html = render_template("track.html", station=station, when=station_time, **context)
    return make_response(html, status)


@blp.get("/track")
def track() -> ResponseReturnValue:
    return _page(code=request.args.get("code", "").strip())


@blp.post("/track")
def track_lookup() -> ResponseReturnValue:
    rt = runtime_of()
    code = as_typed(request.form.get("tracking_code", ""))
    last4 = request.form.get("phone_last4", "").strip()
    try:
        standing: Standing = IntakeLookup(rt.intake, clock=rt.clock).lookup(
            tracking_code=code,
            phone_last4=last4,
            # The resident's address, as far as the trusted proxies say (ProxyFix).
            client_address=request.remote_addr,
        )
    except NoSuchReport:
        error = _("The tracking code or the last four digits of the phone are not right.")
        return _page(404, code=code, error=error)
    except BadInput as refused:
        return _page(422, code=code, **_field_problems(refused))
    except TooManyLookups as throttled:
        minutes = _whole_minutes(throttled.retry_after)
        error = _("Too many lookups. Please try again in %(minutes)d minutes.", minutes=minutes)
        page = _page(429, code=code, error=error)
        page.headers["Retry-After"] = str(minutes * 60)
        return page
    except LookupUnavailable:
        return _page(503, code=code, unavailable=True)
    return _page(code=standing.tracking_code, standing=standing)


@blp.errorhandler(CSRFError)
def _form_expired(error: CSRFError) -> ResponseReturnValue:
    # A resident's form kept open too long (or posted from elsewhere): a fresh form, not the
    # staff's error page.
    error_text = _("The form had expired. Please enter the digits again and look up.")
    return _page(400, code=as_typed(request.form.get("tracking_code", "")), error=error_text)


def as_typed(code: str) -> str:
    """The code as intake writes it: read out on the phone, it is often typed in lower case
    or in groups (Crockford's base 32 ignores both)."""
    return re.sub(r"[\s-]+", "", code).upper()


def _field_problems(refused: BadInput) -> dict[str, object]:
    """A hint under each field intake named, and a sentence for anything else it named."""
    hints = {name: str(FIELD_HINTS[name]) for name in refused.fields if name in FIELD_HINTS}
    others = [
        f"{name}: {' '.join(messages)}"
        for name, messages in refused.fields.items()
        if name not in FIELD_HINTS
    ]
    error = _("Please check what you entered.")
    if others:
        error = f"{error} {'; '.join(others)}"
    return {"field_errors": hints, "error": error}


def _whole_minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))
