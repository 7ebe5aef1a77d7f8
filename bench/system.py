"""`fengqiao run` on fresh Redis and PostgreSQL, for the parts that measure the whole system.

One place for what `memory`, `staff` and `sustained` each did alike: the backends, a port
for every API (and one more, for the part's own use), the environment, the start, the wait
until every API is ready, and the stop however the part ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import backends
from bench.environment import HOST, free_ports, overridden, python_path
from bench.processes import Child, wait_ready
from bench.runner import fengqiao_command, say
from services.common.config import SERVICES

READY_TIMEOUT_SECONDS = 180.0  # migrations, then ten processes starting on two busy CPUs
SYSTEM_STOP_SECONDS = 40.0  # `fengqiao run` itself gives its processes 20 s


@dataclass(frozen=True)
class RunningSystem:
    process: Child  # `fengqiao run`
    ports: dict[str, int]  # each API's
    spare_port: int  # free for the part: the console's, or a baseline's

    def url(self, service: str) -> str:
        return f"http://{HOST}:{self.ports[service]}"


def start_system(
    stack: contextlib.ExitStack,
    *,
    part: str,
    workdir: Path,
    redis_url: str,
    postgres_url: str,
    env: Mapping[str, str | None] | None = None,
    spare_port_variable: str | None = None,
) -> RunningSystem:
    """Start the system for the life of `stack`, ready when this returns.

    `env` is added to the services' environment (None unsets a variable);
    `spare_port_variable`, if given, hands the spare port to the system under that name
    (`CONSOLE_PORT`, to measure the console too).
    """
    var_dir = workdir / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    backend = stack.enter_context(backends.redis_postgres(var_dir, redis_url, postgres_url))
    *service_ports, spare_port = free_ports(len(SERVICES) + 1)
    ports = dict(zip(SERVICES, service_ports, strict=True))
    spare: dict[str, str | None] = (
        {spare_port_variable: str(spare_port)} if spare_port_variable else {}
    )
    stack.enter_context(
        overridden(
            {
                **backend.env,
                **{f"{s.upper()}_PORT": str(p) for s, p in ports.items()},
                **spare,
                "FENGQIAO_HOST": HOST,
                "PYTHONPATH": python_path(),
                **(env or {}),
            }
        )
    )
    say(f"{part}: starting the system, logs in {workdir}")
    process = Child("fengqiao run", fengqiao_command(), workdir / "system.log")
    process.start()
    stack.callback(process.stop, SYSTEM_STOP_SECONDS)
    wait_ready(
        [f"http://{HOST}:{port}/readyz" for port in ports.values()],
        [process],
        READY_TIMEOUT_SECONDS,
    )
    return RunningSystem(process=process, ports=ports, spare_port=spare_port)
