"""Where each role lands after signing in, and the links its navigation shows.

`ROLE_HOME` names each role's first page by endpoint; a role without one yet lands on a
plain page that says so. `NAV` is every page link of the console with the roles that may
use it, so a person is never offered a page that would refuse them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from services.common.staff_auth import Role
from services.console.leader import breach_count
from services.console.pages_for import FIGURES_ROLES, OPS_ROLES
from services.console.roles import current_role, role_name
from services.console.views import signed_in

ROLE_HOME: dict[Role, str] = {
    Role.OFFICER: "console.cases",
    Role.DESK: "desk.week",
    Role.LEADER: "leader.breaches",
    Role.VERIFIER: "rewards.claims",
    Role.REVIEWER: "rewards.nominations",
    Role.APPROVER: "rewards.nominations",
    Role.FINANCE: "rewards.payouts",
    Role.OPS: "ops.messages",
}


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: LazyString
    roles: frozenset[Role]
    count: Callable[[], int | None] | None = None  # a figure shown beside the link


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


R = Role
# Each page's roles follow the access table of the service behind it (STAFF-API.md).
NAV: tuple[NavLink, ...] = (
    NavLink("leader.breaches", _l("Breaches"), _roles(R.LEADER), count=breach_count),
    NavLink("desk.week", _l("The desk's week"), _roles(R.DESK)),
    NavLink("console.cases", _l("Cases"), _roles(R.OFFICER, R.DESK, R.LEADER)),
    NavLink("rewards.claims", _l("Hazard claims"), _roles(R.VERIFIER, R.LEADER, R.FINANCE)),
    NavLink(
        "rewards.nominations",
        _l("Nominations"),
        _roles(R.OFFICER, R.LEADER, R.REVIEWER, R.APPROVER, R.FINANCE),
    ),
    NavLink("rewards.payouts", _l("Payouts"), _roles(R.LEADER, R.FINANCE)),
    NavLink("figures.charts", _l("The station's figures"), _roles(*FIGURES_ROLES)),
    NavLink("ops.messages", _l("SMS failures"), _roles(*OPS_ROLES)),
)

blp = Blueprint("home", __name__)


@blp.get("/")
@signed_in
def home() -> ResponseReturnValue:
    role = current_role()
    endpoint = ROLE_HOME.get(role) if role else None
    if endpoint is None:
        return render_template("no_page_yet.html", role=role_name(role))
    return redirect(url_for(endpoint))


def nav_links() -> list[tuple[NavLink, int | None]]:
    """The links of the signed-in person's role, each with its figure (None: none or unknown)."""
    if "nav" not in g:
        role = current_role()
        g.nav = [(link, link.count() if link.count else None) for link in NAV if role in link.roles]
    found: list[tuple[NavLink, int | None]] = g.nav
    return found


@blp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"nav_links": nav_links, "role_name": role_name}
