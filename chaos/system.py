"""The system under test: `fengqiao run`, as `make run` starts it, and the processes it runs.

The processes are found in /proc rather than in the supervisor's output, so the campaign
sees a process the supervisor restarted whatever the supervisor prints about it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from bench.processes import Child, kill_group, wait_ready
from bench.runner import fengqiao_command
from chaos import procfs
from services.cli.run import CELERY_LAUNCHER, plan
from services.common.config import SERVICES

HOST = "127.0.0.1"
READY_SECONDS = 120.0  # migrations, then nine processes starting on two busy CPUs
STOP_SECONDS = 40.0  # `fengqiao run` itself gives its processes 20 s


class Supervised(Child):
    """A child whose exit code can be read."""

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int | None:
        if self._popen is None:
            return None
        try:
            return self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


class System:
    """`fengqiao run` on the campaign's servers, with its log in the work directory."""

    def __init__(self, *, workdir: Path, ports: dict[str, int]) -> None:
        self.workdir = workdir
        self.ports = ports
        self.log_path = workdir / "system.log"
        self.supervisor: Supervised | None = None
        self.stand_ins: list[Child] = []  # workers the campaign started in a supervisor's stead
        # Every process a supervisor was seen running, with its command line.
        self.seen: dict[int, list[str]] = {}

    def url(self, service: str) -> str:
        return f"http://{HOST}:{self.ports[service]}"

    def start(self, *, migrate: bool = False) -> float:
        """Start `fengqiao run` and wait for the four /readyz; returns the seconds taken."""
        if self.supervisor is not None:  # the one before exited: close its log
            self.supervisor.stop(STOP_SECONDS)
        argv = fengqiao_command() + ([] if migrate else ["--skip-migrate"])
        self.supervisor = Supervised("fengqiao run", argv, self.log_path)
        self.supervisor.start()
        ready = [f"{self.url(service)}/readyz" for service in SERVICES]
        seconds = wait_ready(ready, [self.supervisor], READY_SECONDS)
        self.processes()
        return seconds

    @property
    def running(self) -> bool:
        return self.supervisor is not None and self.supervisor.alive()

    def processes(self) -> dict[int, list[str]]:
        """The supervisor's children now, by pid, with their command lines."""
        if self.supervisor is None or not self.supervisor.alive():
            return {}
        found = {pid: procfs.command_line(pid) for pid in procfs.children_of(self.supervisor.pid)}
        self.seen.update(found)
        return found

    def worker_main(self, service: str) -> int | None:
        """The pid of the service's Celery worker (its main process), if one runs."""
        app = f"services.{service}.worker"
        for pid, argv in self.processes().items():
            launched = CELERY_LAUNCHER[-1] in argv
            if launched and app in argv and "worker" in argv and procfs.alive(pid):
                return pid
        for stand_in in self.stand_ins:
            if app in stand_in.argv and stand_in.alive():
                return stand_in.pid
        return None

    def pool_children(self, service: str) -> list[int]:
        """The worker's pool processes: the ones that run the tasks."""
        main = self.worker_main(service)
        return [] if main is None else [p for p in procfs.children_of(main) if procfs.alive(p)]

    def terminate(self) -> tuple[int | None, float]:
        """SIGTERM to `fengqiao run`, as a process manager stops it: (exit code, seconds)."""
        assert self.supervisor is not None
        self.processes()
        started = time.monotonic()
        self.supervisor.signal(signal.SIGTERM)
        code = self.supervisor.wait(STOP_SECONDS)
        return code, time.monotonic() - started

    def wait_exit(self, timeout: float) -> int | None:
        """Wait for `fengqiao run` to exit on its own; its exit code, or None if it did not."""
        return None if self.supervisor is None else self.supervisor.wait(timeout)

    def lingering(self) -> list[int]:
        """Processes a supervisor ran that still run, though no supervisor does."""
        if self.running:
            return []
        return [
            pid
            for pid, argv in self.seen.items()
            if procfs.alive(pid) and procfs.command_line(pid) == argv
        ]

    def start_stand_in(self, service: str) -> Child:
        """Start the service's worker as `fengqiao run` would, outside any supervisor."""
        argv = next(p.argv for p in plan() if p.name == f"{service}-worker")
        child = Child(
            f"{service}-worker (stand-in)", argv, self.workdir / f"{service}-stand-in.log"
        )
        child.start()
        self.stand_ins.append(child)
        return child

    def stop(self) -> None:
        """Stop everything: the supervisor gracefully, then whatever it left running."""
        for stand_in in self.stand_ins:
            stand_in.stop(STOP_SECONDS / 2)
        if self.supervisor is not None:
            self.processes()
            self.supervisor.stop(STOP_SECONDS)
        # Each process ran in a session (and group) of its own; what a supervisor left
        # behind is stopped by its group. A group outlives its leader, and Linux gives no
        # new process the id of a group still in use, so a live group of a dead leader is
        # still the one seen; a live leader is checked by its command line.
        for pid, argv in self.seen.items():
            leader_ours = not procfs.alive(pid) or procfs.command_line(pid) == argv
            if procfs.group_members(pid) and leader_ours:
                kill_group(pid)
