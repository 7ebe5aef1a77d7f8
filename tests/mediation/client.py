"""A mediation test client sharing the test's runtime, and staff tokens of the demo station."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from services.common.staff_auth import issue, staff_secret
from services.mediation import create_app
from services.mediation.runtime import MediationRuntime

# One staff member of the demo station for each role.
STAFF_OF_ROLE = {
    "officer": "officer-guo",
    "leader": "leader-cheng",
    "desk": "desk-mediator",
    "verifier": "grid-wang",
    "reviewer": "reviewer-zhang",
    "approver": "approver-li",
    "finance": "finance-zhou",
    "ops": "ops-zhao",
}


def client_for(runtime: MediationRuntime) -> FlaskClient:
    app = create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    app.extensions["fengqiao"] = runtime
    return app.test_client()


def headers(runtime: MediationRuntime, staff_id: str, role: str) -> dict[str, str]:
    secret = staff_secret(runtime.settings.var_dir)
    token = issue(
        secret, staff_id=staff_id, role=role, now=runtime.clock.now(), valid_for=timedelta(days=1)
    )
    return {"Authorization": f"Bearer {token}"}


def as_role(runtime: MediationRuntime, role: str) -> dict[str, str]:
    return headers(runtime, STAFF_OF_ROLE[role], role)
