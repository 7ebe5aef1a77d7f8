"""This process's environment during a run, shared by `fengqiao run` and the baselines."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# The directory holding the `bench` package, so subprocesses can import `bench.*`
# whatever directory the benchmark was started from.
SOURCE_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@contextmanager
def overridden(values: Mapping[str, str | None]) -> Iterator[None]:
    """`os.environ` with `values` set (None unsets), restored afterwards.

    The services read their settings from the environment (`demo_key()`, `load_settings()`,
    `plan()`), so this process needs the same environment as the system it starts.
    """
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            _assign(name, value)
        yield
    finally:
        for name, value in saved.items():
            _assign(name, value)


def _assign(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def python_path() -> str:
    """PYTHONPATH with this source tree first."""
    current = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(p for p in (str(SOURCE_ROOT), current) if p)


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on right now, all different (each is held until all are found)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
