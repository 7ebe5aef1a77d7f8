"""What the figures and the SMS pages share: which roles see a page, and an API's refusal.

The services' own access tables decide in the end (a call the role may not make is their
403); a page checks the role first only so a person is told plainly that the page is not
for them, rather than shown a half-empty page.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from services.common.staff_auth import Role
from services.console.mediation_api import ApiError, Unreachable

# Both stats endpoints admit these roles (mediation's and rewards' access tables): counts
# and sums for running the station, no person in them.
FIGURES_ROLES = (Role.LEADER, Role.OPS)
# Notify's ops API admits the ops role only.
OPS_ROLES = (Role.OPS,)


def api_refused(error: ApiError | Unreachable, service: str) -> ResponseReturnValue:
    """The page for a call to `service` (its name as shown) that did not succeed."""
    if isinstance(error, Unreachable):
        message = _(
            "The %(service)s service did not answer. Please try again in a moment.",
            service=service,
        )
        return render_template("error.html", message=message), 503
    if error.status == 401:  # the token expired or the person left the station
        session.pop("token", None)
        return redirect(url_for("console.sign_in", next=request.path))
    if error.status == 403:
        message = _("The %(service)s service does not let your role see this.", service=service)
        return render_template("error.html", message=message), 403
    detail = str(error.body.get("message") or "")
    message = _(
        "The %(service)s service refused (%(status)d). %(detail)s",
        service=service,
        status=error.status,
        detail=detail,
    )
    # A refusal of ours (a bad period) is the person's to fix; anything else is the service's.
    return render_template("error.html", message=message), 400 if error.status < 500 else 502
