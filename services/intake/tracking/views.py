"""`POST /v1/lookup`: a resident (or the console's tracking page for him) asks where his
report stands. No key: residents never sign in; the rate limits stand in (`guard.py`)."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort

from services.common import tracking_codes
from services.common.blueprint import Blueprint
from services.intake.runtime import IntakeRuntime
from services.intake.tracking import service
from services.intake.tracking.guard import LookupGuard, client_address
from services.intake.tracking.schemas import LookupIn, LookupOut

log = logging.getLogger(__name__)

NOT_FOUND = "no report has this tracking code and phone ending"
_FOUR_DIGITS = re.compile(r"[0-9]{4}")

blp = Blueprint(
    "lookup",
    __name__,
    url_prefix="/v1/lookup",
    description="Residents look up their own report by 查询码 (no key; rate-limited)",
)


@blp.route("")
class Lookup(MethodView):
    @blp.arguments(LookupIn, example={"tracking_code": "WC2W1H08QK", "phone_last4": "8000"})
    @blp.response(200, LookupOut)
    @blp.alt_response(404, description="No such pair: unknown code, wrong digits or malformed")
    @blp.alt_response(429, description="Too many lookups from this address or of this code")
    @blp.alt_response(503, description="The rate limits cannot be checked now; see Retry-After")
    @blp.doc(security=[])
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """A report's status and resident-safe timeline, for its code and the reporter's
        last four phone digits; every wrong pair gets the same 404."""
        runtime: IntakeRuntime = current_app.extensions["fengqiao"]
        now = runtime.clock.now()
        address = client_address(request, runtime.rules.trusted_proxies)
        code = tracking_codes.normalise(data["tracking_code"])
        digits = data["phone_last4"].strip()
        guard = LookupGuard(runtime)
        verdict = guard.admit(address=address, code=code, now=now)
        # The phone digits are never logged; the code is, to answer "who looked mine up".
        asked = f"lookup of {code or 'a malformed code'} from {address}"
        if not verdict.allowed:
            log.info("%s: refused, over the rate", asked)
            abort(
                429,
                message="too many lookups; retry later",
                headers={"Retry-After": str(verdict.retry_after)},
            )
        if not verdict.checked:
            log.warning("%s: refused, the rate limits cannot be checked", asked)
            abort(
                503, message="lookups are unavailable for a moment", headers={"Retry-After": "30"}
            )
        with runtime.db.sessions() as session:
            report = None
            if code is not None and _FOUR_DIGITS.fullmatch(digits):
                report = service.find(session, tracking_code=code, phone_last4=digits)
            if report is None:
                guard.wrong_answer(code=code, now=now)
                log.info("%s: no match", asked)
                abort(404, message=NOT_FOUND)
                raise LookupError(code)  # unreachable: abort raises
            log.info("%s: found", asked)
            return service.resident_view(report)
