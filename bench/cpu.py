"""CPU seconds a server spends on a load: the noise-proof beside requests per second.

On a shared machine the rate of a run moves with whatever else runs; the CPU time the
server's own processes spend per accepted request moves much less. It is read from
/proc for a process and its descendants (a gunicorn master and its workers), before and
after the load.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

from bench.load import LoadResult
from chaos.procfs import PROC, children_of

_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    found = [pid]
    for child in children_of(pid):
        found += _tree(child)
    return found


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of one process so far; 0 if it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def with_server_cpu(root_pid: int, load: Callable[[], LoadResult]) -> LoadResult:
    """`load()`'s result with the CPU seconds `root_pid`'s process tree spent meanwhile.

    The processes are those alive when the load starts; one that exits meanwhile (a
    worker replaced) takes its CPU time with it, so the figure is then a lower bound.
    """
    pids = _tree(root_pid)
    before = {pid: _cpu_seconds(pid) for pid in pids}
    result = load()
    spent = sum(max(0.0, _cpu_seconds(pid) - before[pid]) for pid in pids)
    return replace(result, server_cpu_seconds=spent)
