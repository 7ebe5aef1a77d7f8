"""An intake test client that shares the test's runtime (and so its clock and rules)."""

from __future__ import annotations

from flask.testing import FlaskClient

from services.intake import create_app
from services.intake.runtime import IntakeRuntime


def client_for(runtime: IntakeRuntime) -> FlaskClient:
    app = create_app(runtime.settings, runtime.clock)
    app.extensions["fengqiao"].db.dispose()
    app.extensions["fengqiao"] = runtime
    return app.test_client()
