"""Workers and beat answer no HTTP request: they do not load Flask (docs/capacity.md, memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.config import SERVICES

WEB_ONLY = ("flask", "flask_smorest", "werkzeug", "jinja2", "apispec", "webargs")


@pytest.mark.parametrize("module", [*(f"services.{s}.worker" for s in SERVICES), "services.beat"])
def test_a_worker_process_loads_no_web_framework(module: str, tmp_path: Path) -> None:
    probe = f"import sys, {module}\nprint(','.join(m for m in {WEB_ONLY!r} if m in sys.modules))\n"
    # The embedded defaults (SQLite, the filesystem broker) under tmp_path: nothing to reach.
    unset = {"BROKER_URL", "REDIS_URL", *(f"{s.upper()}_DATABASE_URL" for s in SERVICES)}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env["FENGQIAO_VAR_DIR"] = str(tmp_path)
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    assert loaded == ""
