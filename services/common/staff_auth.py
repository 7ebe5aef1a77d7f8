"""Staff tokens: signed, expiring, naming a staff member of the station and the role acted in.

`fengqiao staff token STAFF_ID --role ROLE` issues one. A token is an itsdangerous-signed
`{staff id, role, exp}`, keyed with the station's `FENGQIAO_STAFF_SECRET`, so any service
checks the signature alone. Who the id is, and whether they still hold the role, comes
from the service's staff directory (the station file by default; mediation keeps the
roster in its database), so a person who leaves or loses a role is refused at once.
Tokens are otherwise revoked by expiry or, all at once, by rotating the secret. With no
secret configured (the embedded default), one is made and kept in `var/staff-secret`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from environs import Env
from itsdangerous import BadSignature, URLSafeSerializer

from services.common.station import Station, load_station


class Role(StrEnum):
    OFFICER = "officer"
    LEADER = "leader"
    DESK = "desk"
    VERIFIER = "verifier"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    FINANCE = "finance"
    OPS = "ops"


ROLES = tuple(role.value for role in Role)
E = TypeVar("E", bound=StrEnum)  # a service's enumeration of its endpoints
TOKEN_PREFIX = "fqs_"  # noqa: S105 (a marker, not a secret)
_SALT = "fengqiao-staff-token-v2"  # v1 tokens named a free-text person and are not accepted


@dataclass(frozen=True)
class Claims:
    """What a valid token says: who, in which role, until when."""

    staff_id: str
    role: Role
    expires_at: datetime


@dataclass(frozen=True)
class StaffMember:
    """A person on the station's roster, as a directory knows them."""

    id: str
    name: str
    roles: frozenset[Role]
    villages: frozenset[str] = field(default_factory=frozenset)
    desk: str | None = None


@dataclass(frozen=True)
class Caller:
    """The staff member behind a request, acting in one role."""

    member: StaffMember
    role: Role

    @property
    def id(self) -> str:
        return self.member.id

    @property
    def name(self) -> str:
        return self.member.name


class StaffDirectory(Protocol):
    def lookup(self, staff_id: str) -> StaffMember | None:
        """The staff member with this id, or None if the station does not know them."""
        ...


class StationDirectory:
    """The roster of the station file (`[[staff]]`)."""

    def __init__(self, station: Station) -> None:
        self._members = {m.id: m for m in roster(station)}

    def lookup(self, staff_id: str) -> StaffMember | None:
        return self._members.get(staff_id)


def roster(station: Station) -> list[StaffMember]:
    """Every staff member the station file lists."""
    return [
        StaffMember(
            id=entry["id"],
            name=entry["name"],
            roles=frozenset(Role(r) for r in entry.get("roles", [])),
            villages=frozenset(entry.get("villages", [])),
            desk=entry.get("desk"),
        )
        for entry in station.section("staff")
    ]


def staff_secret(var_dir: Path, env: Env | None = None) -> str:
    """The station's token secret: from the environment, else kept under `var_dir`."""
    configured = (env or Env()).str("FENGQIAO_STAFF_SECRET", "")
    if configured:
        return configured
    return kept_secret(var_dir / "staff-secret")


def kept_secret(path: Path) -> str:
    """A random secret kept in the file `path` (readable by its owner only), made if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def issue(secret: str, *, staff_id: str, role: str, now: datetime, valid_for: timedelta) -> str:
    """A token for staff member `staff_id` acting as `role`, valid from `now` for `valid_for`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    expires = int((now + valid_for).timestamp())
    body = URLSafeSerializer(secret, salt=_SALT).dumps({"s": staff_id, "r": role, "e": expires})
    return TOKEN_PREFIX + str(body)


def verify(secret: str, token: str, *, now: datetime) -> Claims | None:
    """What a token claims, or None if it is forged, malformed or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        raw = URLSafeSerializer(secret, salt=_SALT).loads(token.removeprefix(TOKEN_PREFIX))
        claims = Claims(
            staff_id=str(raw["s"]),
            role=Role(raw["r"]),
            expires_at=datetime.fromtimestamp(int(raw["e"]), now.tzinfo),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    return claims if claims.expires_at > now else None


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Flask is imported inside the request hooks below: a worker uses the roles and the
# directory, never a request, and need not load Flask (docs/capacity.md, memory).


def _directory() -> StaffDirectory:
    from flask import current_app

    directory: StaffDirectory | None = current_app.extensions.get("staff_directory")
    if directory is None:
        runtime = current_app.extensions["fengqiao"]
        directory = StationDirectory(load_station(runtime.settings.station_file))
        current_app.extensions["staff_directory"] = directory
    return directory


def _unauthorised(message: str) -> None:
    from flask_smorest import abort

    abort(401, message=message, headers={"WWW-Authenticate": "Bearer"})


def require_staff(*roles: Role | str) -> Callable[[], None]:
    """A `before_request` hook: a known staff member acting in one of `roles`, else 401 or 403.

    `g.staff` is then the `Caller`.
    """
    admitted = {Role(r) for r in roles}

    def check() -> None:
        from flask import current_app, g, request
        from flask_smorest import abort

        runtime = current_app.extensions["fengqiao"]
        secret = current_app.extensions.get("staff_secret")
        if secret is None:
            secret = current_app.extensions["staff_secret"] = staff_secret(runtime.settings.var_dir)
        token = bearer(request.headers.get("Authorization"))
        claims = verify(secret, token, now=runtime.clock.now()) if token else None
        if claims is None:
            _unauthorised("a valid staff token is required: Authorization: Bearer <token>")
            return
        member = _directory().lookup(claims.staff_id)
        if member is None:
            _unauthorised(f"the station has no staff member {claims.staff_id!r}")
            return
        if claims.role not in member.roles:
            abort(403, message=f"{member.id} does not hold the role {claims.role}")
        if admitted and claims.role not in admitted:
            abort(403, message=f"this needs the role {' or '.join(sorted(admitted))}")
        g.staff = Caller(member=member, role=claims.role)

    return check


def endpoint_guard(
    endpoints: dict[tuple[str, str], E], roles_for: Mapping[E, frozenset[Role]]
) -> Callable[[], None]:
    """A `before_request` hook: a staff token (401), then a role the service's access table
    (`roles_for`) admits for the view and method (403), before the body is even read."""
    authenticate = require_staff()

    def check() -> None:
        from flask import g, request
        from flask_smorest import abort

        authenticate()
        if request.method == "OPTIONS":
            return
        method = "GET" if request.method == "HEAD" else request.method
        endpoint = endpoints.get((request.endpoint or "", method))
        if endpoint is None or g.staff.role not in roles_for[endpoint]:
            abort(403, message=f"the role {g.staff.role} may not use {endpoint or 'this'}")

    return check
