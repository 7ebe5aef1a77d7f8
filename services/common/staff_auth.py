"""Staff tokens: signed, expiring, checked by every service without a shared database.

`fengqiao staff token NAME --role ROLE` issues one. A token is an itsdangerous-signed
`{name, role, exp}`, keyed with the station's `FENGQIAO_STAFF_SECRET`, so any service
checks it alone. Tokens are revoked by expiry or, all at once, by rotating the secret. With
no secret configured (the embedded default), one is made and kept in `var/staff-secret`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from environs import Env
from flask import current_app, g, request
from flask_smorest import abort
from itsdangerous import BadSignature, URLSafeSerializer

ROLES = ("ops", "officer", "desk", "leader", "reviewer", "approver")
TOKEN_PREFIX = "fqs_"  # noqa: S105 (a marker, not a secret)
_SALT = "fengqiao-staff-token"


@dataclass(frozen=True)
class Staff:
    name: str
    role: str
    expires_at: datetime


def staff_secret(var_dir: Path, env: Env | None = None) -> str:
    """The station's token secret: from the environment, else kept under `var_dir`."""
    configured = (env or Env()).str("FENGQIAO_STAFF_SECRET", "")
    if configured:
        return configured
    path = var_dir / "staff-secret"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def issue(secret: str, *, name: str, role: str, now: datetime, valid_for: timedelta) -> str:
    """A token for `name` acting as `role`, valid from `now` for `valid_for`."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    expires = int((now + valid_for).timestamp())
    body = URLSafeSerializer(secret, salt=_SALT).dumps({"n": name, "r": role, "e": expires})
    return TOKEN_PREFIX + str(body)


def verify(secret: str, token: str, *, now: datetime) -> Staff | None:
    """The staff member a token proves, or None if it is forged, malformed or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        claims = URLSafeSerializer(secret, salt=_SALT).loads(token.removeprefix(TOKEN_PREFIX))
        staff = Staff(
            name=str(claims["n"]),
            role=str(claims["r"]),
            expires_at=datetime.fromtimestamp(int(claims["e"]), now.tzinfo),
        )
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    return staff if staff.expires_at > now and staff.role in ROLES else None


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_staff(*roles: str) -> Callable[[], None]:
    """A `before_request` hook: a valid staff token of one of `roles`, else 401 or 403."""

    def check() -> None:
        runtime = current_app.extensions["fengqiao"]
        secret = current_app.extensions.get("staff_secret")
        if secret is None:
            secret = current_app.extensions["staff_secret"] = staff_secret(runtime.settings.var_dir)
        token = bearer(request.headers.get("Authorization"))
        staff = verify(secret, token, now=runtime.clock.now()) if token else None
        if staff is None:
            abort(
                401,
                message="a valid staff token is required: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
            return
        if roles and staff.role not in roles:
            abort(403, message=f"this needs the role {' or '.join(roles)}")
        g.staff = staff

    return check
