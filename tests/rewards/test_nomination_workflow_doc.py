"""docs/rewards.md shows the nominations' transition table as it is in the code."""

from __future__ import annotations

import re
from pathlib import Path

from services.rewards.nominations.workflow import (
    TRANSITIONS,
    Action,
    NominationStatus,
    markdown_table,
    mermaid,
)

DOC = Path(__file__).parents[2] / "docs" / "rewards.md"


def block(name: str) -> str:
    found = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", DOC.read_text(), re.S)
    assert found, f"docs/rewards.md lost its {name} markers"
    return found.group(1)


def test_the_diagram_and_the_table_in_the_docs_are_current() -> None:
    assert block("nominations-workflow") == f"```mermaid\n{mermaid()}```\n"
    assert block("nominations-table") == markdown_table()


def test_every_status_is_reachable_and_every_action_has_a_row() -> None:
    reached = {NominationStatus.SUBMITTED} | {
        t.leads_from(s) for t in TRANSITIONS for s in t.sources
    }
    assert reached == set(NominationStatus)
    assert {t.action for t in TRANSITIONS} == set(Action)
