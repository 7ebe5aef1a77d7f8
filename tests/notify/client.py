"""A notify test client sharing the test's runtime, and staff tokens for it."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from services.common.staff_auth import issue, staff_secret
from services.notify import create_app
from services.notify.runtime import NotifyRuntime


def client_for(runtime: NotifyRuntime) -> FlaskClient:
    app = create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    app.extensions["fengqiao"] = runtime
    return app.test_client()


STAFF_OF_ROLE = {"ops": "ops-zhao", "officer": "officer-guo"}  # the demo station's


def staff_headers(
    runtime: NotifyRuntime, role: str = "ops", valid_for: timedelta = timedelta(days=1)
) -> dict[str, str]:
    secret = staff_secret(runtime.settings.var_dir)
    token = issue(
        secret,
        staff_id=STAFF_OF_ROLE[role],
        role=role,
        now=runtime.clock.now(),
        valid_for=valid_for,
    )
    return {"Authorization": f"Bearer {token}"}
