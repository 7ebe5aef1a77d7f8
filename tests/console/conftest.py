"""The console in front of mediation's real API (its WSGI app, no network), with its own
SQLite database per test and the test's clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.common.clock import FrozenClock
from services.console import create_app
from services.console.passwords import set_password
from services.console.settings import ConsoleSettings
from services.console.setup import migrate
from services.mediation.runtime import MediationRuntime
from services.notify.runtime import NotifyRuntime
from services.rewards.runtime import RewardsRuntime
from tests.mediation.client import client_for

PASSWORD = "guo-password-1"


def console_settings(
    tmp_path: Path, mediation: MediationRuntime, **overrides: object
) -> ConsoleSettings:
    settings = ConsoleSettings(
        database_url=f"sqlite:///{tmp_path / 'console.sqlite3'}",
        mediation_url="http://mediation.test",
        # The station's staff secret lives there: the console's tokens are mediation's.
        var_dir=mediation.settings.var_dir,
        station_file=mediation.settings.station_file,
    )
    return ConsoleSettings(**{**settings.__dict__, **overrides})


@pytest.fixture
def console_app(tmp_path: Path, mediation: MediationRuntime, clock: FrozenClock) -> Iterator[Flask]:
    settings = console_settings(tmp_path, mediation)
    migrate(settings)
    mediation_app = client_for(mediation).application
    app = create_app(settings, clock, transport=httpx.WSGITransport(app=mediation_app))
    app.config["TESTING"] = True
    runtime = app.extensions["console"]
    with runtime.db.transaction() as session:
        set_password(session, staff_id="officer-guo", password=PASSWORD, now=clock.now())
    yield app
    runtime.http.close()
    runtime.db.dispose()


@pytest.fixture
def browser(console_app: Flask) -> FlaskClient:
    """A test client that keeps cookies, like a browser."""
    return console_app.test_client()


@pytest.fixture
def station_apps(
    tmp_path: Path,
    clock: FrozenClock,
    mediation: MediationRuntime,
    rewards: RewardsRuntime,
    notify: NotifyRuntime,
) -> Iterator[Callable[..., Flask]]:
    """Makes the console over mediation's, rewards' and notify's apps, but those `down`."""
    from tests.console.station import close, station_console  # it builds on this module

    made: list[Flask] = []

    def make(*, down: tuple[str, ...] = ()) -> Flask:
        where = tmp_path / f"console-{len(made)}"  # each its own database
        where.mkdir()
        app = station_console(where, clock, mediation, rewards, notify, down=down)
        made.append(app)
        return app

    yield make
    for app in made:
        close(app)


@pytest.fixture
def station_app(station_apps: Callable[..., Flask]) -> Flask:
    """The console over all three services' apps (the figures, the SMS pages)."""
    return station_apps()
