"""The campaign's table, printed and written into docs/reliability.md between two markers."""

from __future__ import annotations

import os
from pathlib import Path

from chaos.campaign import CampaignResult, RowResult, Timing
from services.common.clock import to_station_time

BEGIN = "<!-- chaos:results -->"
END = "<!-- /chaos:results -->"
HEADER = (
    "| fault | accepted | lost | duplicated | 5xx | seconds to recover | verdict |",
    "|---|---:|---:|---:|---:|---:|---|",
)


def _errors(row: RowResult) -> str:
    if row.excused_errors:
        return f"{row.server_errors} ({row.excused_errors} while PostgreSQL was down)"
    return str(row.server_errors)


def _recovered(row: RowResult) -> str:
    if not row.measured:
        return "n/a"
    return "not recovered" if row.recovered is None else f"{row.recovered:.1f}"


def render(result: CampaignResult, timing: Timing) -> str:
    """The table, the notes of each row, and the totals at the end."""
    lines = [*HEADER]
    for row in result.rows:
        verdict = "ok" if row.passed else "FAIL"
        lines.append(
            f"| {row.fault} | {row.accepted} | {row.lost} | {row.duplicated} | {_errors(row)}"
            f" | {_recovered(row)} | {verdict} |"
        )
    lines.append("")
    for row in result.rows:
        said = [*row.failures, *row.notes]
        if said:
            lines.append(f"- **{row.fault}**: " + "; ".join(said) + ".")
    at = to_station_time(result.started_at)
    dead = ", ".join(f"{s} {n}" for s, n in result.dead_letters.items()) or "no such table yet"
    lines += [
        "",
        f"Run {at} (station time), {result.seconds:.0f} s in all, on {os.cpu_count()} CPUs;"
        f" load {timing.rate:g} reports/s from {timing.clients} clients.",
        f"At the end: {result.reports} reports stored, {len(result.lost)} unfinished,"
        f" {len(result.duplicated)} with something twice; dead letters: {dead}.",
    ]
    return "\n".join(lines)


def write_into(doc: Path, rendered: str) -> None:
    """Replace what stands between the markers in `doc` (or add them at its end)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    block = f"{BEGIN}\n{rendered}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = f"{head}{block}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{block}\n" if text else f"{block}\n"
    doc.write_text(text, encoding="utf-8")
