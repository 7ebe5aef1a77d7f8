"""Open311 GeoReport v2 on `/open311/v2`: HTTP only; translations are in `mapping.py`.

Errors are Open311's array of `{"code", "description"}`. A submission answers 201 Created
(common Open311 practice; the JSON API's 202 says the same: stored, routed in the background).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound

from services.common.blueprint import Blueprint
from services.common.errors import DomainError, NotFound
from services.common.runtime import after_response
from services.common.station import load_station
from services.intake import service
from services.intake.auth import Caller, authenticate
from services.intake.models import Report, Village
from services.intake.open311 import mapping
from services.intake.open311.mapping import Open311Error
from services.intake.open311.schemas import (
    Open311CreatedOut,
    Open311ErrorOut,
    Open311KeyArgs,
    Open311RequestFormIn,
    Open311RequestOut,
    Open311RequestsArgs,
    Open311ServiceDefinitionOut,
    Open311ServiceOut,
)
from services.intake.runtime import IntakeRuntime
from services.intake.schemas import ReportIn

log = logging.getLogger(__name__)

blp = Blueprint(
    "open311",
    __name__,
    url_prefix="/open311/v2",
    description="Open311 GeoReport v2 (JSON): submit and follow reports with an Open311 client",
)

_DISCOVERY = frozenset({"open311.Services", "open311.ServiceDefinition"})
_KEY_IN_PARAMS: dict[str, Any] = {"security": []}  # `api_key` travels in the form or query
_ERRORS = Open311ErrorOut(many=True)


def _runtime() -> IntakeRuntime:
    """The intake runtime the app was built with."""
    runtime: IntakeRuntime = current_app.extensions["fengqiao"]
    return runtime


def _caller() -> Caller:
    """The agency `require_agency_key` found."""
    caller: Caller = g.caller
    return caller


@functools.cache
def _station_name(station_file: Path) -> str:
    """The station's name, read once per file: the agency responsible for every request."""
    return load_station(station_file).name


def _villages(session: Session) -> list[tuple[str, str]]:
    """The beat map as (code, name) pairs."""
    rows = session.execute(select(Village.code, Village.name).order_by(Village.code))
    return [(code, name) for code, name in rows]


def _answer(error: Open311Error) -> Response:
    """An Open311 error array with its status and headers."""
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


@blp.errorhandler(Open311Error)
def _open311_error(error: Open311Error) -> ResponseReturnValue:
    """Open311Error raised anywhere in the blueprint."""
    return _answer(error)


def _as_open311(error: HTTPException) -> Response:
    """Werkzeug's and flask-smorest's errors (a bad query, a body too large) in Open311's shape."""
    messages = (getattr(error, "data", None) or {}).get("messages")
    if messages:  # flask-smorest could not parse the query: Open311 calls that a 400
        problems = [
            line
            for by_location in messages.values()
            for line in mapping.describe_errors(by_location, {})
        ]
        return _answer(Open311Error(400, problems))
    return _answer(Open311Error(error.code or 500, [error.description or error.name]))


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    """An HTTP error raised in the blueprint."""
    return _as_open311(error)


@blp.app_errorhandler(WerkzeugNotFound)
@blp.app_errorhandler(MethodNotAllowed)
def _routing_error(error: HTTPException) -> ResponseReturnValue:
    """A URL no view matched. Blueprint handlers never see these, so this one is the app's:
    Open311 paths answer in Open311's shape, every other path as the rest of the API does."""
    if request.path.startswith(f"{blp.url_prefix}/"):
        return _as_open311(error)
    api: Any = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    answer: ResponseReturnValue = api.handle_http_exception(error)
    return answer


@blp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    """A domain rule's refusal, in Open311's shape."""
    return _answer(Open311Error(error.status, [error.message]))


@blp.errorhandler(Exception)
def _unexpected(error: Exception) -> ResponseReturnValue:
    """A bug: logged, and a 500 in Open311's shape (clients parse one error format)."""
    log.exception("unhandled error")
    return _answer(Open311Error(500, ["internal error"]))


@blp.before_request
def require_agency_key() -> None:
    """Request calls carry an agency's api_key (else 403) and stay within its rate (else 429)."""
    if request.endpoint in _DISCOVERY:
        return  # clients discover the services before they have a key
    if request.method == "POST" and request.mimetype not in mapping.FORM_TYPES:
        raise Open311Error(400, ["the body must be form-encoded (x-www-form-urlencoded)"])
    key = request.args.get("api_key")
    if request.method == "POST":  # Open311 puts it in the form; the query works too
        key = request.form.get("api_key") or key
    runtime = _runtime()
    with runtime.db.autocommit() as connection:
        caller = authenticate(connection, f"Bearer {key}") if key else None
    if caller is None:
        raise Open311Error(403, ["api_key: a valid agency key is required"])
    verdict = runtime.rate_limiter.hit(f"agency:{caller.agency_id}", runtime.clock.now())
    if not verdict.allowed:
        raise Open311Error(
            429,
            [f"rate limit of {runtime.rules.rate_limit} exceeded; retry later"],
            headers={"Retry-After": str(verdict.retry_after)},
        )
    g.caller = caller


def _validated(draft: mapping.Draft) -> dict[str, Any]:
    """The report as ReportIn loads it; every problem, the form's and the rules', in one 400."""
    problems = list(draft.problems)
    data: dict[str, Any] = {}
    try:
        data = ReportIn().load(draft.data)
    except ValidationError as exc:
        problems += mapping.describe_errors(exc.messages_dict, mapping.field_names(draft.kind))
    if problems:
        raise Open311Error(400, problems)
    return data


def _as_requests(session: Session, reports: Sequence[Report]) -> list[dict[str, Any]]:
    """Reports as Open311 requests."""
    villages = dict(_villages(session))
    agency = _station_name(_runtime().settings.station_file)
    return [
        mapping.service_request(r, agency_responsible=agency, village_name=villages.get(r.village))
        for r in reports
    ]


def _own_report(session: Session, service_request_id: str) -> Report | None:
    """The calling agency's report with this id; None for a bad id or another's report."""
    report_id = mapping.parse_request_id(service_request_id)
    if report_id is None:
        return None
    try:
        return service.get_report(session, agency_id=_caller().agency_id, report_id=report_id)
    except NotFound:
        return None


@blp.route("/services.json")
class Services(MethodView):
    @blp.doc(**_KEY_IN_PARAMS)
    @blp.response(200, Open311ServiceOut(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Every kind of report, as an Open311 service; no key needed."""
        return mapping.service_list()


@blp.route("/services/<service_code>.json")
class ServiceDefinition(MethodView):
    @blp.doc(**_KEY_IN_PARAMS)
    @blp.response(200, Open311ServiceDefinitionOut)
    @blp.alt_response(404, schema=_ERRORS, description="No such service")
    def get(self, service_code: str) -> dict[str, Any]:
        """A service's attributes, villages from the beat map; no key needed."""
        mapping.service_of(service_code)
        with _runtime().db.sessions() as session:
            return mapping.service_definition(service_code, _villages(session))


@blp.route("/requests.json")
class ServiceRequests(MethodView):
    @blp.doc(
        **_KEY_IN_PARAMS,
        requestBody={
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": Open311RequestFormIn}},
        },
    )
    @blp.response(201, Open311CreatedOut(many=True))
    @blp.alt_response(400, schema=_ERRORS, description="One entry per bad field")
    @blp.alt_response(403, schema=_ERRORS, description="A missing or bad api_key")
    @blp.alt_response(404, schema=_ERRORS, description="No such service_code")
    @blp.alt_response(429, schema=_ERRORS, description="The agency exceeded its rate")
    def post(self) -> list[dict[str, Any]]:
        """Submit a report; stored before the answer, routed in the background, as /v1/reports."""
        runtime, caller = _runtime(), _caller()
        draft = mapping.report_input(
            request.form.to_dict(flat=False), now=runtime.clock.now(), files=list(request.files)
        )
        data = _validated(draft)
        # The 201 goes out first; handing the routing messages to the broker follows it.
        with runtime.messaging.transaction(defer=after_response) as session:
            report = service.SubmitReport(caller=caller, data=data).run(
                session, messaging=runtime.messaging, rules=runtime.rules, now=runtime.clock.now()
            )
            answer = mapping.created(report)
        return [answer]

    @blp.doc(**_KEY_IN_PARAMS)
    @blp.arguments(Open311RequestsArgs, location="query")
    @blp.response(200, Open311RequestOut(many=True))
    @blp.alt_response(400, schema=_ERRORS, description="A bad filter")
    @blp.alt_response(403, schema=_ERRORS, description="A missing or bad api_key")
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """The agency's own requests, newest first: the ids asked for, else the newest 50."""
        query = mapping.requests_query(
            _caller().agency_id,
            ids=[i for i in args.get("service_request_id", []) if i],
            service_codes=args.get("service_code", []),
            statuses=args.get("status", []),
            start=args.get("start_date"),
            end=args.get("end_date"),
        )
        with _runtime().db.sessions() as session:
            return _as_requests(session, session.scalars(query).all())


@blp.route("/requests/<service_request_id>.json")
class ServiceRequest(MethodView):
    @blp.doc(**_KEY_IN_PARAMS)
    @blp.arguments(Open311KeyArgs, location="query")
    @blp.response(200, Open311RequestOut(many=True))
    @blp.alt_response(403, schema=_ERRORS, description="A missing or bad api_key")
    @blp.alt_response(404, schema=_ERRORS, description="No such request of the agency's")
    def get(self, _args: dict[str, Any], service_request_id: str) -> list[dict[str, Any]]:
        """One of the agency's requests (in an array, as Open311 has it)."""
        with _runtime().db.sessions() as session:
            report = _own_report(session, service_request_id)
            if report is None:
                raise Open311Error(404, [f"service_request_id: no request {service_request_id!r}"])
            return _as_requests(session, [report])
