"""The partner API: `/v1/reports`. HTTP only; the work is in `service.py`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.common.runtime import after_response
from services.intake import service
from services.intake.auth import Caller, authenticate
from services.intake.runtime import IntakeRuntime
from services.intake.schemas import (
    AcceptedOut,
    ReportIn,
    ReportListItemOut,
    ReportOut,
    ReportQueryArgs,
)

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
    """Every call carries an agency's key; a missing or bad one is a 401."""
    with _runtime().db.sessions() as session:
        caller = authenticate(session, request.headers.get("Authorization"))
    if caller is None:
        abort(
            401,
            message="a valid agency key is required: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    g.caller = caller


@blp.route("")
class Reports(MethodView):
    @blp.arguments(ReportIn)
    @blp.response(202, AcceptedOut)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Submit a report; it is stored before the answer, routed in the background."""
        runtime = _runtime()
        # The 202 goes out first; handing the routing messages to the broker follows it.
        with runtime.messaging.transaction(defer=after_response) as session:
            report = service.SubmitReport(agency_id=_caller().agency_id, data=data).run(
                session, messaging=runtime.messaging, now=runtime.clock.now()
            )
        location = url_for("reports.Report", report_id=report.id)
        body = {
            "id": report.id,
            "tracking_code": report.tracking_code,
            "status": report.status,
            "links": {"self": location},
        }
        return body, 202, {"Location": location}

    @blp.arguments(ReportQueryArgs, location="query")
    @blp.response(200, ReportListItemOut(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
        """The agency's own reports, newest first."""
        with _runtime().db.sessions() as session:
            page, total = service.list_reports(
                session,
                agency_id=_caller().agency_id,
                offset=pagination_parameters.first_item,
                limit=pagination_parameters.page_size,
                **args,
            )
        pagination_parameters.item_count = total
        return page


@blp.route("/<uuid:report_id>")
class Report(MethodView):
    @blp.response(200, ReportOut)
    def get(self, report_id: uuid.UUID) -> Any:
        """One report with its status timeline; another agency's report is a 404."""
        with _runtime().db.sessions() as session:
            return service.get_report(session, agency_id=_caller().agency_id, report_id=report_id)
