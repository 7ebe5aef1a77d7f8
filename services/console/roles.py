"""The role the signed-in person acts in: its name in words, and pages kept to some roles."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import render_template, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from services.common.staff_auth import Role
from services.console.views import View, signed_in

ROLE_NAMES: dict[Role, LazyString] = {
    Role.OFFICER: _l("community officer"),
    Role.LEADER: _l("duty leader"),
    Role.DESK: _l("desk staff"),
    Role.VERIFIER: _l("verifier"),
    Role.REVIEWER: _l("reviewer"),
    Role.APPROVER: _l("approver"),
    Role.FINANCE: _l("finance"),
    Role.OPS: _l("operations"),
}


def current_role() -> Role | None:
    """The role the signed-in person acts in."""
    try:
        return Role(str(session.get("role", "")))
    except ValueError:
        return None


def role_name(role: Role | None) -> str:
    return str(ROLE_NAMES.get(role, "—")) if role else "—"


def for_roles(*roles: Role) -> Callable[[View], View]:
    """A page for these roles only; anyone else gets a plain 403 page saying so."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if current_role() not in roles:
                message = _(
                    "This page is not for your role (%(role)s).", role=role_name(current_role())
                )
                return render_template("error.html", message=message), 403
            return view(*args, **kwargs)

        return signed_in(wrapper)  # type: ignore[return-value]

    return decorate
