"""A notify test client sharing the test's runtime, and staff tokens for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from services.common.staff_auth import issue, staff_secret
from services.notify import create_app
from services.notify.failover import ProviderRouter
from services.notify.providers.aliyun import AliyunConfig, AliyunProvider
from services.notify.providers.tencent import TencentConfig, TencentProvider
from services.notify.runtime import NotifyRuntime

TOKEN = "webhook-path-token"


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


def with_webhook_providers(
    runtime: NotifyRuntime, monkeypatch: pytest.MonkeyPatch
) -> NotifyRuntime:
    """`runtime` configured with Aliyun and Tencent and the webhook token (never called:
    tests use them to parse webhooks)."""
    monkeypatch.setenv("NOTIFY_WEBHOOK_TOKEN", TOKEN)
    aliyun = AliyunProvider(AliyunConfig(access_key_id="id", access_key_secret="secret"))
    tencent = TencentProvider(
        TencentConfig(secret_id="id", secret_key="key", sdk_app_id="1400000000", sign_name="魏村")
    )
    router = ProviderRouter([(aliyun, 1), (tencent, 1)])
    runtime.deliverer = replace(runtime.deliverer, router=router)
    return runtime
