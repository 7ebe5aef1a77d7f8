"""Settings from the environment (12-factor), with an embedded default that needs only Python.

With nothing set, every service uses an SQLite file and the broker is kombu's filesystem
transport, all under `var/`. Set `REDIS_URL` and `<SERVICE>_DATABASE_URL` for production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environs import Env

SERVICES = ("intake", "mediation", "rewards", "notify")
SCHEDULER = "scheduler"  # the beat process: it has the broker settings and no database
DEFAULT_STATION_FILE = Path(__file__).with_name("station_demo.toml")


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    broker_url: str
    broker_transport_options: dict[str, Any] = field(default_factory=dict)
    var_dir: Path = Path("var")
    station_file: Path = DEFAULT_STATION_FILE
    outbox_relay_seconds: float = 1.0
    # A message whose handler keeps failing is tried this many more times, then parked.
    message_max_retries: int = 12
    # Published outbox rows and processed message ids are kept this long (a week).
    message_retention_hours: float = 168.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def redis_url(self) -> str | None:
        """The broker's URL when the broker is Redis (rate limits and counters use it too)."""
        return self.broker_url if self.broker_url.startswith(("redis://", "rediss://")) else None

    @property
    def embedded_broker(self) -> bool:
        """True when the broker is the filesystem transport (no server needed)."""
        return self.broker_url.startswith("filesystem://")


def broker_folder(var_dir: Path) -> Path:
    """Where the filesystem transport keeps its messages."""
    return var_dir / "broker"


def load_settings(service: str, env: Env | None = None) -> Settings:
    """Read one service's settings from the environment."""
    if service not in (*SERVICES, SCHEDULER):
        raise ValueError(f"unknown service {service!r}")
    env = env or Env()
    var_dir = Path(env.str("FENGQIAO_VAR_DIR", "var")).resolve()
    broker_url = env.str("BROKER_URL", "") or env.str("REDIS_URL", "") or "filesystem://localhost/"
    options: dict[str, Any] = {}
    if broker_url.startswith("filesystem://"):
        folder = broker_folder(var_dir)
        options = {
            "data_folder_in": str(folder / "queues"),
            "data_folder_out": str(folder / "queues"),
            "control_folder": str(folder / "control"),
            # With prefetch 1 a worker takes its next message on the poll after an ack, so
            # the interval bounds each worker's rate (0.02 s: up to ~50 messages a second).
            "polling_interval": env.float("FILESYSTEM_BROKER_POLL_SECONDS", 0.02),
        }
    database_url = env.str(
        f"{service.upper()}_DATABASE_URL", f"sqlite:///{var_dir / (service + '.sqlite3')}"
    )
    return Settings(
        service=service,
        database_url=database_url,
        broker_url=broker_url,
        broker_transport_options=options,
        var_dir=var_dir,
        station_file=Path(env.str("STATION_FILE", str(DEFAULT_STATION_FILE))),
        outbox_relay_seconds=env.float("OUTBOX_RELAY_SECONDS", 1.0),
        message_max_retries=env.int("MESSAGE_MAX_RETRIES", 12),
        message_retention_hours=env.float("MESSAGE_RETENTION_HOURS", 168.0),
    )
