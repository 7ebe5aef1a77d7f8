"""The staff console: server-rendered pages over the services' HTTP APIs (record 0023).

It reads and changes nothing but through the APIs, with the signed-in person's own staff
token; its only storage is its own small database of password hashes and failed sign-ins.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from flask import Flask, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from services.common.clock import Clock, SystemClock
from services.common.db import Database
from services.common.staff_auth import StationDirectory, staff_secret
from services.common.station import load_station
from services.console.settings import ConsoleSettings, cookie_key, load_console_settings
from services.console.throttle import ThrottleRules

HERE = Path(__file__).parent
LOCALES = ("zh", "en")


class ConsoleRuntime:
    """What the console's requests share: its database, the station's staff, an HTTP client."""

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        rewards_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.station = load_station(settings.station_file)
        self.directory = StationDirectory(self.station)
        self.staff_secret = staff_secret(settings.var_dir)
        self.throttle = ThrottleRules()
        self.http = httpx.Client(
            base_url=settings.mediation_url,
            timeout=settings.api_timeout_seconds,
            transport=transport,
        )
        self.rewards_http = httpx.Client(
            base_url=settings.rewards_url,
            timeout=settings.api_timeout_seconds,
            transport=rewards_transport or transport,
        )
        self.notify_http = httpx.Client(
            base_url=settings.notify_url, timeout=settings.api_timeout_seconds, transport=transport
        )
        # Residents' lookups (the public /track page) go to intake.
        self.intake = httpx.Client(
            base_url=settings.intake_url, timeout=settings.api_timeout_seconds
        )


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    settings: ConsoleSettings = runtime_of().settings
    return settings.default_locale


def runtime_of() -> ConsoleRuntime:
    from flask import current_app

    runtime: ConsoleRuntime = current_app.extensions["console"]
    return runtime


def create_app(
    settings: ConsoleSettings | None = None,
    clock: Clock | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    rewards_transport: httpx.BaseTransport | None = None,
) -> Flask:
    settings = settings or load_console_settings()
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=cookie_key(settings.var_dir),
        SESSION_COOKIE_NAME="fq_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session it belongs to
        BABEL_TRANSLATION_DIRECTORIES=str(HERE / "translations"),
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    app.extensions["console"] = ConsoleRuntime(
        settings, clock=clock, transport=transport, rewards_transport=rewards_transport
    )
    CSRFProtect(app)
    Babel(app, locale_selector=_locale)

    from services.console import desk, figures, home, leader, ops, rewards_views, track, views

    app.register_blueprint(views.blp)
    app.register_blueprint(home.blp)
    app.register_blueprint(desk.blp)
    app.register_blueprint(leader.blp)
    app.register_blueprint(rewards_views.blp)
    app.register_blueprint(figures.blp)
    app.register_blueprint(ops.blp)
    app.register_blueprint(track.blp)

    @app.after_request
    def _no_store(response):  # type: ignore[no-untyped-def]
        # Pages hold personal data: no shared cache keeps them, no other site frames them.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        return response

    return app
