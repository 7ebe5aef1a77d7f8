"""The console in front of rewards' real API (its WSGI app, no network), with its own SQLite
database per test and the test's clock.

The station gives 张审核 (reviewer-zhang) both the reviewer's and the approver's role here, as
a small station may: the four-eyes rule must hold for one person with two roles.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.common.clock import FrozenClock
from services.common.staff_auth import Role, StaffMember, StationDirectory
from services.common.station import load_station
from services.console import create_app
from services.console.passwords import set_password
from services.console.settings import ConsoleSettings
from services.console.setup import migrate
from services.rewards.runtime import RewardsRuntime
from tests.console.test_in_a_browser import chromium, page  # noqa: F401 (the browser's fixtures)
from tests.rewards.claims_helpers import client_for

PASSWORD = "rewards-password-1"
STAFF = ("grid-wang", "reviewer-zhang", "approver-li", "finance-zhou", "leader-cheng")


class TwoRoles:
    """The station's roster, with reviewer-zhang also an approver."""

    def __init__(self, station: StationDirectory) -> None:
        self._station = station

    def lookup(self, staff_id: str) -> StaffMember | None:
        found = self._station.lookup(staff_id)
        if found is not None and staff_id == "reviewer-zhang":
            return replace(found, roles=frozenset({Role.REVIEWER, Role.APPROVER}))
        return found


def rewards_console(
    tmp_path: Path, rewards: RewardsRuntime, clock: FrozenClock, *, rewards_url: str
) -> Flask:
    """A console on rewards' test database and clock, the demo staff with `PASSWORD`."""
    settings = ConsoleSettings(
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        mediation_url="http://127.0.0.1:9",  # the rewards pages never call mediation
        rewards_url=rewards_url,
        # The station's staff secret lives there: the console's tokens are rewards'.
        var_dir=rewards.settings.var_dir,
        station_file=rewards.settings.station_file,
    )
    migrate(settings)
    transport = None
    if rewards_url == "http://rewards.test":
        transport = httpx.WSGITransport(app=rewards_app(rewards))
    app = create_app(settings, clock, rewards_transport=transport)
    app.config["TESTING"] = True
    runtime = app.extensions["console"]
    runtime.directory = TwoRoles(runtime.directory)
    with runtime.db.transaction() as session:
        for staff_id in STAFF:
            set_password(session, staff_id=staff_id, password=PASSWORD, now=clock.now())
    return app


def rewards_app(rewards: RewardsRuntime) -> Flask:
    """Rewards' API on the test's runtime, knowing reviewer-zhang's two roles."""
    app = client_for(rewards).application
    station = StationDirectory(load_station(rewards.settings.station_file))
    app.extensions["staff_directory"] = TwoRoles(station)
    return app


@pytest.fixture
def console_app(tmp_path: Path, rewards: RewardsRuntime, clock: FrozenClock) -> Iterator[Flask]:
    app = rewards_console(tmp_path, rewards, clock, rewards_url="http://rewards.test")
    yield app
    runtime = app.extensions["console"]
    runtime.http.close()
    runtime.rewards_http.close()
    runtime.db.dispose()


@pytest.fixture
def browser(console_app: Flask) -> FlaskClient:
    """A test client that keeps cookies, like a browser."""
    return console_app.test_client()
