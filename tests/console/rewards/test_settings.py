"""Where the console finds rewards' API: `REWARDS_URL`, else the port `fengqiao run` uses."""

from __future__ import annotations

import pytest
from environs import Env

from services.cli.run import DEFAULT_PORTS
from services.console.settings import load_console_settings


def _env(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Env:
    for name in ("REWARDS_URL", "REWARDS_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Env()


def test_by_default_the_console_calls_rewards_where_fengqiao_run_serves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_console_settings(_env({}, monkeypatch))
    assert settings.rewards_url == f"http://127.0.0.1:{DEFAULT_PORTS['rewards']}"
    moved = load_console_settings(_env({"REWARDS_PORT": "6003"}, monkeypatch))
    assert moved.rewards_url == "http://127.0.0.1:6003"


def test_rewards_url_names_another_host(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_console_settings(_env({"REWARDS_URL": "http://rewards-api:5003"}, monkeypatch))
    assert settings.rewards_url == "http://rewards-api:5003"
