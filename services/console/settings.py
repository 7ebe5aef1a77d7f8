"""The console's settings, from the environment like every service's (12-factor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from environs import Env

from services.common.config import DEFAULT_STATION_FILE
from services.common.staff_auth import kept_secret


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str
    mediation_url: str
    var_dir: Path
    rewards_url: str = "http://127.0.0.1:5003"
    station_file: Path = DEFAULT_STATION_FILE
    notify_url: str = "http://127.0.0.1:5004"
    # Set behind TLS, so the browser sends the session cookie over HTTPS only.
    cookie_secure: bool = False
    # How long a sign-in lasts: the staff token in the cookie expires with it.
    session_lifetime: timedelta = timedelta(hours=8)
    api_timeout_seconds: float = 10.0
    default_locale: str = "zh"
    # Proxies in front that set X-Forwarded-For: behind one, the address a failed sign-in is
    # counted against is the client's, not the proxy's (which would lock out everyone).
    trusted_proxies: int = 0
    # Intake answers residents' lookups by tracking code (the public /track page).
    intake_url: str = "http://127.0.0.1:5001"


def load_console_settings(env: Env | None = None) -> ConsoleSettings:
    env = env or Env()
    var_dir = Path(env.str("FENGQIAO_VAR_DIR", "var")).resolve()
    return ConsoleSettings(
        database_url=env.str("CONSOLE_DATABASE_URL", f"sqlite:///{var_dir / 'console.sqlite3'}"),
        # By default the mediation API that `fengqiao run` starts on this machine.
        mediation_url=env.str(
            "MEDIATION_URL", f"http://127.0.0.1:{env.int('MEDIATION_PORT', 5002)}"
        ),
        # Rewards' API likewise (claims, nominations, the payouts export).
        rewards_url=env.str("REWARDS_URL", f"http://127.0.0.1:{env.int('REWARDS_PORT', 5003)}"),
        notify_url=env.str("NOTIFY_URL", f"http://127.0.0.1:{env.int('NOTIFY_PORT', 5004)}"),
        var_dir=var_dir,
        station_file=Path(env.str("STATION_FILE", str(DEFAULT_STATION_FILE))),
        cookie_secure=env.bool("CONSOLE_COOKIE_SECURE", False),
        session_lifetime=timedelta(minutes=env.int("CONSOLE_SESSION_MINUTES", 8 * 60)),
        api_timeout_seconds=env.float("CONSOLE_API_TIMEOUT_SECONDS", 10.0),
        default_locale=env.str("CONSOLE_DEFAULT_LOCALE", "zh"),
        trusted_proxies=env.int("CONSOLE_TRUSTED_PROXIES", 0),
        # By default the intake API that `fengqiao run` starts on this machine.
        intake_url=env.str("INTAKE_URL", f"http://127.0.0.1:{env.int('INTAKE_PORT', 5001)}"),
    )


def cookie_key(var_dir: Path, env: Env | None = None) -> str:
    """The key that signs the console's cookies: `CONSOLE_SECRET_KEY`, else kept in `var_dir`."""
    configured = (env or Env()).str("CONSOLE_SECRET_KEY", "")
    if configured:
        return configured
    return kept_secret(var_dir / "console-secret")
