"""Open311 GeoReport v2 onto Fengqiao reports and back: pure translations, no I/O.

A form becomes the dict `ReportIn` loads (so every rule of the JSON API applies), and
`ReportIn`'s errors are named back in Open311 terms; a stored report becomes an Open311
service request; the kinds of report, with their attributes, become Open311 services.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from services.intake.models import Report
from services.intake.schemas import HAZARD_CATEGORIES, KINDS, SEVERITIES, STATUSES

Path = tuple[str | int, ...]  # a place in the ReportIn input, e.g. ("parties", 0, "phone")

SUMMARY_LENGTH = 200  # ReportIn's limit on `summary`
MAX_REQUESTS = 1000  # the most requests one list answer holds (and ids one query names)
DEFAULT_REQUESTS = 50  # a list without ids: the newest this many
OPEN_STATUSES = ("received", "routed", "in_progress")
CLOSED_STATUSES = tuple(s for s in STATUSES if s not in OPEN_STATUSES)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Fields of the Open311 standard that Fengqiao has no place for: accepted so that existing
# clients keep working, never stored (`api_key` is read before the form is mapped).
IGNORED_FIELDS = frozenset(
    {"api_key", "jurisdiction_id", "email", "device_id", "account_id", "address_id", "media_url"}
)
# Standard fields that go one-to-one into the ReportIn input.
_STANDARD_TARGETS: dict[str, Path] = {
    "lat": ("location", "lat"),
    "long": ("location", "lon"),
    "address_string": ("location", "address"),
    "phone": ("reporter", "phone"),
}
_ATTRIBUTE_FIELD = re.compile(r"attribute\[([a-z_]+)\]")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Full (+86)13800138000 and masked 138****8000 mobiles, wherever a detail mentions one.
_PHONE = re.compile(r"(?<![\d*])(?:\+?86[ -]?)?1[3-9]\d(?:\d{4}|\*{4})\d{4}(?![\d*])")

STATUS_WORDS = {
    "received": "已受理，等待分派 (received, to be routed)",
    "routed": "已分派至责任单位 (routed to the desk in charge)",
    "in_progress": "正在处理 (in progress)",
    "resolved": "已化解 (resolved)",
    "rewarded": "已奖励 (rewarded)",
    "declined": "不予受理 (declined)",
    "duplicate": "重复报告，并入先前的报告 (a duplicate of an earlier report)",
    "closed": "已办结 (closed)",
}
_HAZARD_NAMES = {
    "wiring": "电线老化、私拉乱接 (wiring)",
    "charging": "电动车违规充电 (charging)",
    "fire_exit": "消防通道堵塞 (fire exit)",
    "gas": "燃气隐患 (gas)",
    "structure": "房屋结构安全 (structure)",
    "other": "其他 (other)",
}
_SEVERITY_NAMES = {"low": "低 (low)", "medium": "中 (medium)", "high": "高 (high)"}
_PHONE_FORMAT = "a Chinese mobile number, e.g. 13800138000 or +86 138-0013-8000"


class Open311Error(Exception):
    """An Open311 error answer: one HTTP status and one description per problem."""

    def __init__(
        self, status: int, descriptions: Sequence[str], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions)
        self.headers = dict(headers or {})

    def body(self) -> list[dict[str, Any]]:
        """The Open311 error array."""
        return [{"code": self.status, "description": text} for text in self.descriptions]


@dataclass(frozen=True)
class Service:
    """One kind of report, as an Open311 service."""

    code: str
    name: str
    description: str
    keywords: str
    group: str


@dataclass(frozen=True)
class Attribute:
    """One Open311 attribute of a service, and where its value goes in the ReportIn input."""

    code: str
    datatype: str
    required: bool
    description: str
    target: Path
    datatype_description: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (key, name) of a fixed singlevaluelist


SERVICES: dict[str, Service] = {
    service.code: service
    for service in (
        Service(
            "dispute",
            "矛盾纠纷 Dispute",
            "两方或多方之间需要调解的纠纷（邻里、家庭、土地等）。"
            "A dispute between two or more parties that needs mediation.",
            "纠纷,调解,矛盾,dispute,mediation,neighbours",
            "矛盾纠纷 Disputes",
        ),
        Service(
            "hazard",
            "安全隐患 Hazard",
            "电线、充电、消防通道、燃气、房屋结构等安全隐患。"
            "A safety hazard: wiring, charging, fire exits, gas or structure.",
            "隐患,消防,电线,充电,燃气,hazard,fire,safety",
            "安全隐患 Hazards",
        ),
        Service(
            "brave_act",
            "见义勇为 Brave act",
            "推荐一位见义勇为的人（事发一年内）。Nominate someone for a brave act "
            "(within one year of the act).",
            "见义勇为,推荐,表彰,brave,nomination,award",
            "表彰推荐 Nominations",
        ),
        Service(
            "good_deed",
            "好人好事 Good deed",
            "推荐一位做了好人好事的人。Nominate someone for a good deed.",
            "好人好事,推荐,表彰,good deed,nomination,award",
            "表彰推荐 Nominations",
        ),
    )
}
assert tuple(SERVICES) == KINDS, "every kind of report is an Open311 service"

_VILLAGE = Attribute(
    "village",
    "singlevaluelist",
    True,
    "村（组）：the village on the station's beat map",
    ("location", "village"),
)
_OCCURRED_AT = Attribute(
    "occurred_at",
    "datetime",
    False,
    "发生时间：when it happened (may not lie in the future)",
    ("occurred_at",),
    "ISO 8601 with an offset, e.g. 2026-11-20T09:30:00+08:00; the time of submission if left out",
)
_NOMINEE = (
    Attribute("nominee_name", "string", True, "被推荐人姓名：the nominee", ("nominee", "name")),
    Attribute(
        "nominee_phone",
        "string",
        True,
        "被推荐人手机：the nominee's mobile",
        ("nominee", "phone"),
        _PHONE_FORMAT,
    ),
)
_KIND_ATTRIBUTES: dict[str, tuple[Attribute, ...]] = {
    "dispute": (
        Attribute(
            "claimant_name",
            "string",
            True,
            "申请方姓名：the party who raises the dispute",
            ("parties", 0, "name"),
        ),
        Attribute(
            "claimant_phone",
            "string",
            False,
            "申请方手机：the claimant's mobile",
            ("parties", 0, "phone"),
            _PHONE_FORMAT,
        ),
        Attribute(
            "respondent_name",
            "string",
            True,
            "被申请方姓名：the other party",
            ("parties", 1, "name"),
        ),
        Attribute(
            "respondent_phone",
            "string",
            False,
            "被申请方手机：the respondent's mobile",
            ("parties", 1, "phone"),
            _PHONE_FORMAT,
        ),
    ),
    "hazard": (
        Attribute(
            "hazard_category",
            "singlevaluelist",
            True,
            "隐患类别：the kind of hazard",
            ("hazard", "category"),
            choices=tuple((key, _HAZARD_NAMES[key]) for key in HAZARD_CATEGORIES),
        ),
        Attribute(
            "severity",
            "singlevaluelist",
            True,
            "严重程度：how serious it is",
            ("hazard", "severity"),
            choices=tuple((key, _SEVERITY_NAMES[key]) for key in SEVERITIES),
        ),
    ),
    "brave_act": _NOMINEE,
    "good_deed": _NOMINEE,
}


def service_of(code: str | None) -> Service:
    """The service with this code; Open311's 400 when none is named, 404 when unknown."""
    if not code:
        raise Open311Error(400, ["service_code: Missing data for required field."])
    if code not in SERVICES:
        raise Open311Error(404, [f"service_code: no service {code!r}"])
    return SERVICES[code]


def attributes_of(code: str) -> tuple[Attribute, ...]:
    """A service's attributes in the order a form shows them."""
    return (_VILLAGE, _OCCURRED_AT, *_KIND_ATTRIBUTES[code])


def every_attribute() -> dict[str, list[str]]:
    """Each attribute code with the services that have it (for the OpenAPI document)."""
    found: dict[str, list[str]] = {}
    for code in SERVICES:
        for attribute in attributes_of(code):
            found.setdefault(attribute.code, []).append(code)
    return found


def service_list() -> list[dict[str, Any]]:
    """Every service, as `GET services.json` answers."""
    return [
        {
            "service_code": s.code,
            "service_name": s.name,
            "description": s.description,
            "metadata": True,  # every service has attributes (at least the village)
            "type": "realtime",
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in SERVICES.values()
    ]


def service_definition(code: str, villages: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A service's attributes, with the beat map's (code, name) villages as the village list."""
    village_values = tuple(villages)
    attributes = []
    for order, attribute in enumerate(attributes_of(service_of(code).code), start=1):
        choices = village_values if attribute is _VILLAGE else attribute.choices
        attributes.append(
            {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description,
                "order": order,
                "description": attribute.description,
                "values": [{"key": key, "name": name} for key, name in choices],
            }
        )
    return {"service_code": code, "attributes": attributes}


@dataclass(frozen=True)
class Draft:
    """A form translated for ReportIn, with what was wrong with the form itself."""

    kind: str
    data: dict[str, Any]
    problems: list[str]


def report_input(
    form: Mapping[str, Sequence[str]], *, now: datetime, files: Collection[str] = ()
) -> Draft:
    """The ReportIn input for an Open311 form; raises Open311Error for a missing/unknown service.

    Empty values count as absent, because form-based clients send every field they know.
    """
    values, problems = _single_values(form)
    kind = service_of(values.pop("service_code", None)).code
    data = _skeleton(kind)
    names: dict[str, str] = {}
    for field, value in values.items():
        if field in ("first_name", "last_name"):
            names[field] = value
        elif (problem := _place(data, kind, field, value)) is not None:
            problems.append(problem)
    problems += [f"{name}: file uploads are not accepted" for name in files]
    data.setdefault("occurred_at", now.isoformat())
    name = full_name(names.get("first_name"), names.get("last_name"))
    if name is not None:
        data["reporter"]["name"] = name
    return Draft(kind=kind, data=data, problems=problems)


def _place(data: dict[str, Any], kind: str, field: str, value: str) -> str | None:
    """Put one form field's value where ReportIn wants it; the problem if it has no place."""
    attribute = _ATTRIBUTE_FIELD.fullmatch(field)
    attributes = {a.code: a for a in attributes_of(kind)}
    if field in IGNORED_FIELDS:
        return None
    if field == "description":
        # The summary is one line: the description's first characters, spaces collapsed.
        data["summary"] = " ".join(value.split())[:SUMMARY_LENGTH].rstrip()
        data["details"] = value
    elif field in _STANDARD_TARGETS:
        _put(data, _STANDARD_TARGETS[field], value)
    elif attribute and attribute.group(1) in attributes:
        _put(data, attributes[attribute.group(1)].target, value)
    elif attribute:
        return f"{field}: not an attribute of service {kind!r}"
    else:
        return f"{field}: unknown field"
    return None


def _single_values(form: Mapping[str, Sequence[str]]) -> tuple[dict[str, str], list[str]]:
    """Each field's one non-empty value, stripped; a field given twice is a problem."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for field, given in form.items():
        if len(given) > 1:
            problems.append(f"{field}: given more than once")
        value = given[0].strip() if given else ""
        if value:
            values[field] = value
    return values, problems


def _skeleton(kind: str) -> dict[str, Any]:
    """The parts of a report of `kind` that attributes fill in."""
    data: dict[str, Any] = {"kind": kind, "location": {}, "reporter": {}}
    if kind == "dispute":
        # Both parties always exist, so a missing name is named by its attribute.
        data["parties"] = [{"role": "claimant"}, {"role": "respondent"}]
    elif kind == "hazard":
        data["hazard"] = {}
    else:
        data["nominee"] = {}
    return data


def _put(data: dict[str, Any], path: Path, value: Any) -> None:
    """Set `value` at `path` inside the nested dicts and lists of `data`."""
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def full_name(first: str | None, last: str | None) -> str | None:
    """A Chinese name family name first, unspaced (陈 + 先生 → 陈先生); others "first last"."""
    if first and last and _CJK.search(first) and _CJK.search(last):
        return last + first
    return " ".join(part for part in (first, last) if part) or None


def field_names(kind: str) -> dict[Path, str]:
    """Each place in the ReportIn input with the Open311 field it comes from."""
    names: dict[Path, str] = {
        ("kind",): "service_code",
        ("summary",): "description",
        ("details",): "description",
        ("reporter", "name"): "first_name/last_name",
    }
    names.update({target: field for field, target in _STANDARD_TARGETS.items()})
    names.update({a.target: f"attribute[{a.code}]" for a in attributes_of(kind)})
    return names


def describe_errors(messages: Mapping[Any, Any], names: Mapping[Path, str]) -> list[str]:
    """One "field: problem; problem" line per Open311 field, in the order they first appear."""
    merged: dict[str, list[str]] = {}
    for path, texts in _flatten(messages):
        known = merged.setdefault(_name_of(path, names), [])
        known += [text for text in texts if text not in known]
    return [f"{name}: {'; '.join(texts)}" for name, texts in merged.items()]


def _flatten(messages: Any, prefix: Path = ()) -> Iterator[tuple[Path, list[str]]]:
    """marshmallow's nested error messages as (path, texts) pairs."""
    if isinstance(messages, Mapping):
        for key, inner in messages.items():
            yield from _flatten(inner, (*prefix, key))
    elif isinstance(messages, list | tuple):
        texts = [str(m) for m in messages if not isinstance(m, Mapping | list | tuple)]
        if texts:
            yield prefix, texts
        for inner in messages:
            if isinstance(inner, Mapping | list | tuple):
                yield from _flatten(inner, prefix)
    else:
        yield prefix, [str(messages)]


def _name_of(path: Path, names: Mapping[Path, str]) -> str:
    """The Open311 name of a place, else its dotted field names (list indexes left out)."""
    if path in names:
        return names[path]
    parts = [str(p) for p in path if isinstance(p, str) and p != "_schema"]
    return ".".join(parts) or "request"


def parse_request_id(text: str) -> uuid.UUID | None:
    """The report id a service_request_id names, or None if it cannot name one."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def created(report: Report) -> dict[str, Any]:
    """The answer to a submission: the request id and the tracking code to tell the resident."""
    code = report.tracking_code
    notice = f"已受理，查询码 {code} (accepted; tracking code {code})"
    if report.status == "duplicate":
        notice += "；与先前报告的隐患相同 (the same hazard was reported before)"
    return {"service_request_id": str(report.id), "service_notice": notice, "account_id": None}


def open_or_closed(status: str) -> str:
    """Open311's two statuses for one of ours."""
    return "open" if status in OPEN_STATUSES else "closed"


def status_notes(report: Report) -> str:
    """The latest timeline entry's detail (else the status in words), with no phone numbers."""
    latest = report.events[-1] if report.events else None
    text = latest.detail if latest is not None and latest.detail else STATUS_WORDS[report.status]
    return redact_phones(text)


def redact_phones(text: str) -> str:
    """`text` with every mobile number, full or masked, replaced by ***."""
    return _PHONE.sub("***", text)


def service_request(
    report: Report, *, agency_responsible: str, village_name: str | None
) -> dict[str, Any]:
    """A stored report as an Open311 service request; phones are never part of it."""
    place = village_name or report.village
    return {
        "service_request_id": str(report.id),
        "status": open_or_closed(report.status),
        "status_notes": status_notes(report),
        "service_name": SERVICES[report.kind].name,
        "service_code": report.kind,
        "description": report.details or report.summary,
        "agency_responsible": agency_responsible,
        "service_notice": f"查询码 {report.tracking_code} (tracking code)",
        "requested_datetime": report.created_at,
        "updated_datetime": report.updated_at,
        "address": f"{place} {report.address}" if report.address else place,
        "lat": report.lat,
        "long": report.lon,
        "media_url": None,
    }


def requests_query(
    agency_id: uuid.UUID,
    *,
    ids: Sequence[str] = (),
    service_codes: Sequence[str] = (),
    statuses: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select[Report]:
    """The agency's reports an Open311 list asks for, newest first, with their timelines.

    As the GeoReport v2 spec says, ids override every other filter; without ids the newest
    DEFAULT_REQUESTS match (a client pages back with end_date).
    """
    query = (
        select(Report)
        .where(Report.agency_id == agency_id)
        .options(selectinload(Report.events))
        .order_by(Report.created_at.desc(), Report.id)
    )
    if ids:
        wanted = [i for i in (parse_request_id(text) for text in ids) if i is not None]
        return query.where(Report.id.in_(wanted)).limit(MAX_REQUESTS)
    if service_codes:
        query = query.where(Report.kind.in_(service_codes))
    wanted_statuses = {
        s for o311 in set(statuses) for s in (OPEN_STATUSES if o311 == "open" else CLOSED_STATUSES)
    }
    if wanted_statuses and wanted_statuses != set(STATUSES):
        query = query.where(Report.status.in_(wanted_statuses))
    if start is not None:
        query = query.where(Report.created_at >= start)
    if end is not None:
        query = query.where(Report.created_at <= end)
    return query.limit(DEFAULT_REQUESTS)
