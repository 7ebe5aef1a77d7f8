"""The whole system started as `make run` starts it (`fengqiao run`), for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from services.common.config import SERVICES
from tests import infra

FENGQIAO = str(Path(sys.executable).with_name("fengqiao"))


class RunningSystem:
    """`fengqiao run` in a subprocess on free ports, its output in a log file."""

    def __init__(self, var_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.ports = {service: infra.free_port() for service in SERVICES}
        self.env = {
            **os.environ,
            "FENGQIAO_VAR_DIR": str(var_dir),
            "WEB_CONCURRENCY": "1",
            "OUTBOX_RELAY_SECONDS": "1",
            # No quiet hours, whatever the hour the tests run at (tests/notify covers them).
            "NOTIFY_QUIET_FROM": "00:00",
            "NOTIFY_QUIET_UNTIL": "00:00",
            **{f"{s.upper()}_PORT": str(p) for s, p in self.ports.items()},
            "CONSOLE_PORT": str(infra.free_port()),  # the console too, off its default 5000
            **(extra_env or {}),
        }
        self.log_path = var_dir / "system.log"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, timeout: float = 120) -> None:
        """`fengqiao run`, waited for until every API is ready (migrations, then ten
        processes starting on two CPUs that other work may hold); stopped if it is not."""
        var_dir = Path(self.env["FENGQIAO_VAR_DIR"])
        var_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [FENGQIAO, "run"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_for(
                lambda: all(self.ready(s) for s in SERVICES), timeout, "all four /readyz", self
            )
        except BaseException:
            # The test fails here and never calls stop(): the processes must not outlive it.
            self.stop()
            raise

    def ready(self, service: str) -> bool:
        try:
            return httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `fengqiao` command against this system's configuration."""
        return subprocess.run(
            [FENGQIAO, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def stop(self, timeout: float = 40) -> int:
        """Ctrl-C, as a person at the terminal would; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                # Its children run in sessions of their own: killing the supervisor alone
                # would leave them serving, and holding the test's databases.
                for pid in self.started_pids():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pid, signal.SIGKILL)
                self.process.kill()

    def started_pids(self) -> list[int]:
        """Every process the supervisor said it started (`started NAME (pid N)`)."""
        found = re.findall(r"^started \S+ \(pid (\d+)\)$", self.log(whole=True), re.M)
        return [int(pid) for pid in found]

    def log(self, *, whole: bool = False) -> str:
        text = self.log_path.read_text(errors="replace")
        return text if whole else text[-6000:]


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, system: RunningSystem | None = None
) -> Any:
    """Poll `condition` until it is truthy; fail naming `what` (with the system's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if system is not None and system.process is not None and system.process.poll() is not None:
            raise AssertionError(f"the system exited while waiting for {what}:\n{system.log()}")
        time.sleep(0.2)
    tail = system.log() if system is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
