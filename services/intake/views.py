"""The partner API: `/v1/reports`. HTTP only; the work is in `service.py`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import abort

from services.common.blueprint import Blueprint, one_page
from services.common.runtime import after_response
from services.intake import idempotency, service
from services.intake.auth import Caller, authenticate
from services.intake.runtime import IntakeRuntime
from services.intake.schemas import (
    AcceptedOut,
    ReportIn,
    ReportListItemOut,
    ReportOut,
    ReportQueryArgs,
)

REPORT_EXAMPLE = {
    "kind": "dispute",
    "summary": "Brothers disagree over the boundary of a shared plot",
    "occurred_at": "2026-11-20T09:30:00+08:00",
    "location": {"village": "weicun-3", "address": "三组田间"},
    "reporter": {"name": "陈先生", "phone": "+86 138-0013-8000"},
    "parties": [
        {"name": "陈大哥", "phone": "13900139000", "role": "claimant"},
        {"name": "陈二弟", "phone": "13700137000", "role": "respondent"},
    ],
}

blp = Blueprint(
    "reports", __name__, url_prefix="/v1/reports", description="Submit and follow reports"
)


def _runtime() -> IntakeRuntime:
    runtime: IntakeRuntime = current_app.extensions["fengqiao"]
    return runtime


def _caller() -> Caller:
    caller: Caller = g.caller
    return caller


@blp.before_request
def require_agency_key() -> None:
    """Every call carries an agency's key (else 401) and stays within its rate (else 429)."""
    runtime = _runtime()
    with runtime.db.autocommit() as connection:  # one SELECT, without BEGIN and ROLLBACK
        caller = authenticate(connection, request.headers.get("Authorization"))
    if caller is None:
        abort(
            401,
            message="a valid agency key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
        return
    verdict = runtime.rate_limiter.hit(f"agency:{caller.agency_id}", runtime.clock.now())
    if not verdict.allowed:
        abort(
            429,
            message=f"rate limit of {runtime.rules.rate_limit} exceeded; retry later",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    if request.method in ("POST", "PUT", "PATCH") and not request.is_json:
        abort(415, message="the body must be JSON, sent as Content-Type: application/json")
    g.caller = caller


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH:
        abort(400, message="Idempotency-Key must be 1 to 255 characters")
    return key


@blp.route("")
class Reports(MethodView):
    @blp.arguments(ReportIn, example=REPORT_EXAMPLE)
    @blp.response(
        202,
        AcceptedOut,
        example={
            "id": "ed99e094-4f55-401f-9f2e-bc1f6aee757c",
            "tracking_code": "WC2W1H08QK",
            "status": "received",
            "links": {"self": "/v1/reports/ed99e094-4f55-401f-9f2e-bc1f6aee757c"},
        },
    )
    @blp.alt_response(409, description="The same Idempotency-Key is still in flight")
    @blp.alt_response(415, description="The body is not JSON")
    @blp.alt_response(429, description="The agency exceeded its rate; see Retry-After")
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string", "maxLength": 255},
                "description": "Repeat a request safely: the same key and body give the "
                "first answer again, for at least 24 hours.",
            }
        ]
    )
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Submit a report; it is stored before the answer, routed in the background."""
        runtime, caller, key = _runtime(), _caller(), _idempotency_key()
        if key is None:
            return self._submit(runtime, caller, data, key=None)
        stored = idempotency.begin(
            runtime.db,
            agency_id=caller.agency_id,
            key=key,
            body_fingerprint=idempotency.fingerprint(request.get_json()),
            rules=runtime.rules,
            now=runtime.clock.now(),
        )
        if stored is not None:
            return stored.body, stored.status, stored.headers
        with idempotency.kept(
            runtime.db,
            agency_id=caller.agency_id,
            key=key,
            lease=runtime.rules.idempotency_lease,
            clock=runtime.clock,
        ):
            try:
                return self._submit(runtime, caller, data, key=key)
            except BaseException:
                idempotency.release(runtime.db, agency_id=caller.agency_id, key=key)
                raise

    @staticmethod
    def _submit(
        runtime: IntakeRuntime, caller: Caller, data: dict[str, Any], *, key: str | None
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        # The 202 goes out first; handing the routing messages to the broker follows it.
        with runtime.messaging.transaction(defer=after_response) as session:
            report = service.SubmitReport(caller=caller, data=data).run(
                session, messaging=runtime.messaging, rules=runtime.rules, now=runtime.clock.now()
            )
            location = url_for("reports.Report", report_id=report.id)
            body = {
                "id": str(report.id),
                "tracking_code": report.tracking_code,
                "status": report.status,
                "links": {"self": location},
            }
            answer = idempotency.StoredAnswer(202, body, {"Location": location})
            if key is not None:
                idempotency.complete(session, agency_id=caller.agency_id, key=key, answer=answer)
        return answer.body, answer.status, answer.headers

    @blp.arguments(ReportQueryArgs, location="query")
    @blp.response(200, ReportListItemOut(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """The agency's own reports, newest first."""
        agency_id = _caller().agency_id
        return one_page(
            _runtime().db, service.list_reports, pagination_parameters, agency_id=agency_id, **args
        )


@blp.route("/<uuid:report_id>")
class Report(MethodView):
    @blp.response(200, ReportOut)
    def get(self, report_id: uuid.UUID) -> Any:
        """One report with its status timeline; another agency's report is a 404."""
        with _runtime().db.sessions() as session:
            return service.get_report(session, agency_id=_caller().agency_id, report_id=report_id)
