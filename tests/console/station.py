"""The console in front of mediation's, rewards' and notify's real APIs (their WSGI apps, no
network), routed by host name, with one password set for each staff member a test signs in as."""

from __future__ import annotations

from pathlib import Path

import httpx
from flask import Flask

from services.common.clock import FrozenClock
from services.console import create_app
from services.console.passwords import set_password
from services.console.setup import migrate
from services.mediation.runtime import MediationRuntime
from services.notify.runtime import NotifyRuntime
from services.rewards.runtime import RewardsRuntime
from tests.console.conftest import PASSWORD, console_settings
from tests.mediation.client import client_for as mediation_client
from tests.notify.client import client_for as notify_client
from tests.rewards.claims_helpers import client_for as rewards_client

STAFF = ("leader-cheng", "ops-zhao", "officer-guo", "finance-zhou")


class ByHost(httpx.BaseTransport):
    """One WSGI app per host name, as if each service had its own address."""

    def __init__(self, apps: dict[str, Flask]) -> None:
        self._transports = {host: httpx.WSGITransport(app=app) for host, app in apps.items()}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transports.get(request.url.host)
        if transport is None:  # a service left out: as if it were down
            raise httpx.ConnectError("connection refused", request=request)
        return transport.handle_request(request)


def service_apps(
    mediation: MediationRuntime, rewards: RewardsRuntime, notify: NotifyRuntime
) -> dict[str, Flask]:
    return {
        "mediation.test": mediation_client(mediation).application,
        "rewards.test": rewards_client(rewards).application,
        "notify.test": notify_client(notify).application,
    }


def set_passwords(app: Flask, clock: FrozenClock) -> None:
    with app.extensions["console"].db.transaction() as session:
        for staff_id in STAFF:
            set_password(session, staff_id=staff_id, password=PASSWORD, now=clock.now())


def station_console(
    tmp_path: Path,
    clock: FrozenClock,
    mediation: MediationRuntime,
    rewards: RewardsRuntime,
    notify: NotifyRuntime,
    *,
    down: tuple[str, ...] = (),
) -> Flask:
    """The console over the three services' apps (but those `down`), its database migrated."""
    settings = console_settings(
        tmp_path,
        mediation,
        rewards_url="http://rewards.test",
        notify_url="http://notify.test",
    )
    migrate(settings)
    apps = service_apps(mediation, rewards, notify)
    up = {host: app for host, app in apps.items() if host.split(".")[0] not in down}
    app = create_app(settings, clock, transport=ByHost(up))
    app.config["TESTING"] = True
    set_passwords(app, clock)
    return app


def close(app: Flask) -> None:
    runtime = app.extensions["console"]
    for client in (runtime.http, runtime.rewards_http, runtime.notify_http):
        client.close()
    runtime.db.dispose()
