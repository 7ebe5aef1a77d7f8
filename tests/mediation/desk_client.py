"""A mediation test client sharing the test's runtime, and staff tokens for it."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from services.common.staff_auth import issue, staff_secret
from services.mediation import create_app
from services.mediation.runtime import MediationRuntime

# The demo station's staff (STAFF-API.md), by the role each acts in.
STAFF_OF_ROLE = {
    "leader": "leader-cheng",
    "officer": "officer-guo",
    "desk": "desk-mediator",
    "ops": "ops-zhao",
}


def client_for(runtime: MediationRuntime) -> FlaskClient:
    app = create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    app.extensions["fengqiao"] = runtime
    return app.test_client()


def staff_headers(runtime: MediationRuntime, role: str) -> dict[str, str]:
    secret = staff_secret(runtime.settings.var_dir)
    token = issue(
        secret,
        name=STAFF_OF_ROLE[role],
        role=role,
        now=runtime.clock.now(),
        valid_for=timedelta(days=1),
    )
    return {"Authorization": f"Bearer {token}"}
