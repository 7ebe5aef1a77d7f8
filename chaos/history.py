"""The history check: what became of every report, read from the four databases with SQL.

Read directly, not through the services' code or API, so a bug there cannot hide itself.
For every report intake stored:
- exactly one case (dispute), hazard claim (hazard) or nomination (brave act, good deed),
  in the right table and no other; none for a hazard intake linked as a duplicate;
- exactly one acknowledgement SMS in notify's table, under the idempotency key intake
  chose for it, and sent;
- that SMS handed to the provider once: the `log` provider writes one line per send.
And nothing in a `dead_letters` table, in whichever databases have one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg import sql

OWNER_TABLES = {"cases": "mediation", "hazard_claims": "rewards", "nominations": "rewards"}
OWNER_OF_KIND = {
    "dispute": "cases",
    "hazard": "hazard_claims",
    "brave_act": "nominations",
    "good_deed": "nominations",
}
ACK_TEMPLATES = ["report_received", "report_duplicate"]
SENT = ("sent", "delivered")
CONNECT_TIMEOUT_SECONDS = 3


def ack_key(report_id: str) -> str:
    """The idempotency key intake's routing gives a report's acknowledgement."""
    return f"report-received:{report_id}"


@dataclass(frozen=True)
class ReportHistory:
    report_id: str
    kind: str
    created_at: datetime
    duplicate: bool  # a hazard linked to an earlier report of it: no claim, an SMS only
    owners: dict[str, int]  # rows per owner table
    acks: int  # acknowledgement rows for the report
    acks_keyed: int  # … under intake's idempotency key
    acks_sent: int  # … sent (or delivered)
    handoffs: int  # times the provider was handed one of its acknowledgements

    def missing(self) -> list[str]:
        """What the report still lacks."""
        gaps = []
        expected = OWNER_OF_KIND[self.kind]
        if not self.duplicate and self.owners.get(expected, 0) == 0:
            gaps.append(f"no row in {expected}")
        if self.acks_keyed == 0:
            gaps.append("no acknowledgement SMS")
        elif self.acks_sent == 0:
            gaps.append("acknowledgement not sent")
        return gaps

    def extra(self) -> list[str]:
        """What the report has more than once, or should not have at all."""
        found = []
        expected = OWNER_OF_KIND[self.kind]
        for table, rows in self.owners.items():
            allowed = 0 if self.duplicate or table != expected else 1
            if rows > allowed:
                found.append(f"{rows} rows in {table}")
        if self.acks > 1:
            found.append(f"{self.acks} acknowledgement SMS")
        if self.handoffs > 1:
            found.append(f"acknowledgement handed to the provider {self.handoffs} times")
        return found


@dataclass(frozen=True)
class History:
    reports: dict[str, ReportHistory]
    dead_letters: dict[str, int] = field(default_factory=dict)  # service -> rows

    def lost(self, ids: set[str] | None = None) -> dict[str, list[str]]:
        """Reports (of `ids`, else all) still missing something; a 202 never stored is lost too."""
        wanted = set(self.reports) if ids is None else ids
        gaps = {}
        for report_id in wanted:
            history = self.reports.get(report_id)
            missing = ["answered 202 but not stored"] if history is None else history.missing()
            if missing:
                gaps[report_id] = missing
        return gaps

    def duplicated(self) -> dict[str, list[str]]:
        return {rid: extra for rid, h in self.reports.items() if (extra := h.extra())}


class ProviderLog:
    """Counts the `log` provider's lines ("SMS <id> to …") in the system's log, read as it grows."""

    LINE = re.compile(rb"providers\.log: SMS ([0-9a-f-]{36}) to ")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()
        self._offset = 0
        self._partial = b""

    def read(self) -> Counter[str]:
        try:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
        except OSError:
            return self.counts
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if match := self.LINE.search(line):
                self.counts[match.group(1).decode()] += 1
        return self.counts


class HistoryReader:
    """Reads the history from the four databases (a new connection each time: they restart)."""

    def __init__(self, urls: dict[str, str], provider_log: ProviderLog) -> None:
        self.urls = urls
        self.provider_log = provider_log

    def _connect(self, service: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.urls[service], autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )

    def read(self) -> History:
        """The history as it stands; raises psycopg.Error while PostgreSQL is away."""
        handoffs = self.provider_log.read()
        with self._connect("intake") as conn:
            reports: list[tuple[str, str, datetime, bool]] = conn.execute(
                "SELECT id::text, kind, created_at, duplicate_of_id IS NOT NULL FROM reports"
            ).fetchall()  # type: ignore[assignment]
        owners: dict[str, dict[str, int]] = {}
        for table, service in OWNER_TABLES.items():
            with self._connect(service) as conn:
                query = sql.SQL("SELECT report_id::text, count(*) FROM {} GROUP BY 1").format(
                    sql.Identifier(table)
                )
                for rid, rows in conn.execute(query):
                    owners.setdefault(str(rid), {})[table] = int(str(rows))
        acks: dict[str, list[tuple[str, str, str]]] = {}
        with self._connect("notify") as conn:
            rows = conn.execute(
                "SELECT report_id::text, id::text, idempotency_key, status FROM sms_messages"
                " WHERE report_id IS NOT NULL AND template = ANY(%s)",
                (ACK_TEMPLATES,),
            )
            for rid, sms_id, key, status in rows:
                acks.setdefault(str(rid), []).append((str(sms_id), str(key), str(status)))
        histories = {}
        for rid, kind, created_at, duplicate in reports:
            mine = acks.get(rid, [])
            histories[rid] = ReportHistory(
                report_id=rid,
                kind=kind,
                created_at=created_at,
                duplicate=duplicate,
                owners=owners.get(rid, {}),
                acks=len(mine),
                acks_keyed=sum(1 for _, key, _ in mine if key == ack_key(rid)),
                acks_sent=sum(1 for _, _, status in mine if status in SENT),
                handoffs=sum(handoffs[sms_id] for sms_id, _, _ in mine),
            )
        return History(histories, self.dead_letters())

    def dead_letters(self) -> dict[str, int]:
        """Rows in each database's `dead_letters` table, for the databases that have one."""
        found = {}
        for service in self.urls:
            with self._connect(service) as conn:
                exists = conn.execute("SELECT to_regclass('dead_letters') IS NOT NULL").fetchone()
                if exists and exists[0]:
                    counted = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
                    found[service] = int(str(counted[0])) if counted else 0
        return found

    def reports_of_agency(self, name: str) -> int:
        """How many reports intake stored for the agency called `name`."""
        with self._connect("intake") as conn:
            row = conn.execute(
                "SELECT count(*) FROM reports r JOIN agencies a ON a.id = r.agency_id"
                " WHERE a.name = %s",
                (name,),
            ).fetchone()
        return int(str(row[0])) if row else 0
