"""The roster API: `/v1/officers` and `/v1/villages` (分片包村). HTTP only."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import abort

from services.common.blueprint import Blueprint
from services.mediation.cases.access import Endpoint
from services.mediation.cases.views import guard, runtime
from services.mediation.roster import service
from services.mediation.roster.schemas import (
    NewStaffIn,
    NewVillageIn,
    StaffIn,
    StaffOut,
    VillageIn,
    VillageOut,
)

blp = Blueprint(
    "roster", __name__, url_prefix="/v1", description="Officers, staff and their villages"
)
blp.before_request(
    guard(
        {
            ("roster.Officers", "GET"): Endpoint.OFFICERS_READ,
            ("roster.Officers", "POST"): Endpoint.OFFICERS_WRITE,
            ("roster.Officer", "PUT"): Endpoint.OFFICERS_WRITE,
            ("roster.Villages", "GET"): Endpoint.VILLAGES_READ,
            ("roster.Villages", "POST"): Endpoint.VILLAGES_WRITE,
            ("roster.Village", "PUT"): Endpoint.VILLAGES_WRITE,
        }
    )
)


@blp.route("/officers")
class Officers(MethodView):
    @blp.response(200, StaffOut(many=True))
    def get(self) -> Any:
        """Officers and leaders with the villages they cover (phones masked)."""
        with runtime().db.sessions() as session:
            return service.list_officers(session)

    @blp.arguments(NewStaffIn)
    @blp.response(201, StaffOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a staff member to the station's roster."""
        staff_id = data.pop("id")
        with runtime().db.transaction() as session:
            if service.find_staff(session, staff_id) is not None:
                abort(409, message=f"{staff_id} is already on the roster; PUT changes them")
            staff = service.save_staff(session, staff_id=staff_id, changes=data)
            return service.view_of(session, staff)


@blp.route("/officers/<staff_id>")
class Officer(MethodView):
    @blp.arguments(StaffIn)
    @blp.response(200, StaffOut)
    def put(self, data: dict[str, Any], staff_id: str) -> Any:
        """Change a staff member: name, phone, roles, desk, or `active: false` when they leave."""
        with runtime().db.transaction() as session:
            service.get_staff(session, staff_id)
            staff = service.save_staff(session, staff_id=staff_id, changes=data)
            return service.view_of(session, staff)


@blp.route("/villages")
class Villages(MethodView):
    @blp.response(200, VillageOut(many=True))
    def get(self) -> Any:
        """Every village and the officer who owns its cases."""
        with runtime().db.sessions() as session:
            return service.list_villages(session)

    @blp.arguments(NewVillageIn)
    @blp.response(201, VillageOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a village, owned by an officer."""
        with runtime().db.transaction() as session:
            return service.save_village(
                session, code=data["code"], name=data["name"], officer_id=data["officer"]
            )


@blp.route("/villages/<code>")
class Village(MethodView):
    @blp.arguments(VillageIn)
    @blp.response(200, VillageOut)
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Rename a village or hand it to another officer (its open cases keep their owner)."""
        with runtime().db.transaction() as session:
            service.get_village(session, code)
            return service.save_village(
                session, code=code, name=data.get("name"), officer_id=data.get("officer")
            )
