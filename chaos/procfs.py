"""What Linux's /proc says about processes: who is whose child, and who owns a TCP port."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command: state, ppid, pgrp, …"""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ...": the command may hold spaces and parentheses.
    return stat.rsplit(")", 1)[1].split()


def parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[1])


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    return sorted(child for child in _pids() if parent_of(child) == pid)


def command_line(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        fds = list((PROC / str(pid) / "fd").iterdir())
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _connection_inodes(local_port: int, remote_port: int) -> set[int]:
    """The inodes of the TCP sockets from `local_port` to `remote_port` (a client's end)."""
    found: set[int] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            if (local, remote) == (local_port, remote_port):
                found.add(int(fields[9]))
    return found


def owner_of_connection(local_port: int, remote_port: int, among: list[int]) -> int | None:
    """Which of the processes `among` holds the TCP connection `local_port` → `remote_port`."""
    inodes = _connection_inodes(local_port, remote_port)
    if not inodes:
        return None
    return next((pid for pid in among if inodes & _socket_inodes(pid)), None)


def group_of(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[2])


def group_members(pgid: int) -> list[int]:
    """The live processes in process group `pgid`."""
    return sorted(pid for pid in _pids() if group_of(pid) == pgid and alive(pid))
