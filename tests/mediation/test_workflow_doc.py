"""docs/mediation.md shows the transition table as it is in the code."""

from __future__ import annotations

import re
from pathlib import Path

from services.mediation.cases.workflow import (
    TRANSITIONS,
    Action,
    CaseStatus,
    markdown_table,
    mermaid,
)

DOC = Path(__file__).parents[2] / "docs" / "mediation.md"


def block(name: str) -> str:
    found = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", DOC.read_text(), re.S)
    assert found, f"docs/mediation.md lost its {name} markers"
    return found.group(1)


def test_the_diagram_and_the_table_in_the_docs_are_current() -> None:
    assert block("workflow") == f"```mermaid\n{mermaid()}```\n"
    assert block("table") == markdown_table()


def test_every_status_is_reachable_and_every_action_has_a_row() -> None:
    reached = {CaseStatus.AWAITING_ACCEPTANCE} | {
        t.leads_from(s) for t in TRANSITIONS for s in t.sources
    }
    assert reached == set(CaseStatus)
    assert {t.action for t in TRANSITIONS} == set(Action)
